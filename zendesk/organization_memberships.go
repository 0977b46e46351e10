package zendesk

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"
)

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

// orgMembershipFields is OrganizationMembership without its methods, so that encoding it
// does not recurse into MarshalJSON and UnmarshalJSON.
type orgMembershipFields OrganizationMembership

// orgMembershipJSON is the wire form: the outer Default takes the "default" key, which
// the embedded fields leave free (json:"-"), and reads null as nil.
type orgMembershipJSON struct {
	orgMembershipFields
	Default *bool `json:"default"`
}

// UnmarshalJSON reads "default" as true only when Zendesk sent true: both false and the
// null Zendesk sends for a non-default membership become false.
func (m *OrganizationMembership) UnmarshalJSON(data []byte) error {
	var w orgMembershipJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*m = OrganizationMembership(w.orgMembershipFields)
	m.Default = w.Default != nil && *w.Default
	return nil
}

// MarshalJSON writes the membership with "default" as a plain boolean (never null), so
// that a membership survives a round trip through JSON.
func (m OrganizationMembership) MarshalJSON() ([]byte, error) {
	def := m.Default
	return json.Marshal(orgMembershipJSON{orgMembershipFields: orgMembershipFields(m), Default: &def})
}

// OrganizationMembershipPair names one membership to create in bulk.
type OrganizationMembershipPair struct {
	UserID         int64 `json:"user_id"`
	OrganizationID int64 `json:"organization_id"`
}

// OrganizationMembershipsService reads and changes organization memberships.
type OrganizationMembershipsService service

type orgMembershipBody struct {
	OrganizationMembership *OrganizationMembership `json:"organization_membership"`
}

// List iterates over every organization membership of the account (cursor pagination).
func (s *OrganizationMembershipsService) List(ctx context.Context) iter.Seq2[OrganizationMembership, error] {
	return listCursor[OrganizationMembership](ctx, s.client, "organization_memberships", nil, "organization_memberships")
}

// ListByUser iterates over one user's organization memberships, the default first.
func (s *OrganizationMembershipsService) ListByUser(ctx context.Context, userID int64) iter.Seq2[OrganizationMembership, error] {
	return listUnder[OrganizationMembership](ctx, s.client, "users", "user id", userID, "organization_memberships", "organization_memberships")
}

// ListByOrganization iterates over the memberships of one organization.
func (s *OrganizationMembershipsService) ListByOrganization(ctx context.Context, orgID int64) iter.Seq2[OrganizationMembership, error] {
	return listUnder[OrganizationMembership](ctx, s.client, "organizations", "organization id", orgID, "organization_memberships", "organization_memberships")
}

// Get returns one membership by its own id.
func (s *OrganizationMembershipsService) Get(ctx context.Context, membershipID int64) (*OrganizationMembership, *Response, error) {
	if err := checkID("membership id", membershipID); err != nil {
		return nil, nil, fmt.Errorf("zendesk: get organization membership: %w", err)
	}
	var body orgMembershipBody
	resp, err := s.client.call(ctx, http.MethodGet, "organization_memberships/"+itoa(membershipID), nil, nil, &body)
	return body.OrganizationMembership, resp, err
}

// Create adds a user to an organization. Admins may add anyone; agents only end users.
//
// If the user is already a member Zendesk answers 422 with a DuplicateValue detail and
// IsDuplicate(err) reports true. Because a repeat is detectable that way, Create is
// retried like a read when the outcome of an attempt is unknown; a retry after a lost
// success therefore surfaces as a duplicate, which callers should treat as success.
//
// On accounts without "multiple organizations" (Account.Settings reports
// User.MultipleOrganizations) a user belongs to one organization only, and adding them
// to another may move them rather than add a second membership.
func (s *OrganizationMembershipsService) Create(ctx context.Context, userID, orgID int64) (*OrganizationMembership, *Response, error) {
	if err := checkID("user id", userID); err != nil {
		return nil, nil, fmt.Errorf("zendesk: create organization membership: %w", err)
	}
	if err := checkID("organization id", orgID); err != nil {
		return nil, nil, fmt.Errorf("zendesk: create organization membership: %w", err)
	}
	body := map[string]any{"organization_membership": OrganizationMembershipPair{UserID: userID, OrganizationID: orgID}}
	var out orgMembershipBody
	resp, err := s.client.postRetryable(ctx, "organization_memberships", body, &out)
	return out.OrganizationMembership, resp, err
}

// Delete removes a membership by its own id. Zendesk sets the organization of the
// user's working tickets in that organization to null.
func (s *OrganizationMembershipsService) Delete(ctx context.Context, membershipID int64) (*Response, error) {
	if err := checkID("membership id", membershipID); err != nil {
		return nil, fmt.Errorf("zendesk: delete organization membership: %w", err)
	}
	return s.client.call(ctx, http.MethodDelete, "organization_memberships/"+itoa(membershipID), nil, nil, nil)
}

// Unassign removes a user from an organization by the user's and the organization's
// ids, for callers that do not know the membership id.
func (s *OrganizationMembershipsService) Unassign(ctx context.Context, userID, orgID int64) (*Response, error) {
	if err := checkID("user id", userID); err != nil {
		return nil, fmt.Errorf("zendesk: unassign organization: %w", err)
	}
	if err := checkID("organization id", orgID); err != nil {
		return nil, fmt.Errorf("zendesk: unassign organization: %w", err)
	}
	return s.client.call(ctx, http.MethodDelete, "users/"+itoa(userID)+"/organizations/"+itoa(orgID), nil, nil, nil)
}

// MakeDefault makes one of the user's memberships the default (the user's
// organization_id). It returns all of the user's memberships.
func (s *OrganizationMembershipsService) MakeDefault(ctx context.Context, userID, membershipID int64) ([]OrganizationMembership, *Response, error) {
	if err := checkID("user id", userID); err != nil {
		return nil, nil, fmt.Errorf("zendesk: make organization membership default: %w", err)
	}
	if err := checkID("membership id", membershipID); err != nil {
		return nil, nil, fmt.Errorf("zendesk: make organization membership default: %w", err)
	}
	var body struct {
		OrganizationMemberships []OrganizationMembership `json:"organization_memberships"`
	}
	path := "users/" + itoa(userID) + "/organization_memberships/" + itoa(membershipID) + "/make_default"
	resp, err := s.client.call(ctx, http.MethodPut, path, nil, nil, &body)
	return body.OrganizationMemberships, resp, err
}

// CreateMany creates up to MaxBulkItems memberships in one background job. The job's
// per-item failures are only visible in its results: wait for it with JobStatuses.Wait.
func (s *OrganizationMembershipsService) CreateMany(ctx context.Context, pairs []OrganizationMembershipPair) (*JobStatus, *Response, error) {
	if err := checkPairs(len(pairs), func(i int) (int64, int64) { return pairs[i].UserID, pairs[i].OrganizationID }, "organization id"); err != nil {
		return nil, nil, fmt.Errorf("zendesk: create organization memberships: %w", err)
	}
	var body jobStatusBody
	resp, err := s.client.call(ctx, http.MethodPost, "organization_memberships/create_many", nil,
		map[string]any{"organization_memberships": pairs}, &body)
	return body.JobStatus, resp, err
}

// DestroyMany deletes up to MaxBulkItems memberships, by their own ids, in one
// background job.
func (s *OrganizationMembershipsService) DestroyMany(ctx context.Context, membershipIDs []int64) (*JobStatus, *Response, error) {
	if err := checkBulkIDs(membershipIDs); err != nil {
		return nil, nil, fmt.Errorf("zendesk: destroy organization memberships: %w", err)
	}
	var body jobStatusBody
	resp, err := s.client.call(ctx, http.MethodDelete, "organization_memberships/destroy_many",
		url.Values{"ids": {strings.Join(int64Strings(membershipIDs), ",")}}, nil, &body)
	return body.JobStatus, resp, err
}
