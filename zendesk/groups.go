package zendesk

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"time"
)

// Group is a Zendesk group of agents.
type Group struct {
	ID          int64     `json:"id"`
	URL         string    `json:"url,omitempty"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Default     bool      `json:"default"`
	Deleted     bool      `json:"deleted"`
	IsPublic    bool      `json:"is_public"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// CreateGroupRequest is the body of a group creation. Optional fields are pointers so
// that an empty description or a private group (false) can be sent explicitly.
type CreateGroupRequest struct {
	// Name is required and must not be blank.
	Name        string  `json:"name"`
	Description *string `json:"description,omitempty"`
	// IsPublic defaults to true on Zendesk's side. A private group can never be made
	// public again, so set it deliberately.
	IsPublic *bool `json:"is_public,omitempty"`
}

// UpdateGroupRequest is the body of a group update: only non-nil fields are sent.
type UpdateGroupRequest struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
	// IsPublic can turn a public group private, not the reverse (Zendesk answers 422).
	IsPublic *bool `json:"is_public,omitempty"`
}

// GroupsService reads and changes groups.
type GroupsService service

type groupBody struct {
	Group *Group `json:"group"`
}

// List iterates over the account's groups, a page of up to 100 per request (cursor
// pagination).
func (s *GroupsService) List(ctx context.Context) iter.Seq2[Group, error] {
	return listCursor[Group](ctx, s.client, "groups", nil, "groups")
}

// Get returns one group.
func (s *GroupsService) Get(ctx context.Context, id int64) (*Group, *Response, error) {
	if err := checkID("group id", id); err != nil {
		return nil, nil, fmt.Errorf("zendesk: get group: %w", err)
	}
	var body groupBody
	resp, err := s.client.call(ctx, http.MethodGet, "groups/"+itoa(id), nil, nil, &body)
	return body.Group, resp, err
}

// Create creates a group (admins, or agents whose custom role may manage groups).
func (s *GroupsService) Create(ctx context.Context, group *CreateGroupRequest) (*Group, *Response, error) {
	if group == nil || strings.TrimSpace(group.Name) == "" {
		return nil, nil, errors.New("zendesk: create group: name is required")
	}
	var body groupBody
	resp, err := s.client.call(ctx, http.MethodPost, "groups", nil, map[string]any{"group": group}, &body)
	return body.Group, resp, err
}

// Update changes the fields of update that are not nil.
func (s *GroupsService) Update(ctx context.Context, id int64, update *UpdateGroupRequest) (*Group, *Response, error) {
	if err := checkID("group id", id); err != nil {
		return nil, nil, fmt.Errorf("zendesk: update group: %w", err)
	}
	if update == nil {
		return nil, nil, fmt.Errorf("zendesk: update group %d: nothing to update", id)
	}
	if update.Name != nil && strings.TrimSpace(*update.Name) == "" {
		return nil, nil, fmt.Errorf("zendesk: update group %d: name must not be blank", id)
	}
	var body groupBody
	resp, err := s.client.call(ctx, http.MethodPut, "groups/"+itoa(id), nil, map[string]any{"group": update}, &body)
	return body.Group, resp, err
}

// Delete deletes a group. Zendesk keeps it, marked Deleted, and removes its memberships.
func (s *GroupsService) Delete(ctx context.Context, id int64) (*Response, error) {
	if err := checkID("group id", id); err != nil {
		return nil, fmt.Errorf("zendesk: delete group: %w", err)
	}
	return s.client.call(ctx, http.MethodDelete, "groups/"+itoa(id), nil, nil, nil)
}

// Count is the answer of a count endpoint. Zendesk counts approximately above 100,000
// records and refreshes such counts once a day: RefreshedAt says when the value was
// computed, and is nil while a large count is being refreshed (the value is then capped
// at 100,000).
type Count struct {
	Value       int64      `json:"value"`
	RefreshedAt *time.Time `json:"refreshed_at"`
}

// CountUsers returns how many users are members of a group (GET
// /groups/{id}/users/count): one request, whatever the group's size, which tells a
// caller how many pages listing its memberships would take. A deleted group has none.
func (s *GroupsService) CountUsers(ctx context.Context, id int64) (*Count, *Response, error) {
	if err := checkID("group id", id); err != nil {
		return nil, nil, fmt.Errorf("zendesk: count group users: %w", err)
	}
	var body struct {
		Count *Count `json:"count"`
	}
	resp, err := s.client.call(ctx, http.MethodGet, "groups/"+itoa(id)+"/users/count", nil, nil, &body)
	if err == nil && body.Count == nil {
		err = errors.New("zendesk: count group users: the answer has no count")
	}
	return body.Count, resp, err
}

// checkID rejects ids Zendesk can never have, before any request is sent, so that a
// zero id from an unset field is not turned into a request for "/groups/0".
func checkID(name string, id int64) error {
	if id <= 0 {
		return fmt.Errorf("%s must be positive, got %d", name, id)
	}
	return nil
}

// checkIDs applies checkID to every id of a bulk call.
func checkIDs(name string, ids []int64) error {
	for i, id := range ids {
		if id <= 0 {
			return fmt.Errorf("%s[%d] must be positive, got %d", name, i, id)
		}
	}
	return nil
}

// errSeq is a list that yields err and ends, for lists whose arguments are invalid.
func errSeq[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}
