package access_test

// An outside test suite of access.System against its documented promises
// (System's doc comment, access/doc.go "System: the portable layer",
// Backend, Result, PartialError). Tests named TestAttack_* that fail show a
// broken promise; the others are regression tests.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
)

// syntaxData is a small account whose numeric types declare
// IDSyntaxPositiveInt and whose "mail" type declares IDSyntaxEscaped.
func syntaxData() memaccess.Data {
	to := []string{"user", "mail"}
	return memaccess.Data{
		ResourceTypes: []access.ResourceType{
			{ID: "user", DisplayName: "User", Traits: []access.Trait{access.TraitUser}, IDSyntax: access.IDSyntaxPositiveInt},
			{ID: "mail", DisplayName: "Mailbox", Traits: []access.Trait{access.TraitUser}, IDSyntax: access.IDSyntaxEscaped},
			{ID: "group", DisplayName: "Group", Traits: []access.Trait{access.TraitGroup}, IDSyntax: access.IDSyntaxPositiveInt},
			{ID: "role", DisplayName: "Role", Traits: []access.Trait{access.TraitRole}},
		},
		Resources: []access.Resource{
			access.NewResource("user:1", "Ann", nil),
			access.NewResource("user:42", "Bob", nil),
			access.NewResource("mail:"+access.EscapeNativeID("a/b@example.com"), "Shared", nil),
			access.NewResource("group:7", "Support", nil),
			access.NewResource("role:agent", "Agent", nil),
		},
		Entitlements: []access.Entitlement{
			access.NewEntitlement("group:7:member", "Support", access.PurposeMembership, to, nil),
			access.NewEntitlement("role:agent:assigned", "Agent", access.PurposeAssignment, to, nil),
		},
		Grants: []access.Grant{
			access.NewGrant("group:7:member", "user:1", nil),
			access.NewGrant("role:agent:assigned", "user:42", nil),
		},
	}
}

// scriptedLister adds a scripted PrincipalGrantsLister.
type scriptedLister struct {
	access.Backend
	grants []access.Grant
}

func (l *scriptedLister) GrantsFor(context.Context, string) ([]access.Grant, error) {
	return l.grants, nil
}

func syntaxMem(t *testing.T) *memaccess.Backend {
	t.Helper()
	b, err := memaccess.New(syntaxData())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every non-canonical spelling is refused with ErrMalformedID before the
// backend is called, for every declared syntax, by Grant, Revoke and
// GrantsFor; the backend (memaccess) refuses the same spellings itself.
func TestAttack_SystemRefusesEverySpelling(t *testing.T) {
	t.Parallel()
	mem := syntaxMem(t)
	cb := &scripted{Backend: mem}
	sys := newSystem(t, cb)
	var bad []string
	for _, n := range []string{"+42", "-42", "042", "0042", "0", "00", "4_2", "42 ", " 42", "4\u00a02", "４２", "٤٢",
		"%34%32", "%342", "42%20", "9223372036854775808", "99999999999999999999", strings.Repeat("4", 257), "",
		"42\xff", "4\x002", "42\u200b"} {
		bad = append(bad, "user:"+n)
	}
	for _, m := range []string{"a/b@example.com", "a%2fb%40example.com", "a%2Fb%40example.Com%", "a%2Fb%40example%2Ecom",
		"a%2Fb%40example.com%2", "a b", ""} {
		bad = append(bad, "mail:"+m)
	}
	ctx := t.Context()
	for _, p := range bad {
		for _, e := range []string{"group:7:member", "role:agent:assigned"} {
			req := access.GrantRequest{EntitlementID: e, PrincipalID: p}
			noPanic(t, req.GrantID(), func() {
				if _, err := sys.Grant(ctx, req); !errors.Is(err, access.ErrMalformedID) {
					t.Errorf("System.Grant(%q): %v, want ErrMalformedID", req.GrantID(), err)
				}
				if _, err := sys.Revoke(ctx, access.RevokeRequest(req)); !errors.Is(err, access.ErrMalformedID) {
					t.Errorf("System.Revoke(%q): %v, want ErrMalformedID", req.GrantID(), err)
				}
				if _, err := mem.Grant(ctx, req); !errors.Is(err, access.ErrMalformedID) {
					t.Errorf("memaccess Grant(%q): %v, want ErrMalformedID", req.GrantID(), err)
				}
			})
		}
		if _, err := sys.GrantsFor(ctx, p); !errors.Is(err, access.ErrMalformedID) {
			t.Errorf("System.GrantsFor(%q): %v, want ErrMalformedID", p, err)
		}
	}
	for _, g := range []string{"group:07:member", "group:+7:member", "group:%37:member", "group:7 :member", "group::member", "group:7:"} {
		if _, err := sys.Grant(ctx, access.GrantRequest{EntitlementID: g, PrincipalID: "user:1"}); !errors.Is(err, access.ErrMalformedID) {
			t.Errorf("System.Grant(%q): %v, want ErrMalformedID", g, err)
		}
	}
	if n := cb.calls.Load(); n != 0 {
		t.Errorf("%d malformed requests reached the backend", n)
	}
	// The canonical spellings work.
	if res, err := sys.Grant(ctx, access.GrantRequest{EntitlementID: "group:7:member", PrincipalID: "mail:" + access.EscapeNativeID("a/b@example.com")}); err != nil || res.Status != access.StatusGranted {
		t.Errorf("canonical grant: %+v, %v", res, err)
	}
}

// GrantsFor through System over a backend without PrincipalGrantsLister
// (the full-sync fallback) equals what a sync shows.
func TestAttack_SystemGrantsForFallbackEqualsSync(t *testing.T) {
	t.Parallel()
	type plain struct{ access.Backend } // hides memaccess's GrantsFor
	sys := newSystem(t, plain{syntaxMem(t)})
	snap, err := sys.Sync(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range snap.Resources() {
		if r.Type() != "user" && r.Type() != "mail" {
			continue
		}
		gs, err := sys.GrantsFor(t.Context(), r.ID())
		if err != nil {
			t.Fatalf("GrantsFor(%s): %v", r.ID(), err)
		}
		var want, got []string
		for _, g := range snap.GrantsFor(r.ID()) {
			want = append(want, g.ID())
		}
		for _, g := range gs {
			got = append(got, g.ID())
		}
		n += len(got)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("GrantsFor(%s) (-sync +GrantsFor):\n%s", r.ID(), d)
		}
	}
	if n == 0 {
		t.Error("no grants compared")
	}
	if _, err := sys.GrantsFor(t.Context(), "user:999"); !errors.Is(err, access.ErrUnknownPrincipal) {
		t.Errorf("GrantsFor of an unknown user: %v, want ErrUnknownPrincipal", err)
	}
}

// A backend that answers with garbage gets ErrBadResult, never a panic
// (System: "ErrBadResult means a backend answered a Grant or Revoke with a
// Result that breaks the rules of Backend"; DESIGN: "no panic on any
// input").
func TestAttack_SystemGarbageResultsRefused(t *testing.T) {
	t.Parallel()
	req := access.GrantRequest{EntitlementID: "group:7:member", PrincipalID: "user:42"}
	other := access.NewGrant("group:7:member", "user:1", nil)
	for _, tc := range []struct {
		name string
		res  access.Result
	}{
		{"empty status", access.Result{}},
		{"incomplete without error", access.Result{Status: access.StatusIncomplete}},
		{"revoked on grant", access.Result{Status: access.StatusRevoked}},
		{"another principal's grant", access.Result{Status: access.StatusGranted, Grant: other}},
		{"another principal's grant, already granted", access.Result{Status: access.StatusAlreadyGranted, Grant: other}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.res
			sys := newSystem(t, &scripted{Backend: syntaxMem(t), res: &res})
			noPanic(t, tc.name, func() {
				_, err := sys.Grant(t.Context(), req)
				if !errors.Is(err, access.ErrBadResult) {
					t.Errorf("Grant answered %+v: error %v, want ErrBadResult", tc.res, err)
				}
			})
		})
	}
}

// A grant in a backend's Result that is a nil interface (in Added or
// Replaced) makes the *PartialError System returns panic when printed.
// System should refuse such a Result with ErrBadResult, as it does an
// unknown status.
func TestAttack_SystemNilGrantInPartialResultPanics(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		res  access.Result
	}{
		{"nil in Added", access.Result{Status: access.StatusIncomplete, Added: []access.Grant{nil}}},
		{"nil in Replaced", access.Result{Status: access.StatusGranted, Replaced: []access.Grant{nil}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.res
			sys := newSystem(t, &scripted{Backend: syntaxMem(t), res: &res, err: boom})
			noPanic(t, tc.name, func() {
				_, err := sys.Grant(t.Context(), access.GrantRequest{EntitlementID: "group:7:member", PrincipalID: "user:42"})
				if err == nil {
					t.Fatal("no error")
				}
				_ = err.Error()
				_ = fmt.Sprintf("%v %+v", err, err)
			})
		})
	}
}

// ptrGrant is a Grant implemented on a pointer, as zendeskaccess.Grant is.
type ptrGrant struct{ id string }

func (g *ptrGrant) ID() string                    { return g.id }
func (g *ptrGrant) DisplayName() string           { return "" }
func (g *ptrGrant) Attributes() access.Attributes { return nil }

// A backend answering StatusGranted with a typed nil *Grant (a nil pointer
// in the Grant interface) makes System panic instead of returning
// ErrBadResult.
func TestAttack_SystemTypedNilGrantPanics(t *testing.T) {
	t.Parallel()
	res := access.Result{Status: access.StatusGranted, Grant: (*ptrGrant)(nil)}
	sys := newSystem(t, &scripted{Backend: syntaxMem(t), res: &res})
	noPanic(t, "System.Grant", func() {
		if _, err := sys.Grant(t.Context(), access.GrantRequest{EntitlementID: "group:7:member", PrincipalID: "user:42"}); !errors.Is(err, access.ErrBadResult) {
			t.Errorf("error %v, want ErrBadResult", err)
		}
	})
}

// A PrincipalGrantsLister answering with a nil grant makes System.GrantsFor
// (and access.GrantsFor) panic instead of failing with ErrBadResult
// (System.GrantsFor: "A backend that answers with another principal's grant
// fails with ErrBadResult").
func TestAttack_SystemGrantsForNilGrantPanics(t *testing.T) {
	t.Parallel()
	for _, gs := range [][]access.Grant{
		{nil},
		{access.NewGrant("group:7:member", "user:42", nil), nil},
		{(*ptrGrant)(nil)},
	} {
		sys := newSystem(t, &scriptedLister{Backend: syntaxMem(t), grants: gs})
		noPanic(t, fmt.Sprintf("GrantsFor answered %d grants", len(gs)), func() {
			if _, err := sys.GrantsFor(t.Context(), "user:42"); !errors.Is(err, access.ErrBadResult) {
				t.Errorf("GrantsFor with a nil grant: error %v, want ErrBadResult", err)
			}
		})
	}
	// Another principal's grant is refused (regression).
	sys := newSystem(t, &scriptedLister{Backend: syntaxMem(t), grants: []access.Grant{access.NewGrant("group:7:member", "user:1", nil)}})
	if _, err := sys.GrantsFor(t.Context(), "user:42"); !errors.Is(err, access.ErrBadResult) {
		t.Errorf("GrantsFor with another principal's grant: %v, want ErrBadResult", err)
	}
}

// When a backend fails after changing the named grant, the Result System
// returns beside the *PartialError must still name the requested grant
// (System: "a Result whose Grant has the ID the request named"); a backend
// naming another grant there is a bad result, as it is on success.
func TestAttack_SystemPartialResultNamesAnotherGrant(t *testing.T) {
	t.Parallel()
	req := access.GrantRequest{EntitlementID: "group:7:member", PrincipalID: "user:42"}
	res := access.Result{Status: access.StatusGranted, Grant: access.NewGrant("group:7:member", "user:1", nil)}
	sys := newSystem(t, &scripted{Backend: syntaxMem(t), res: &res, err: errors.New("boom")})
	got, err := sys.Grant(t.Context(), req)
	if errors.Is(err, access.ErrBadResult) {
		return
	}
	if got.Grant != nil && got.Grant.ID() != req.GrantID() {
		t.Errorf("Grant(%s) failed with %v and a Result naming %s", req.GrantID(), err, got.Grant.ID())
	}
}

// A backend that reports its partial change as a *PartialError (the shape
// System itself returns, so a backend that wraps a System or another
// backend does exactly this) and an empty Result gets an empty Result back
// from System (doc.go: "when a backend changed something and then failed,
// it returns that Result with a *PartialError rather than an empty result").
func TestAttack_SystemDropsBackendPartialResult(t *testing.T) {
	t.Parallel()
	added := access.NewGrant("role:agent:assigned", "user:1", nil)
	inner := &access.PartialError{Op: "grant", GrantID: "group:7:member@user:1",
		Result: access.Result{Status: access.StatusIncomplete, Added: []access.Grant{added}}, Err: errors.New("boom")}
	sys := newSystem(t, &scripted{Backend: syntaxMem(t), res: &access.Result{}, err: inner})
	res, err := sys.Grant(t.Context(), access.GrantRequest{EntitlementID: "group:7:member", PrincipalID: "user:1"})
	var pe *access.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v: no *PartialError", err)
	}
	if len(res.Added) != 1 {
		t.Errorf("Result = %+v beside %v: the change the backend reported is missing", res, err)
	}
}

// NewSystem refuses a nil backend, but a typed nil (a nil *memaccess.Backend
// in the Backend interface) is accepted, and the first call panics
// (DESIGN: "no panic on any input").
func TestAttack_NewSystemTypedNilBackend(t *testing.T) {
	t.Parallel()
	var b *memaccess.Backend
	sys, err := access.NewSystem(b)
	if err != nil {
		return // refused: fine
	}
	noPanic(t, "System.Grant over a nil *memaccess.Backend", func() {
		if _, err := sys.Grant(t.Context(), access.GrantRequest{EntitlementID: "group:7:member", PrincipalID: "user:1"}); err == nil {
			t.Error("Grant over a nil backend succeeded")
		}
	})
}

// Through System, results always have the shape the doc promises: the
// named grant in Grant (except StatusAlreadyRevoked), a status of the
// operation, and idempotency.
func TestAttack_SystemResultShapeOverMemaccess(t *testing.T) {
	t.Parallel()
	sys := newSystem(t, syntaxMem(t))
	ctx := t.Context()
	req := access.GrantRequest{EntitlementID: "group:7:member", PrincipalID: "user:42"}
	steps := []struct {
		grant bool
		want  access.Status
	}{
		{true, access.StatusGranted}, {true, access.StatusAlreadyGranted},
		{false, access.StatusRevoked}, {false, access.StatusAlreadyRevoked}, {true, access.StatusGranted},
	}
	for i, s := range steps {
		var res access.Result
		var err error
		if s.grant {
			res, err = sys.Grant(ctx, req)
		} else {
			res, err = sys.Revoke(ctx, access.RevokeRequest(req))
		}
		if err != nil || res.Status != s.want {
			t.Fatalf("step %d: %+v, %v; want %s", i, res, err, s.want)
		}
		if res.Status != access.StatusAlreadyRevoked && (res.Grant == nil || res.Grant.ID() != req.GrantID()) {
			t.Errorf("step %d: Grant = %v, want %s", i, res.Grant, req.GrantID())
		}
	}
	for _, tc := range []struct {
		req  access.GrantRequest
		want error
	}{
		{access.GrantRequest{EntitlementID: "group:8:member", PrincipalID: "user:42"}, access.ErrUnknownEntitlement},
		{access.GrantRequest{EntitlementID: "group:7:member", PrincipalID: "user:43"}, access.ErrUnknownPrincipal},
		{access.GrantRequest{EntitlementID: "group:7:member", PrincipalID: "group:7"}, access.ErrNotGrantable},
	} {
		if _, err := sys.Grant(ctx, tc.req); !errors.Is(err, tc.want) {
			t.Errorf("Grant(%s): %v, want %v", tc.req.GrantID(), err, tc.want)
		}
	}
}
