package zendesk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fixtureCheck decodes one fixture file and reports what is wrong with the result.
type fixtureCheck func(body []byte) error

// fixtureRule maps the fixture files whose path (relative to the fixtures folder, with
// slashes) matches pattern to the decoding that must succeed for them.
type fixtureRule struct {
	pattern string
	check   fixtureCheck
}

// fixtureRules covers every JSON fixture: TestFixturesDecode fails for a file that no
// rule (or more than one) matches, so a new fixture cannot be skipped silently.
var fixtureRules = []fixtureRule{
	// nukosuke/go-zendesk (offset pagination).
	{`^nukosuke-go-zendesk/GET/users\.json$`, listFixture("users", nil, validUser)},
	{`^nukosuke-go-zendesk/(GET|PUT)/user\.json$`, oneFixture("user", nil, validUser)},
	{`^nukosuke-go-zendesk/POST/users\.json$`, oneFixture("user", nil, validUser)},
	{`^nukosuke-go-zendesk/GET/search_user\.json$`, listFixture("results", nil, validUser)},
	{`^nukosuke-go-zendesk/GET/user_related\.json$`, oneFixture("user_related", strictly[userRelated], validUserRelated)},
	{`^nukosuke-go-zendesk/GET/groups\.json$`, listFixture("groups", strictly[Group], validGroup)},
	{`^nukosuke-go-zendesk/GET/group\.json$`, oneFixture("group", strictly[Group], validGroup)},
	{`^nukosuke-go-zendesk/(POST|PUT)/groups\.json$`, oneFixture("group", strictly[Group], validGroup)},
	// Search results carry "result_type", which Group does not model.
	{`^nukosuke-go-zendesk/GET/search_group\.json$`, listFixture("results", nil, validGroup)},
	{`^nukosuke-go-zendesk/GET/group_memberships\.json$`, listFixture("group_memberships", strictly[GroupMembership], validGroupMembership)},
	{`^nukosuke-go-zendesk/GET/organizations\.json$`, listFixture("organizations", strictly[Organization], validOrganization)},
	{`^nukosuke-go-zendesk/(GET|POST|PUT)/organization\.json$`, oneFixture("organization", strictly[Organization], validOrganization)},
	{`^nukosuke-go-zendesk/GET/organization_memberships\.json$`, listFixture("organization_memberships", strictly[orgMembershipJSON], validOrgMembership)},
	{`^nukosuke-go-zendesk/(POST|PUT)/organization_membership\.json$`, oneFixture("organization_membership", strictly[orgMembershipJSON], validOrgMembership)},

	// aaronellington/zendesk-go (real answers, cursor pagination).
	{`^aaronellington-zendesk-go/custom_role/list_page_[12]_200\.json$`, listFixture("custom_roles", strictly[CustomRole], validCustomRole)},
	{`^aaronellington-zendesk-go/custom_role/show_200\.json$`, oneFixture("custom_role", strictly[CustomRole], validCustomRole)},
	{`^aaronellington-zendesk-go/group_membership/list_page[12]_200\.json$`, listFixture("group_memberships", strictly[GroupMembership], validGroupMembership)},
	{`^aaronellington-zendesk-go/group_membership/create_200\.json$`, oneFixture("group_membership", strictly[GroupMembership], validGroupMembership)},
	{`^aaronellington-zendesk-go/organization_membership/list_page1_200\.json$`, listFixture("organization_memberships", strictly[orgMembershipJSON], validOrgMembership)},
	{`^aaronellington-zendesk-go/organization_membership/(create|show)_200\.json$`, oneFixture("organization_membership", strictly[orgMembershipJSON], validOrgMembership)},
	{`^aaronellington-zendesk-go/users/(create_201|show_200)\.json$`, oneFixture("user", nil, validUser)},
	{`^aaronellington-zendesk-go/errors/422_record_invalid\.json$`, errorFixture(422, APIError{Code: "RecordInvalid", Description: "Record validation errors",
		Details: map[string][]ErrorDetail{"status": {{Description: "Status: closed prevents ticket update"}}}}, ErrInvalid)},
	{`^aaronellington-zendesk-go/errors/api_rate_limit_exceeded_429\.json$`, errorFixture(429, APIError{Code: "APIRateLimitExceeded",
		Description: "Number of allowed incremental export API requests per minute exceeded"}, ErrRateLimited)},
	{`^aaronellington-zendesk-go/organization_membership/create_422\.json$`, errorFixture(422, APIError{Code: "RecordInvalid", Description: "Record validation errors",
		Details: map[string][]ErrorDetail{"user_id": {{Description: " This user is already a member of this organization.", Error: "DuplicateValue"}}}}, ErrDuplicate)},
	{`^aaronellington-zendesk-go/users/create_422\.json$`, errorFixture(422, APIError{Code: "RecordInvalid", Description: "Record validation errors",
		Details: map[string][]ErrorDetail{"name": {{Description: "Name: is too short (minimum one character)", Error: "ValueTooShort"}}}}, ErrInvalid)},
	{`^aaronellington-zendesk-go/tickets/show_401\.json$`, errorFixture(401, APIError{Code: "Couldn't authenticate you"}, ErrUnauthorized)},
	{`^aaronellington-zendesk-go/tickets/show_404\.json$`, errorFixture(404, APIError{Code: "RecordNotFound", Description: "Not found"}, ErrNotFound)},
	{`^aaronellington-zendesk-go/tickets/show_404_wrong_subdomain\.json$`, errorFixture(404, APIError{Title: "No help desk at example.zendesk.com",
		Description: "There is no help desk configured at this address. This means that the address is available and that you can claim it at http://www.zendesk.com/signup"}, ErrNotFound)},

	// Examples of the official OpenAPI document: responses.
	{`^oas-examples/(ListUsers|ListGroupUsers|SearchUsers|ShowManyUsers)__200__`, listFixture("users", nil, validUser)},
	{`^oas-examples/(ShowUser|ShowCurrentUser|UpdateUser|DeleteUser|CreateOrUpdateUser)__200__`, oneFixture("user", nil, validUser)},
	{`^oas-examples/(CreateUser|CreateOrUpdateUser)__201__`, oneFixture("user", nil, validUser)},
	{`^oas-examples/IncrementalUserExportCursor__200__`, allChecks(listFixture("users", nil, validUser), exportFixture(true))},
	{`^oas-examples/IncrementalUserExportTime__200__`, listFixture("users", nil, validUser)},
	{`^oas-examples/ListDeletedUsers__200__`, listFixture("deleted_users", nil, validUser)},
	{`^oas-examples/(ShowDeletedUser|PermanentlyDeleteUser)__200__`, oneFixture("deleted_user", nil, validUser)},
	{`^oas-examples/(CountDeletedUsers|CountUserGroups|CountUserOrganizations)__200__`, oneFixture("count", strictly[Count], validCount)},
	{`^oas-examples/(ListGroups|ListUserGroups)__200__`, listFixture("groups", strictly[Group], validGroup)},
	{`^oas-examples/(ShowGroupById|UpdateGroup)__200__`, oneFixture("group", strictly[Group], validGroup)},
	{`^oas-examples/CreateGroup__201__`, oneFixture("group", strictly[Group], validGroup)},
	{`^oas-examples/(ListGroupMemberships|ListGroupMembershipsByGroup|ListUserGroupMemberships|ListAssignableGroupMemberships|GroupMembershipSetDefault)__200__`,
		listFixture("group_memberships", strictly[GroupMembership], validGroupMembership)},
	{`^oas-examples/(ShowGroupMembershipById|ShowUserGroupMembershipById)__200__`, oneFixture("group_membership", strictly[GroupMembership], validGroupMembership)},
	{`^oas-examples/(CreateGroupMembership|CreateUserGroupMembership)__201__`, oneFixture("group_membership", strictly[GroupMembership], validGroupMembership)},
	{`^oas-examples/(ListOrganizations|ListUserOrganizations|SearchOrganizations|ShowManyOrganizations)__200__`, listFixture("organizations", strictly[Organization], validOrganization)},
	{`^oas-examples/(ShowOrganization|UpdateOrganization)__200__`, oneFixture("organization", strictly[Organization], validOrganization)},
	{`^oas-examples/CreateOrganization__201__`, oneFixture("organization", strictly[Organization], validOrganization)},
	{`^oas-examples/(ListOrganizationMemberships|ListOrganizationMembershipsByOrganization|ListUserOrganizationMemberships|SetOrganizationMembershipAsDefault)__200__`,
		listFixture("organization_memberships", strictly[orgMembershipJSON], validOrgMembership)},
	{`^oas-examples/(ShowOrganizationMembershipById|ShowOrganizationMembershipByUserId|SetOrganizationAsDefault)__200__`,
		oneFixture("organization_membership", strictly[orgMembershipJSON], validOrgMembership)},
	{`^oas-examples/(CreateOrganizationMembership|CreateUserOrganizationMembership)__201__`, oneFixture("organization_membership", strictly[orgMembershipJSON], validOrgMembership)},
	{`^oas-examples/ListCustomRoles__200__`, listFixture("custom_roles", strictly[CustomRole], validCustomRole)},
	{`^oas-examples/(ShowCustomRoleById|UpdateCustomRoleById|CreateCustomRole)__200__`, oneFixture("custom_role", strictly[CustomRole], validCustomRole)},
	{`^oas-examples/(ListJobStatuses|ShowManyJobStatuses)__200__`, listFixture("job_statuses", strictJobStatus, validJobStatus)},
	{`^oas-examples/(ShowJobStatus|CreateManyUsers|CreateOrUpdateManyUsers|UpdateManyUsers|DestroyManyUsers|GroupMembershipBulkCreate|GroupMembershipBulkDelete|CreateManyOrganizationMemberships|DeleteManyOrganizationMemberships)__200__`,
		oneFixture("job_status", strictJobStatus, validJobStatus)},
	{`^oas-examples/ListUserOrganizations__403__`, errorFixture(403, APIError{Code: "Forbidden"}, ErrForbidden)},
	{`^oas-examples/ListUserOrganizations__404__`, errorFixture(404, APIError{Code: "RecordNotFound"}, ErrNotFound)},
	{`^oas-examples/UpdateOrganization__429__`, errorFixture(429, APIError{Code: "TooManyRequests",
		Errors: []ErrorItem{{Code: "TooManyRequests", Title: "Too many requests to update"}}}, ErrRateLimited)},

	// Examples of the official OpenAPI document: request bodies, decoded into the
	// request types (users.go's UpdateUserRequest cannot be decoded: NullableInt64 has
	// no UnmarshalJSON, so the update_many example goes into User).
	{`^oas-examples/CreateGroup__request__`, oneFixture("group", strictly[CreateGroupRequest], func(r CreateGroupRequest) error { return nonZero("name", r.Name) })},
	{`^oas-examples/UpdateGroup__request__`, oneFixture("group", strictly[UpdateGroupRequest], func(r UpdateGroupRequest) error {
		return nonZero("name", r.Name != nil && r.Description != nil)
	})},
	{`^oas-examples/CreateGroupMembership__request__`, oneFixture("group_membership", strictly[GroupMembershipPair], validPair)},
	// POST /users/{id}/group_memberships (not implemented) takes the group only.
	{`^oas-examples/CreateUserGroupMembership__request__`, oneFixture("group_membership", strictly[GroupMembershipPair], func(p GroupMembershipPair) error { return nonZero("group_id", p.GroupID) })},
	{`^oas-examples/GroupMembershipBulkCreate__request__`, listFixture("group_memberships", strictly[GroupMembershipPair], validPair)},
	{`^oas-examples/CreateOrganization__request__`, oneFixture("organization", strictly[CreateOrganizationRequest], func(r CreateOrganizationRequest) error { return nonZero("name", r.Name) })},
	{`^oas-examples/(CreateUser|CreateOrUpdateUser)__request__`, oneFixture("user", nil, validUserRequest)},
	{`^oas-examples/(CreateManyUsers|CreateOrUpdateManyUsers)__request__`, listFixture("users", nil, validUserRequest)},
	{`^oas-examples/UpdateUser__request__`, oneFixture("user", nil, func(r UpdateUserRequest) error { return nonZero("name", r.Name != nil) })},
	{`^oas-examples/UpdateManyUsers__request__`, oneFixture("user", nil, func(u User) error { return nonZero("organization_id", u.OrganizationID != nil) })},
}

func TestFixturesDecode(t *testing.T) {
	t.Parallel()
	dir := fixtureDir(t)
	rules := make([]*regexp.Regexp, len(fixtureRules))
	for i, r := range fixtureRules {
		rules[i] = regexp.MustCompile(r.pattern)
	}
	used := make([]int, len(fixtureRules))
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no fixtures under %s", dir)
	}
	for _, rel := range files {
		var matched []int
		for i, re := range rules {
			if re.MatchString(rel) {
				matched = append(matched, i)
			}
		}
		switch len(matched) {
		case 0:
			t.Errorf("fixture %s is not covered by fixtureRules: add a rule", rel)
			continue
		case 1:
		default:
			t.Errorf("fixture %s matches %d rules (%v); make the patterns exclusive", rel, len(matched), matched)
			continue
		}
		used[matched[0]]++
		check := fixtureRules[matched[0]].check
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
			if err != nil {
				t.Fatal(err)
			}
			if err := check(body); err != nil {
				t.Error(err)
			}
		})
	}
	for i, n := range used {
		if n == 0 {
			t.Errorf("rule %q matches no fixture: remove it or fix the pattern", fixtureRules[i].pattern)
		}
	}
}

// listFixture decodes a list page with decodePage under key, checks every item with
// valid, and, if strict is set, decodes every item again with it.
func listFixture[T any](key string, strict func(json.RawMessage) error, valid func(T) error) fixtureCheck {
	return func(body []byte) error {
		p, err := decodePage[T](body, key)
		if err != nil {
			return fmt.Errorf("decode %q page into []%T: %w", key, *new(T), err)
		}
		if len(p.Items) == 0 {
			return fmt.Errorf("%q page is empty", key)
		}
		for i, item := range p.Items {
			if err := valid(item); err != nil {
				return fmt.Errorf("%s[%d]: %w", key, i, err)
			}
		}
		if strict == nil {
			return nil
		}
		raws, err := decodePage[json.RawMessage](body, key)
		if err != nil {
			return err
		}
		for i, raw := range raws.Items {
			if err := strict(raw); err != nil {
				return fmt.Errorf("%s[%d]: strict: %w", key, i, err)
			}
		}
		return nil
	}
}

// oneFixture decodes the object under key into T, checks it with valid and, if strict
// is set, decodes it again with it.
func oneFixture[T any](key string, strict func(json.RawMessage) error, valid func(T) error) fixtureCheck {
	return func(body []byte) error {
		var wrapper map[string]json.RawMessage
		if err := json.Unmarshal(body, &wrapper); err != nil {
			return err
		}
		raw, ok := wrapper[key]
		if !ok {
			return fmt.Errorf("no %q key", key)
		}
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("decode %q into %T: %w", key, v, err)
		}
		if err := valid(v); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		if strict != nil {
			if err := strict(raw); err != nil {
				return fmt.Errorf("%s: strict: %w", key, err)
			}
		}
		return nil
	}
}

// errorFixture decodes an error body the way the client does and compares the result;
// the APIError, given the status, must also match sentinel.
func errorFixture(status int, want APIError, sentinel error) fixtureCheck {
	return func(body []byte) error {
		got := APIError{StatusCode: status}
		decodeErrorBody(&got, body)
		want.StatusCode = status
		if diff := cmp.Diff(want, got); diff != "" {
			return fmt.Errorf("APIError mismatch (-want +got):\n%s", diff)
		}
		if !errors.Is(&got, sentinel) {
			return fmt.Errorf("%v does not match %v", &got, sentinel)
		}
		return nil
	}
}

// exportFixture checks the export pagination fields of an incremental export page.
func exportFixture(wantEnd bool) fixtureCheck {
	return func(body []byte) error {
		p, err := decodePage[User](body, "users")
		if err != nil {
			return err
		}
		if !p.seenEnd || p.EndOfStream != wantEnd || p.AfterURL == "" {
			return fmt.Errorf("export page: end_of_stream seen=%v value=%v, after_url %q", p.seenEnd, p.EndOfStream, p.AfterURL)
		}
		return nil
	}
}

func allChecks(checks ...fixtureCheck) fixtureCheck {
	return func(body []byte) error {
		for _, c := range checks {
			if err := c(body); err != nil {
				return err
			}
		}
		return nil
	}
}

// strictly decodes raw into W refusing fields W does not have, so that a field the
// model misses (or misnames) shows up. Types with their own UnmarshalJSON are checked
// through their wire type (orgMembershipJSON, strictJobStatus), since strictness does
// not reach inside a custom decoder.
func strictly[W any](raw json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var w W
	return dec.Decode(&w)
}

// strictJobStatus checks a job status strictly, results included.
func strictJobStatus(raw json.RawMessage) error {
	var w jobStatusJSON
	if err := strictly[jobStatusJSON](raw); err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return err
	}
	results := bytes.TrimSpace(w.Results)
	switch {
	case len(results) == 0 || string(results) == "null":
		return nil
	case results[0] == '{':
		return strictly[JobResult](results)
	default:
		return strictly[[]JobResult](results)
	}
}

// userRelated is GET /users/{id}/related, which the client does not call.
type userRelated struct {
	AssignedTickets           int `json:"assigned_tickets"`
	CCDTickets                int `json:"ccd_tickets"`
	OrganizationSubscriptions int `json:"organization_subscriptions"`
	RequestedTickets          int `json:"requested_tickets"`
}

func nonZero[V comparable](name string, v V) error {
	var zero V
	if v == zero {
		return fmt.Errorf("%s is zero (%v)", name, v)
	}
	return nil
}

func validUser(u User) error {
	return errors.Join(nonZero("id", u.ID), nonZero("name", u.Name))
}

func validUserRequest(u CreateUserRequest) error {
	return errors.Join(nonZero("name", u.Name), nonZero("email", u.Email), nonZero("role", u.Role))
}

func validGroup(g Group) error {
	return errors.Join(nonZero("id", g.ID), nonZero("name", g.Name), nonZero("created_at", !g.CreatedAt.IsZero()))
}

func validGroupMembership(m GroupMembership) error {
	return errors.Join(nonZero("id", m.ID), nonZero("user_id", m.UserID), nonZero("group_id", m.GroupID), nonZero("created_at", !m.CreatedAt.IsZero()))
}

func validPair(p GroupMembershipPair) error {
	return errors.Join(nonZero("user_id", p.UserID), nonZero("group_id", p.GroupID))
}

func validOrganization(o Organization) error {
	return errors.Join(nonZero("id", o.ID), nonZero("name", o.Name), nonZero("created_at", !o.CreatedAt.IsZero()))
}

func validOrgMembership(m OrganizationMembership) error {
	return errors.Join(nonZero("id", m.ID), nonZero("user_id", m.UserID), nonZero("organization_id", m.OrganizationID), nonZero("created_at", !m.CreatedAt.IsZero()))
}

func validCustomRole(r CustomRole) error {
	return errors.Join(nonZero("id", r.ID), nonZero("name", r.Name), nonZero("configuration", len(r.Configuration) > 0),
		nonZero("created_at", !r.CreatedAt.IsZero()))
}

func validJobStatus(j JobStatus) error {
	errs := []error{nonZero("id", j.ID), nonZero("status", j.Status)}
	for i, r := range j.Results {
		if r.ID == 0 && r.Success == nil {
			errs = append(errs, fmt.Errorf("results[%d] has neither id nor success", i))
		}
	}
	return errors.Join(errs...)
}

func validCount(c Count) error {
	return errors.Join(nonZero("value", c.Value), nonZero("refreshed_at", c.RefreshedAt != nil && !c.RefreshedAt.IsZero()))
}

func validUserRelated(r userRelated) error {
	return nonZero("requested_tickets", r.RequestedTickets)
}

// TestFixturesRoleType pins the type mismatches the fixtures exercise: role_type is a
// number or null, and custom_role_id and organization_id may be null.
func TestFixturesRoleType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file         string
		wantRoleType *int
		wantCustom   *int64
	}{
		{"aaronellington-zendesk-go/users/show_200.json", Ptr(RoleTypeAdmin), nil},
		{"aaronellington-zendesk-go/users/create_201.json", nil, nil},
		{"oas-examples/CreateUser__201__default.json", Ptr(RoleTypeCustomAgent), Ptr[int64](123456)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			var body userBody
			if err := json.Unmarshal(fixture(t, tt.file), &body); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantRoleType, body.User.RoleType); diff != "" {
				t.Errorf("role_type (-want +got):\n%s", diff)
			}
			if tt.wantCustom != nil {
				if diff := cmp.Diff(tt.wantCustom, body.User.CustomRoleID); diff != "" {
					t.Errorf("custom_role_id (-want +got):\n%s", diff)
				}
			}
		})
	}
}
