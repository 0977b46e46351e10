package access_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
)

// scripted wraps a backend, counts the Grant and Revoke calls that reach
// it and, if res is set, answers them with res and err instead of the
// wrapped backend, to check how System shapes a backend's answers.
type scripted struct {
	access.Backend
	calls atomic.Int64
	res   *access.Result
	err   error
}

func (s *scripted) Grant(ctx context.Context, req access.GrantRequest) (access.Result, error) {
	s.calls.Add(1)
	if s.res != nil {
		return *s.res, s.err
	}
	return s.Backend.Grant(ctx, req)
}

func (s *scripted) Revoke(ctx context.Context, req access.RevokeRequest) (access.Result, error) {
	s.calls.Add(1)
	if s.res != nil {
		return *s.res, s.err
	}
	return s.Backend.Revoke(ctx, req)
}

// newScripted returns a scripted backend over a small generated account.
func newScripted(t *testing.T) *scripted {
	t.Helper()
	b, err := memaccess.New(memaccess.Generate(3, 2, 2))
	if err != nil {
		t.Fatal(err)
	}
	return &scripted{Backend: b}
}

func TestSystemRefusesAliasesBeforeTheBackend(t *testing.T) {
	t.Parallel()
	b := newScripted(t)
	b.res = &access.Result{Status: access.StatusGranted}
	sys := newSystem(t, b)
	for _, req := range []access.GrantRequest{
		{EntitlementID: "group:1:member", PrincipalID: "user:+1"},
		{EntitlementID: "group:1:member", PrincipalID: "user:01"},
		{EntitlementID: "group:01:member", PrincipalID: "user:1"},
		{EntitlementID: "group:1:member", PrincipalID: "user:%31"},
		{EntitlementID: "group:1:member", PrincipalID: "user:a%2fb"},
	} {
		if _, err := sys.Grant(t.Context(), req); !errors.Is(err, access.ErrMalformedID) {
			t.Errorf("Grant(%s) error = %v, want ErrMalformedID (the backend would have said granted)", req.GrantID(), err)
		}
		if _, err := sys.Revoke(t.Context(), access.RevokeRequest(req)); !errors.Is(err, access.ErrMalformedID) {
			t.Errorf("Revoke(%s) error = %v, want ErrMalformedID", req.GrantID(), err)
		}
	}
	if _, err := sys.GrantsFor(t.Context(), "user:007"); !errors.Is(err, access.ErrMalformedID) {
		t.Errorf("GrantsFor(user:007) error = %v, want ErrMalformedID", err)
	}
}

func TestSystemCheckResource(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, newScripted(t))
	for _, id := range []string{"user:1", "user:12345", "group:2"} {
		if err := sys.CheckResource(t.Context(), id); err != nil {
			t.Errorf("CheckResource(%s) = %v, want nil", id, err)
		}
	}
	for _, id := range []string{"user:007", "user:+1", "user:", "user", ""} {
		if err := sys.CheckResource(t.Context(), id); !errors.Is(err, access.ErrMalformedID) {
			t.Errorf("CheckResource(%q) = %v, want ErrMalformedID", id, err)
		}
	}
}

func TestSystemShapesResults(t *testing.T) {
	t.Parallel()
	req := access.GrantRequest{EntitlementID: "group:1:member", PrincipalID: "user:1"}
	promoted := access.NewGrant("role:agent:assigned", "user:1", nil)
	boom := errors.New("boom")
	tests := []struct {
		name       string
		res        access.Result
		err        error
		wantStatus access.Status
		wantErr    error
		partial    bool
	}{
		{"granted without a grant gets one", access.Result{Status: access.StatusGranted}, nil, access.StatusGranted, nil, false},
		{"unknown status", access.Result{Status: "maybe"}, nil, "", access.ErrBadResult, false},
		{"another grant", access.Result{Status: access.StatusGranted, Grant: access.NewGrant("group:2:member", "user:1", nil)}, nil, "", access.ErrBadResult, false},
		{"plain failure", access.Result{}, boom, "", boom, false},
		{"failure after a change", access.Result{Added: []access.Grant{promoted}}, boom, access.StatusIncomplete, boom, true},
		{"failure after the grant itself", access.Result{Status: access.StatusGranted}, boom, access.StatusGranted, boom, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newScripted(t)
			b.res, b.err = &tc.res, tc.err
			sys := newSystem(t, b)
			res, err := sys.Grant(t.Context(), req)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Grant error = %v, want %v", err, tc.wantErr)
			}
			var pe *access.PartialError
			if got := errors.As(err, &pe); got != tc.partial {
				t.Fatalf("error %v: *PartialError = %v, want %v", err, got, tc.partial)
			}
			if tc.partial && pe.Result.Status != tc.wantStatus {
				t.Errorf("PartialError.Result.Status = %q, want %q", pe.Result.Status, tc.wantStatus)
			}
			if res.Status != tc.wantStatus {
				t.Errorf("Status = %q, want %q", res.Status, tc.wantStatus)
			}
			if tc.wantErr == nil && (res.Grant == nil || res.Grant.ID() != req.GrantID()) {
				t.Errorf("Grant = %v, want %s", res.Grant, req.GrantID())
			}
			if !tc.partial && tc.err != nil && res.Changed() {
				t.Errorf("a failure that changed nothing returned %+v", res)
			}
		})
	}
}

func TestNewSystemNilBackend(t *testing.T) {
	t.Parallel()
	if _, err := access.NewSystem(nil); err == nil {
		t.Error("NewSystem(nil) succeeded")
	}
}
