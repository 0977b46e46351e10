package zendesk

import (
	"context"
	"fmt"
	"net/http"
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

// maxCustomRolePages bounds List's page loop, in case next_page never ends.
const maxCustomRolePages = 100

// List returns all of the account's custom roles. Zendesk documents the list as
// unpaginated, but real answers carry an offset next_page, which List follows. The
// Response is the last page's.
func (s *CustomRolesService) List(ctx context.Context) ([]CustomRole, *Response, error) {
	var out []CustomRole
	next := "custom_roles"
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if page == maxCustomRolePages {
			return out, nil, fmt.Errorf("zendesk: list custom roles: more than %d pages; stopping", maxCustomRolePages)
		}
		req, err := s.client.newRequest(ctx, http.MethodGet, next, nil, nil)
		if err != nil {
			return out, nil, err
		}
		resp, raw, err := s.client.doRaw(req)
		if err != nil {
			return out, resp, err
		}
		p, err := decodePage[CustomRole](raw, "custom_roles")
		if err != nil {
			return out, resp, &DecodeError{Method: req.Method, Path: req.URL.Path, StatusCode: resp.StatusCode, RequestID: resp.RequestID, Err: err}
		}
		out = append(out, p.Items...)
		seen[next] = true
		if p.NextPage == "" || len(p.Items) == 0 {
			return out, resp, nil
		}
		if seen[p.NextPage] {
			return out, resp, fmt.Errorf("zendesk: list custom roles: next_page %q repeats an earlier page", p.NextPage)
		}
		next = p.NextPage
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
