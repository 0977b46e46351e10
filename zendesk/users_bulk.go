package zendesk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The users' bulk endpoints. Each call takes 1 to MaxBulkItems users and answers at once
// with a queued background job; what happened to each user is only known from the
// job's results (JobStatuses.Wait), one per user. Zendesk lists them in the order of the
// users in its examples and the simulator does so, but Zendesk does not document the
// order. Zendesk limits how many jobs of an account may be queued or running at once
// (30, by third-party accounts) and answers 429 past that, which the client retries
// after its Retry-After like any other 429.

// UserUpdate is one item of Users.UpdateMany: the id of the user to change and the
// fields to change (only non-nil fields are sent).
type UserUpdate struct {
	ID int64 `json:"id"`
	UpdateUserRequest
}

// CreateMany creates up to MaxBulkItems users in one background job, each as Create
// would: a user whose email is taken, or an agent past the account's seats, is a
// failed item of the job (Index set), not an error of the call. A created user's
// result has ID and Index.
//
// Zendesk answers 403 (ErrForbidden) on accounts where it has not enabled bulk user
// imports, which it ships disabled. CreateMany is not retried when the outcome of an
// attempt is unknown (a transport error or a 5xx other than a 503 with a Retry-After):
// a second job would create again the users that have neither an email nor an
// external id to be refused on. Use CreateOrUpdateMany when that matters.
func (s *UsersService) CreateMany(ctx context.Context, users []CreateUserRequest) (*JobStatus, *Response, error) {
	if err := checkNewUsers(users, func(u *CreateUserRequest) error {
		if strings.TrimSpace(u.Name) == "" {
			return errors.New("name is required")
		}
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("zendesk: create users: %w", err)
	}
	var body jobStatusBody
	resp, err := s.client.call(ctx, http.MethodPost, "users/create_many", nil, map[string]any{"users": users}, &body)
	return body.JobStatus, resp, err
}

// CreateOrUpdateMany creates or updates up to MaxBulkItems users in one background
// job, each as CreateOrUpdate would: a user matching the email or external id is
// updated, any other is created. Results have Status JobResultCreated or
// JobResultUpdated; a failed creation has Index, a failed update ID.
//
// Zendesk answers 403 (ErrForbidden) on accounts where it has not enabled bulk user
// imports, which it ships disabled. Repeating the call is harmless (a second job finds
// the users the first created and updates them to the same values), so it is retried
// like a read when the outcome of an attempt is unknown.
func (s *UsersService) CreateOrUpdateMany(ctx context.Context, users []CreateUserRequest) (*JobStatus, *Response, error) {
	if err := checkNewUsers(users, func(u *CreateUserRequest) error {
		if u.Email == "" && u.ExternalID == nil {
			return errors.New("email or external id is required to match on")
		}
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("zendesk: create or update users: %w", err)
	}
	var body jobStatusBody
	resp, err := s.client.postRetryable(ctx, "users/create_or_update_many", map[string]any{"users": users}, &body)
	return body.JobStatus, resp, err
}

// UpdateMany applies a different update to each of up to MaxBulkItems users in one
// background job ({"users":[{"id":...},...]}), each as Update would. Each user may
// appear once. Results have Status JobResultUpdated, or are failures (RecordNotFound
// for a user that does not exist).
//
// These updates are not Update calls: the client does not pace them with
// WithUserUpdateLimit. Like every PUT, UpdateMany is retried when the outcome of an
// attempt is unknown; repeating an update is harmless.
func (s *UsersService) UpdateMany(ctx context.Context, updates []UserUpdate) (*JobStatus, *Response, error) {
	if err := checkBulkSize(len(updates)); err != nil {
		return nil, nil, fmt.Errorf("zendesk: update users: %w", err)
	}
	if err := checkDistinctIDs(len(updates), func(i int) int64 { return updates[i].ID }); err != nil {
		return nil, nil, fmt.Errorf("zendesk: update users: %w", err)
	}
	var body jobStatusBody
	resp, err := s.client.call(ctx, http.MethodPut, "users/update_many", nil, map[string]any{"users": updates}, &body)
	return body.JobStatus, resp, err
}

// UpdateManyByIDs applies the same update to up to MaxBulkItems users, named by id
// (PUT /users/update_many?ids=...), in one background job. Each id may appear once.
// Results, pacing and retries are those of UpdateMany.
func (s *UsersService) UpdateManyByIDs(ctx context.Context, ids []int64, update *UpdateUserRequest) (*JobStatus, *Response, error) {
	if err := checkBulkSize(len(ids)); err != nil {
		return nil, nil, fmt.Errorf("zendesk: update users: %w", err)
	}
	if err := checkIDs("user ids", ids); err != nil {
		return nil, nil, fmt.Errorf("zendesk: update users: %w", err)
	}
	if err := checkDistinctIDs(len(ids), func(i int) int64 { return ids[i] }); err != nil {
		return nil, nil, fmt.Errorf("zendesk: update users: %w", err)
	}
	if update == nil {
		return nil, nil, errors.New("zendesk: update users: nothing to update")
	}
	var body jobStatusBody
	q := url.Values{"ids": {strings.Join(int64Strings(ids), ",")}}
	resp, err := s.client.call(ctx, http.MethodPut, "users/update_many", q, map[string]any{"user": update}, &body)
	return body.JobStatus, resp, err
}

// checkNewUsers validates the users of a create_many or create_or_update_many call:
// 1 to MaxBulkItems, each passing check.
func checkNewUsers(users []CreateUserRequest, check func(*CreateUserRequest) error) error {
	if err := checkBulkSize(len(users)); err != nil {
		return err
	}
	for i := range users {
		if err := check(&users[i]); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
	}
	return nil
}

// checkDistinctIDs refuses non-positive and repeated user ids: a second update of a
// user in the same job would be applied after the first, which is never what a caller
// means, and its result could not be told apart from the first's.
func checkDistinctIDs(n int, id func(i int) int64) error {
	seen := make(map[int64]int, n)
	for i := range n {
		v := id(i)
		if v <= 0 {
			return fmt.Errorf("item %d: user id must be positive, got %d", i, v)
		}
		if j, dup := seen[v]; dup {
			return fmt.Errorf("item %d: user id %d is already item %d; give each user once", i, v, j)
		}
		seen[v] = i
	}
	return nil
}
