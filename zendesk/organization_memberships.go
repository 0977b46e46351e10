package zendesk

import "time"

// OrganizationMembership places a user in an organization. Zendesk sends "default" as
// null rather than false for a membership that is not the default; Default is false then.
type OrganizationMembership struct {
	ID               int64     `json:"id"`
	URL              string    `json:"url,omitempty"`
	UserID           int64     `json:"user_id"`
	OrganizationID   int64     `json:"organization_id"`
	OrganizationName string    `json:"organization_name,omitempty"`
	Default          bool      `json:"-"`
	ViewTickets      bool      `json:"view_tickets"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// OrganizationMembershipsService reads and changes organization memberships.
type OrganizationMembershipsService service
