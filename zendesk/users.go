package zendesk

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Role is a user's built-in role.
type Role string

// The built-in roles.
const (
	RoleEndUser Role = "end-user"
	RoleAgent   Role = "agent"
	RoleAdmin   Role = "admin"
)

// Role types Zendesk reports in User.RoleType and CustomRole.RoleType.
const (
	RoleTypeCustomAgent  = 0
	RoleTypeLightAgent   = 1
	RoleTypeChatAgent    = 2
	RoleTypeContributor  = 3
	RoleTypeAdmin        = 4
	RoleTypeBillingAdmin = 5
)

// User is a Zendesk user as the API returns it. Nullable fields are pointers.
type User struct {
	ID                   int64          `json:"id"`
	URL                  string         `json:"url,omitempty"`
	Name                 string         `json:"name"`
	Email                string         `json:"email,omitempty"`
	Role                 Role           `json:"role"`
	RoleType             *int           `json:"role_type"`
	CustomRoleID         *int64         `json:"custom_role_id"`
	DefaultGroupID       *int64         `json:"default_group_id"`
	OrganizationID       *int64         `json:"organization_id"`
	ExternalID           *string        `json:"external_id"`
	Active               bool           `json:"active"`
	Suspended            bool           `json:"suspended"`
	Verified             bool           `json:"verified"`
	Shared               bool           `json:"shared"`
	SharedAgent          bool           `json:"shared_agent"`
	RestrictedAgent      bool           `json:"restricted_agent"`
	Moderator            bool           `json:"moderator"`
	OnlyPrivateComments  bool           `json:"only_private_comments"`
	ChatOnly             bool           `json:"chat_only"`
	TicketRestriction    *string        `json:"ticket_restriction"`
	TwoFactorAuthEnabled *bool          `json:"two_factor_auth_enabled"`
	Locale               string         `json:"locale,omitempty"`
	TimeZone             string         `json:"time_zone,omitempty"`
	Phone                *string        `json:"phone"`
	Tags                 []string       `json:"tags,omitempty"`
	UserFields           map[string]any `json:"user_fields,omitempty"`
	LastLoginAt          *time.Time     `json:"last_login_at"`
	CreatedAt            time.Time      `json:"created_at"`
	UpdatedAt            time.Time      `json:"updated_at"`
}

// IsTeamMember reports whether the user is an agent or admin (a "team member" in
// Zendesk's terms, who holds a seat unless a light agent or contributor).
func (u *User) IsTeamMember() bool { return u.Role == RoleAgent || u.Role == RoleAdmin }

// CreateUserRequest is the body of a user creation. Optional fields are pointers so
// that false, zero and null can be sent.
type CreateUserRequest struct {
	Name            string         `json:"name"`
	Email           string         `json:"email,omitempty"`
	Role            Role           `json:"role,omitempty"`
	CustomRoleID    *int64         `json:"custom_role_id,omitempty"`
	DefaultGroupID  *int64         `json:"default_group_id,omitempty"`
	OrganizationID  *int64         `json:"organization_id,omitempty"`
	ExternalID      *string        `json:"external_id,omitempty"`
	Verified        *bool          `json:"verified,omitempty"`
	SkipVerifyEmail *bool          `json:"skip_verify_email,omitempty"`
	Tags            []string       `json:"tags,omitempty"`
	UserFields      map[string]any `json:"user_fields,omitempty"`
}

// UpdateUserRequest is the body of a user update: only non-nil fields are sent. The ids
// that can be cleared (CustomRoleID, DefaultGroupID, OrganizationID) take SetID(id) to
// set them and ClearID() to send null.
type UpdateUserRequest struct {
	Name           *string        `json:"name,omitempty"`
	Email          *string        `json:"email,omitempty"`
	Role           *Role          `json:"role,omitempty"`
	CustomRoleID   *NullableInt64 `json:"custom_role_id,omitempty"`
	DefaultGroupID *NullableInt64 `json:"default_group_id,omitempty"`
	OrganizationID *NullableInt64 `json:"organization_id,omitempty"`
	ExternalID     *string        `json:"external_id,omitempty"`
	Suspended      *bool          `json:"suspended,omitempty"`
	Verified       *bool          `json:"verified,omitempty"`
	Tags           []string       `json:"tags,omitempty"`
	UserFields     map[string]any `json:"user_fields,omitempty"`
}

// NullableInt64 is an id that can be sent as a value or as JSON null.
type NullableInt64 struct {
	Value int64
	Null  bool
}

// MarshalJSON writes the value, or null.
func (n NullableInt64) MarshalJSON() ([]byte, error) {
	if n.Null {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, n.Value, 10), nil
}

// SetID returns a NullableInt64 holding id.
func SetID(id int64) *NullableInt64 { return &NullableInt64{Value: id} }

// ClearID returns a NullableInt64 that is sent as null (to clear a field).
func ClearID() *NullableInt64 { return &NullableInt64{Null: true} }

// Ptr returns a pointer to v, for optional request fields.
func Ptr[T any](v T) *T { return &v }

// UserListOptions filters Users.List. Zero values send nothing.
type UserListOptions struct {
	// Roles filters by built-in role (several are OR'ed).
	Roles []Role
	// PermissionSet filters by custom role id (Enterprise).
	PermissionSet int64
	// ExternalID filters by external id.
	ExternalID string
}

func (o *UserListOptions) values() url.Values {
	q := url.Values{}
	if o == nil {
		return q
	}
	switch len(o.Roles) {
	case 0:
	case 1:
		q.Set("role", string(o.Roles[0]))
	default:
		for _, r := range o.Roles {
			q.Add("role[]", string(r))
		}
	}
	if o.PermissionSet != 0 {
		q.Set("permission_set", strconv.FormatInt(o.PermissionSet, 10))
	}
	if o.ExternalID != "" {
		q.Set("external_id", o.ExternalID)
	}
	return q
}

// UsersService reads and changes users.
type UsersService service

type userBody struct {
	User *User `json:"user"`
}

// List iterates over users, a page of up to 100 per request (cursor pagination).
func (s *UsersService) List(ctx context.Context, opts *UserListOptions) iter.Seq2[User, error] {
	return listCursor[User](ctx, s.client, "users", opts.values(), "users")
}

// Get returns one user.
func (s *UsersService) Get(ctx context.Context, id int64) (*User, *Response, error) {
	if err := checkID("user id", id); err != nil {
		return nil, nil, fmt.Errorf("zendesk: get user: %w", err)
	}
	var body userBody
	resp, err := s.client.call(ctx, http.MethodGet, "users/"+itoa(id), nil, nil, &body)
	return body.User, resp, err
}

// Me returns the user the credentials act as.
func (s *UsersService) Me(ctx context.Context) (*User, *Response, error) {
	var body userBody
	resp, err := s.client.call(ctx, http.MethodGet, "users/me", nil, nil, &body)
	return body.User, resp, err
}

// maxShowMany is Zendesk's limit of ids per show_many request.
const maxShowMany = 100

// GetMany returns the users with the given ids (up to 100 per request; more ids are
// fetched in several requests). Ids that do not exist are absent from the result.
func (s *UsersService) GetMany(ctx context.Context, ids []int64) ([]User, error) {
	if err := checkIDs("user ids", ids); err != nil {
		return nil, fmt.Errorf("zendesk: get users: %w", err)
	}
	return showMany[User](ctx, s.client, "users/show_many", "ids", int64Strings(ids), "users")
}

// GetManyByExternalID returns the users with the given external ids.
func (s *UsersService) GetManyByExternalID(ctx context.Context, externalIDs []string) ([]User, error) {
	for i, id := range externalIDs {
		// Zendesk splits the list on commas: such an id would be read as two.
		if id == "" || strings.Contains(id, ",") {
			return nil, fmt.Errorf("zendesk: get users: external ids[%d] %q cannot be looked up (empty or contains a comma)", i, id)
		}
	}
	return showMany[User](ctx, s.client, "users/show_many", "external_ids", externalIDs, "users")
}

// Search iterates over users matching a search query (Zendesk's search syntax, e.g.
// "email:ann@example.com"). User search has no cursor pagination: it is offset-paginated
// and Zendesk stops at 10,000 results.
func (s *UsersService) Search(ctx context.Context, query string) iter.Seq2[User, error] {
	return listOffset[User](ctx, s.client, "users/search", url.Values{"query": {query}}, "users")
}

// SearchByEmail returns the users whose email is exactly email (normally zero or one).
func (s *UsersService) SearchByEmail(ctx context.Context, email string) ([]User, error) {
	if strings.TrimSpace(email) == "" {
		return nil, errors.New("zendesk: search users: email is required")
	}
	var out []User
	for u, err := range s.Search(ctx, "email:"+email) {
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(u.Email, email) {
			out = append(out, u)
		}
	}
	return out, nil
}

// SearchByExternalID returns the users with the given external id.
func (s *UsersService) SearchByExternalID(ctx context.Context, externalID string) ([]User, error) {
	if externalID == "" {
		return nil, errors.New("zendesk: search users: external id is required")
	}
	return Collect(listOffset[User](ctx, s.client, "users/search", url.Values{"external_id": {externalID}}, "users"))
}

// Create creates a user. Zendesk answers 422 (*APIError, ErrInvalid) when the email is
// taken or the account has no agent seat left for an agent.
func (s *UsersService) Create(ctx context.Context, user *CreateUserRequest) (*User, *Response, error) {
	if user == nil || strings.TrimSpace(user.Name) == "" {
		return nil, nil, fmt.Errorf("zendesk: create user: name is required")
	}
	var body userBody
	resp, err := s.client.call(ctx, http.MethodPost, "users", nil, map[string]any{"user": user}, &body)
	return body.User, resp, err
}

// CreateOrUpdate creates the user or, if one matches its email or external id, updates
// it. created reports which (201 versus 200). Repeating it is harmless, so it is retried
// like a read when the outcome of an attempt is unknown.
func (s *UsersService) CreateOrUpdate(ctx context.Context, user *CreateUserRequest) (u *User, created bool, resp *Response, err error) {
	if user == nil || (user.Email == "" && user.ExternalID == nil) {
		return nil, false, nil, fmt.Errorf("zendesk: create or update user: email or external id is required to match on")
	}
	var body userBody
	resp, err = s.client.postRetryable(ctx, "users/create_or_update", map[string]any{"user": user}, &body)
	if err != nil {
		return nil, false, resp, err
	}
	return body.User, resp.StatusCode == http.StatusCreated, resp, nil
}

// Update changes the fields of update that are not nil. Zendesk accepts few updates of
// one user a minute (five); the client paces them (see WithUserUpdateLimit), so an
// update over the limit waits in Update rather than meet a 429.
func (s *UsersService) Update(ctx context.Context, id int64, update *UpdateUserRequest) (*User, *Response, error) {
	if err := checkID("user id", id); err != nil {
		return nil, nil, fmt.Errorf("zendesk: update user: %w", err)
	}
	if update == nil {
		return nil, nil, fmt.Errorf("zendesk: update user %d: nothing to update", id)
	}
	req, err := s.client.newRequest(ctx, http.MethodPut, "users/"+itoa(id), nil, map[string]any{"user": update})
	if err != nil {
		return nil, nil, err
	}
	if m := metaOf(req.Context()); m != nil {
		m.updatedUser = id
	}
	var body userBody
	resp, err := s.client.do(req, &body)
	return body.User, resp, err
}

// Suspend suspends the user. A suspended agent still holds a seat.
func (s *UsersService) Suspend(ctx context.Context, id int64) (*User, *Response, error) {
	return s.Update(ctx, id, &UpdateUserRequest{Suspended: Ptr(true)})
}

// Unsuspend lifts a suspension.
func (s *UsersService) Unsuspend(ctx context.Context, id int64) (*User, *Response, error) {
	return s.Update(ctx, id, &UpdateUserRequest{Suspended: Ptr(false)})
}

// Delete soft-deletes the user: it leaves the lists, keeps its tickets, and can be
// deleted permanently with DeletedUsers.PermanentlyDelete.
func (s *UsersService) Delete(ctx context.Context, id int64) (*User, *Response, error) {
	if err := checkID("user id", id); err != nil {
		return nil, nil, fmt.Errorf("zendesk: delete user: %w", err)
	}
	var body userBody
	resp, err := s.client.call(ctx, http.MethodDelete, "users/"+itoa(id), nil, nil, &body)
	return body.User, resp, err
}

// IncrementalExport iterates over users changed since start, through the cursor-based
// incremental export (admins only; 10 requests a minute, which the client paces in a
// bucket of its own). start must be at least a minute in the past.
func (s *UsersService) IncrementalExport(ctx context.Context, start time.Time) iter.Seq2[User, error] {
	q := url.Values{"start_time": {strconv.FormatInt(start.Unix(), 10)}}
	return listExport[User](ctx, s.client, "incremental/users/cursor", q, "users")
}

// DeletedUsersService lists soft-deleted users and deletes them for good.
type DeletedUsersService service

// List iterates over soft-deleted users.
func (s *DeletedUsersService) List(ctx context.Context) iter.Seq2[User, error] {
	return listCursor[User](ctx, s.client, "deleted_users", nil, "deleted_users")
}

// Get returns one soft-deleted user.
func (s *DeletedUsersService) Get(ctx context.Context, id int64) (*User, *Response, error) {
	if err := checkID("user id", id); err != nil {
		return nil, nil, fmt.Errorf("zendesk: get deleted user: %w", err)
	}
	var body struct {
		User *User `json:"deleted_user"`
	}
	resp, err := s.client.call(ctx, http.MethodGet, "deleted_users/"+itoa(id), nil, nil, &body)
	return body.User, resp, err
}

// PermanentlyDelete erases a soft-deleted user (irreversible; Zendesk allows 700 every
// ten minutes). The user must have been soft-deleted first.
func (s *DeletedUsersService) PermanentlyDelete(ctx context.Context, id int64) (*User, *Response, error) {
	if err := checkID("user id", id); err != nil {
		return nil, nil, fmt.Errorf("zendesk: permanently delete user: %w", err)
	}
	var body struct {
		User *User `json:"deleted_user"`
	}
	resp, err := s.client.call(ctx, http.MethodDelete, "deleted_users/"+itoa(id), nil, nil, &body)
	return body.User, resp, err
}

// showMany fetches items by id in batches of 100.
func showMany[T any](ctx context.Context, c *Client, path, param string, ids []string, key string) ([]T, error) {
	var out []T
	for len(ids) > 0 {
		n := min(len(ids), maxShowMany)
		batch := ids[:n]
		ids = ids[n:]
		p, err := fetchPage[T](ctx, c, path, url.Values{param: {strings.Join(batch, ",")}}, key)
		if err != nil {
			return out, err
		}
		out = append(out, p.Items...)
	}
	return out, nil
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func int64Strings(ids []int64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = itoa(id)
	}
	return out
}
