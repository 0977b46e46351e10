package zendesk

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// GroupMembership places an agent in a group. Its ID is the membership's own id, which
// is what Delete and MakeDefault take.
type GroupMembership struct {
	ID        int64     `json:"id"`
	URL       string    `json:"url,omitempty"`
	UserID    int64     `json:"user_id"`
	GroupID   int64     `json:"group_id"`
	Default   bool      `json:"default"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// GroupMembershipPair names one membership to create in bulk.
type GroupMembershipPair struct {
	UserID  int64 `json:"user_id"`
	GroupID int64 `json:"group_id"`
}

// MaxBulkItems is how many items Zendesk accepts in one bulk call (create_many,
// create_or_update_many, update_many, destroy_many). The bulk methods refuse more
// rather than split, because each call is a separate job the caller has to wait for.
const MaxBulkItems = 100

// GroupMembershipsService reads and changes group memberships.
type GroupMembershipsService service

type groupMembershipBody struct {
	GroupMembership *GroupMembership `json:"group_membership"`
}

// List iterates over every group membership of the account (cursor pagination).
func (s *GroupMembershipsService) List(ctx context.Context) iter.Seq2[GroupMembership, error] {
	return listCursor[GroupMembership](ctx, s.client, "group_memberships", nil, "group_memberships")
}

// ListByUser iterates over the group memberships of one agent.
func (s *GroupMembershipsService) ListByUser(ctx context.Context, userID int64) iter.Seq2[GroupMembership, error] {
	return listUnder[GroupMembership](ctx, s.client, "users", "user id", userID, "group_memberships", "group_memberships")
}

// ListByGroup iterates over the memberships of one group.
func (s *GroupMembershipsService) ListByGroup(ctx context.Context, groupID int64) iter.Seq2[GroupMembership, error] {
	return listUnder[GroupMembership](ctx, s.client, "groups", "group id", groupID, "memberships", "group_memberships")
}

// Get returns one membership by its own id (not the user's or the group's).
func (s *GroupMembershipsService) Get(ctx context.Context, membershipID int64) (*GroupMembership, *Response, error) {
	if err := checkID("membership id", membershipID); err != nil {
		return nil, nil, fmt.Errorf("zendesk: get group membership: %w", err)
	}
	var body groupMembershipBody
	resp, err := s.client.call(ctx, http.MethodGet, "group_memberships/"+itoa(membershipID), nil, nil, &body)
	return body.GroupMembership, resp, err
}

// Create puts an agent in a group. The user must be an agent or admin.
//
// If the agent is already in the group Zendesk answers 422 and IsDuplicate(err) reports
// true. Because a repeat is detectable that way, Create is retried like a read when the
// outcome of an attempt is unknown; a retry after a lost success therefore surfaces as a
// duplicate, which callers granting access should treat as success.
func (s *GroupMembershipsService) Create(ctx context.Context, userID, groupID int64) (*GroupMembership, *Response, error) {
	if err := checkID("user id", userID); err != nil {
		return nil, nil, fmt.Errorf("zendesk: create group membership: %w", err)
	}
	if err := checkID("group id", groupID); err != nil {
		return nil, nil, fmt.Errorf("zendesk: create group membership: %w", err)
	}
	body := map[string]any{"group_membership": GroupMembershipPair{UserID: userID, GroupID: groupID}}
	var out groupMembershipBody
	resp, err := s.client.postRetryable(ctx, "group_memberships", body, &out)
	return out.GroupMembership, resp, err
}

// Delete removes a membership by its own id. The removal is immediate; Zendesk then
// unassigns the agent's working tickets in that group in the background.
func (s *GroupMembershipsService) Delete(ctx context.Context, membershipID int64) (*Response, error) {
	if err := checkID("membership id", membershipID); err != nil {
		return nil, fmt.Errorf("zendesk: delete group membership: %w", err)
	}
	return s.client.call(ctx, http.MethodDelete, "group_memberships/"+itoa(membershipID), nil, nil, nil)
}

// MakeDefault makes one of the agent's memberships the default (tickets assigned to the
// agent directly land in that group). It returns all of the agent's memberships.
func (s *GroupMembershipsService) MakeDefault(ctx context.Context, userID, membershipID int64) ([]GroupMembership, *Response, error) {
	if err := checkID("user id", userID); err != nil {
		return nil, nil, fmt.Errorf("zendesk: make group membership default: %w", err)
	}
	if err := checkID("membership id", membershipID); err != nil {
		return nil, nil, fmt.Errorf("zendesk: make group membership default: %w", err)
	}
	var body struct {
		GroupMemberships []GroupMembership `json:"group_memberships"`
	}
	path := "users/" + itoa(userID) + "/group_memberships/" + itoa(membershipID) + "/make_default"
	resp, err := s.client.call(ctx, http.MethodPut, path, nil, nil, &body)
	return body.GroupMemberships, resp, err
}

// CreateMany creates up to MaxBulkItems memberships in one background job. The job's
// per-item failures are only visible in its results: wait for it with JobStatuses.Wait.
func (s *GroupMembershipsService) CreateMany(ctx context.Context, pairs []GroupMembershipPair) (*JobStatus, *Response, error) {
	if err := checkPairs(len(pairs), func(i int) (int64, int64) { return pairs[i].UserID, pairs[i].GroupID }, "group id"); err != nil {
		return nil, nil, fmt.Errorf("zendesk: create group memberships: %w", err)
	}
	var body jobStatusBody
	resp, err := s.client.call(ctx, http.MethodPost, "group_memberships/create_many", nil,
		map[string]any{"group_memberships": pairs}, &body)
	return body.JobStatus, resp, err
}

// DestroyMany deletes up to MaxBulkItems memberships, by their own ids, in one
// background job.
func (s *GroupMembershipsService) DestroyMany(ctx context.Context, membershipIDs []int64) (*JobStatus, *Response, error) {
	if err := checkBulkIDs(membershipIDs); err != nil {
		return nil, nil, fmt.Errorf("zendesk: destroy group memberships: %w", err)
	}
	var body jobStatusBody
	resp, err := s.client.call(ctx, http.MethodDelete, "group_memberships/destroy_many",
		url.Values{"ids": {strings.Join(int64Strings(membershipIDs), ",")}}, nil, &body)
	return body.JobStatus, resp, err
}

// checkPairs validates the (user, other) pairs of a bulk membership creation.
func checkPairs(n int, pair func(i int) (int64, int64), otherName string) error {
	if err := checkBulkSize(n); err != nil {
		return err
	}
	for i := range n {
		user, other := pair(i)
		if user <= 0 {
			return fmt.Errorf("item %d: user id must be positive, got %d", i, user)
		}
		if other <= 0 {
			return fmt.Errorf("item %d: %s must be positive, got %d", i, otherName, other)
		}
	}
	return nil
}

// checkBulkIDs validates the membership ids of a destroy_many call.
func checkBulkIDs(ids []int64) error {
	if err := checkBulkSize(len(ids)); err != nil {
		return err
	}
	return checkIDs("membership ids", ids)
}

func checkBulkSize(n int) error {
	switch {
	case n == 0:
		return errors.New("no items given")
	case n > MaxBulkItems:
		return fmt.Errorf("%d items given, Zendesk accepts at most %d per call; split them", n, MaxBulkItems)
	}
	return nil
}
