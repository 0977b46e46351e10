package zendesk

import "time"

// CustomRole is an agent role defined by the account (Enterprise plans and above).
type CustomRole struct {
	ID              int64          `json:"id"`
	Name            string         `json:"name"`
	Description     string         `json:"description"`
	RoleType        int            `json:"role_type"`
	TeamMemberCount int            `json:"team_member_count"`
	Configuration   map[string]any `json:"configuration,omitempty"`
	CreatedAt       time.Time      `json:"created_at"`
	UpdatedAt       time.Time      `json:"updated_at"`
}

// CustomRolesService reads custom roles.
type CustomRolesService service
