package provision_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk"
)

func TestJournalOutcomeOf(t *testing.T) {
	t.Parallel()
	g := access.NewGrant("group:10:member", "user:2", nil)
	added := access.NewGrant("role:agent:assigned", "user:2", nil)
	replaced := access.NewGrant("organization:5:member", "user:2", nil)
	api := &zendesk.APIError{StatusCode: 503, Method: "PUT", Path: "/api/v2/users/2", RequestID: "req-9"}
	partial := &access.PartialError{Op: "grant", GrantID: g.ID(), Result: access.Result{Status: access.StatusIncomplete, Added: []access.Grant{added}}, Err: api}
	tests := []struct {
		name string
		res  access.Result
		err  error
		want provision.JournalOutcome
	}{
		{"granted", access.Result{Status: access.StatusGranted, Grant: g, Added: []access.Grant{added}, Replaced: []access.Grant{replaced}, Note: "moved"},
			nil, provision.JournalOutcome{Status: "granted", GrantID: g.ID(), Added: []string{added.ID()}, Replaced: []string{replaced.ID()}, Note: "moved"}},
		{"already revoked without grant", access.Result{Status: access.StatusAlreadyRevoked}, nil, provision.JournalOutcome{Status: "already_revoked"}},
		{"nil grants", access.Result{Status: access.StatusGranted, Grant: (*access.GrantRecord)(nil), Added: []access.Grant{nil}}, nil, provision.JournalOutcome{Status: "granted"}},
		{"failed", access.Result{}, fmt.Errorf("access: grant: %w", access.ErrNotGrantable),
			provision.JournalOutcome{Error: "access: grant: entitlement not grantable to principal", ErrorClass: "not_grantable"}},
		{"partial in the error only", access.Result{}, partial,
			provision.JournalOutcome{Status: "incomplete", Added: []string{added.ID()}, Error: partial.Error(), ErrorClass: "zendesk_api", RequestIDs: []string{"req-9"}}},
		{"partial in both", partial.Result, partial,
			provision.JournalOutcome{Status: "incomplete", Added: []string{added.ID()}, Error: partial.Error(), ErrorClass: "zendesk_api", RequestIDs: []string{"req-9"}}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, provision.JournalOutcomeOf(tc.res, tc.err), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: JournalOutcomeOf (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestJournalErrorClass(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return fmt.Errorf("access: revoke group:1:member@user:2: %w", err) }
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("boom"), "error"},
		{wrap(context.Canceled), "canceled"},
		{wrap(context.DeadlineExceeded), "deadline_exceeded"},
		{wrap(access.ErrMalformedID), "malformed_id"},
		{wrap(access.ErrUnknownEntitlement), "unknown_entitlement"},
		{wrap(access.ErrUnknownPrincipal), "unknown_principal"},
		{wrap(access.ErrNotGrantable), "not_grantable"},
		{wrap(access.ErrUnsupported), "unsupported"},
		{wrap(access.ErrBadResult), "bad_result"},
		{wrap(&zendesk.APIError{StatusCode: 429}), "rate_limited"},
		{wrap(&zendesk.RateLimitError{APIError: &zendesk.APIError{StatusCode: 503}}), "rate_limited"},
		{wrap(&zendesk.APIError{StatusCode: 401}), "unauthorized"},
		{wrap(&zendesk.APIError{StatusCode: 403}), "forbidden"},
		{wrap(&zendesk.APIError{StatusCode: 404}), "not_found"},
		{wrap(&zendesk.APIError{StatusCode: 422, Code: "DuplicateValue"}), "duplicate"},
		{wrap(&zendesk.APIError{StatusCode: 422}), "invalid"},
		{wrap(&zendesk.APIError{StatusCode: 500}), "zendesk_api"},
		{wrap(&zendesk.DecodeError{Err: errors.New("eof")}), "zendesk_decode"},
	}
	for _, tc := range tests {
		if got := provision.JournalErrorClass(tc.err); got != tc.want {
			t.Errorf("JournalErrorClass(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
