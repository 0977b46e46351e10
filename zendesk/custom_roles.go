package zendesk

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"time"
)

// CustomRole is an agent role defined by the account (Enterprise plans and above).
// Agents hold one through User.CustomRoleID; there is no role-membership endpoint, so
// list a role's holders with Users.List and UserListOptions.PermissionSet.
type CustomRole struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// RoleType is one of the RoleType constants (RoleTypeCustomAgent, ...).
	RoleType        int `json:"role_type"`
	TeamMemberCount int `json:"team_member_count"`
	// Configuration holds the role's permission flags, e.g. "manage_group_memberships"
	// (bool) or "ticket_access" ("all", "within-groups", ...). Zendesk adds flags often,
	// so they are kept as decoded JSON rather than a struct.
	Configuration map[string]any `json:"configuration,omitempty"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
}

// CustomRolesService reads custom roles. Custom roles exist on Enterprise plans and
// above; on other plans Zendesk answers 403, which errors.Is(err, ErrForbidden) reports
// (Zendesk does not document that answer: it has been seen, not promised).
type CustomRolesService service

// maxCustomRolePages bounds List's pages, in case next_page never ends.
const maxCustomRolePages = 100

// List iterates over the account's custom roles. Zendesk documents the list as
// unpaginated, but real answers carry an offset next_page, which List follows (up to
// 100 pages). On plans without custom roles the iterator yields one error, matching
// ErrForbidden.
func (s *CustomRolesService) List(ctx context.Context) iter.Seq2[CustomRole, error] {
	return func(yield func(CustomRole, error) bool) {
		pages := 0
		next := func(p *page[CustomRole]) (string, url.Values, bool, error) {
			pages++
			switch {
			case p.NextPage == "" || len(p.Items) == 0:
				return "", nil, true, nil
			case pages == maxCustomRolePages:
				return "", nil, false, fmt.Errorf("more than %d pages; stopping", maxCustomRolePages)
			}
			return p.NextPage, nil, false, nil
		}
		for role, err := range walk(ctx, s.client, "custom_roles", nil, "custom_roles", next) {
			if !yield(role, err) {
				return
			}
		}
	}
}

// Get returns one custom role.
func (s *CustomRolesService) Get(ctx context.Context, id int64) (*CustomRole, *Response, error) {
	if err := checkID("custom role id", id); err != nil {
		return nil, nil, fmt.Errorf("zendesk: get custom role: %w", err)
	}
	var body struct {
		CustomRole *CustomRole `json:"custom_role"`
	}
	resp, err := s.client.call(ctx, http.MethodGet, "custom_roles/"+itoa(id), nil, nil, &body)
	return body.CustomRole, resp, err
}
