package access_test

// Outside tests of access.System's account methods (CreateAccount,
// CreateAccounts, Deprovision, Reactivate) against their doc comments:
// bad input is refused before the backend is called, a backend without the
// capability is ErrUnsupported, and a backend's broken answers are
// ErrBadResult or an *AccountError saying what changed. Tests named
// TestAttack_* that fail show a broken promise; the others hold.

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
)

// acctData is an account of two users with built-in roles.
func acctData() memaccess.Data {
	to := []string{"user"}
	return memaccess.Data{
		ResourceTypes: []access.ResourceType{
			{ID: "user", Traits: []access.Trait{access.TraitUser}, IDSyntax: access.IDSyntaxPositiveInt},
			{ID: "role", Traits: []access.Trait{access.TraitRole}},
		},
		Resources: []access.Resource{
			access.NewResource("user:1", "Owner", access.Attributes{"email": "owner@example.com"}),
			access.NewResource("user:2", "Ann", access.Attributes{"email": "ann@example.com", "external_id": "00uann"}),
			access.NewResource("role:agent", "Agent", nil),
			access.NewResource("role:end-user", "End user", nil),
		},
		Entitlements: []access.Entitlement{
			access.NewEntitlement("role:agent:assigned", "Agent", access.PurposeAssignment, to, nil),
			access.NewEntitlement("role:end-user:assigned", "End user", access.PurposeAssignment, to, nil),
		},
		Grants: []access.Grant{
			access.NewGrant("role:agent:assigned", "user:1", nil),
			access.NewGrant("role:agent:assigned", "user:2", nil),
		},
	}
}

func acctMem(t *testing.T) *memaccess.Backend {
	t.Helper()
	b, err := memaccess.New(acctData(), memaccess.WithExclusive("role"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAttackAccountsBadInput: malformed people, ids and steps are refused
// by System before any backend request, with the documented sentinel; a
// batch keeps its order and refuses only its bad items.
func TestAttackAccountsBadInput(t *testing.T) {
	t.Parallel()
	b := acctMem(t)
	sys := newSystem(t, b)
	ctx := t.Context()
	for _, p := range []access.Person{
		{},
		{Email: "ann"},
		{Email: "ann@localhost"},
		{Email: "Ann <ann@example.com>"},
		{Email: " ann@example.com"},
		{Email: "ann@example.com\n"},
		{Email: strings.Repeat("a", 250) + "@example.com"},
		{Email: "ann@example.com", Name: strings.Repeat("n", 256)},
		{Email: "ann@example.com", Name: "\xff"},
		{Email: "ann@example.com", ExternalID: " 00u "},
	} {
		before := b.Requests()
		if _, err := sys.CreateAccount(ctx, access.AccountRequest{Person: p}); !errors.Is(err, access.ErrInvalidPerson) {
			t.Errorf("CreateAccount(%+q): %v, want ErrInvalidPerson", p.Email, err)
		}
		if n := b.Requests() - before; n != 0 {
			t.Errorf("CreateAccount(%+q) made %d requests", p.Email, n)
		}
	}
	for _, id := range []string{"user:01", "user:+2", "user: 2", "User:2", "user:2:", ""} {
		before := b.Requests()
		if _, err := sys.Deprovision(ctx, id, access.DeprovisionSuspend); err == nil {
			t.Errorf("Deprovision(%q): no error", id)
		}
		if _, err := sys.Reactivate(ctx, id, ""); err == nil {
			t.Errorf("Reactivate(%q): no error", id)
		}
		if n := b.Requests() - before; n != 0 {
			t.Errorf("%q: %d requests", id, n)
		}
	}
	before := b.Requests()
	if _, err := sys.Deprovision(ctx, "user:2", "explode"); err == nil {
		t.Error("an unknown step: no error")
	}
	if res, err := sys.Deprovision(ctx, "user:2", access.DeprovisionNone); err != nil || res.Status != access.AccountUnchanged {
		t.Errorf("step none: %+v %v", res, err)
	}
	if n := b.Requests() - before; n != 0 {
		t.Errorf("an unknown step and step none made %d requests", n)
	}
	// A batch: bad items refused in place, good ones done, order kept.
	reqs := []access.AccountRequest{
		{Person: access.Person{Email: "new@example.com"}},
		{Person: access.Person{Email: "not an address"}},
		{Person: access.Person{Email: "ANN@example.com"}},
		{Person: access.Person{Email: "other@example.com", ExternalID: "00uann"}},
	}
	res := sys.CreateAccounts(ctx, reqs, nil)
	if len(res) != len(reqs) {
		t.Fatalf("%d results for %d requests", len(res), len(reqs))
	}
	if res[0].Err != nil || res[0].Result.Status != access.AccountCreated {
		t.Errorf("new person: %+v %v", res[0].Result, res[0].Err)
	}
	if !errors.Is(res[1].Err, access.ErrInvalidPerson) {
		t.Errorf("bad address: %v", res[1].Err)
	}
	if res[2].Err != nil || res[2].Result.Status != access.AccountExists || res[2].Result.PrincipalID != "user:2" || res[2].Result.MatchedBy != "email" {
		t.Errorf("existing by e-mail in another case: %+v %v", res[2].Result, res[2].Err)
	}
	if res[3].Err != nil || res[3].Result.PrincipalID != "user:2" || res[3].Result.MatchedBy != "external_id" {
		t.Errorf("existing by external id: %+v %v", res[3].Result, res[3].Err)
	}
}

// noAccounts hides memaccess's AccountManager.
type noAccounts struct{ access.Backend }

// badAccounts answers account calls with what the test says.
type badAccounts struct {
	access.Backend
	res access.AccountResult
	err error
}

func (b *badAccounts) CreateAccount(context.Context, access.AccountRequest) (access.AccountResult, error) {
	return b.res, b.err
}

func (b *badAccounts) Deprovision(context.Context, string, access.DeprovisionStep) (access.AccountResult, error) {
	return b.res, b.err
}

func (b *badAccounts) Reactivate(context.Context, string, string) (access.AccountResult, error) {
	return b.res, b.err
}

// TestAttackAccountsBackendAnswers: without the capability every account
// call is ErrUnsupported (in a batch, each item); a backend's answer with
// an unknown status, a malformed principal or a nil grant is ErrBadResult;
// one that changed something and failed is an *AccountError whose Result
// says what changed (status incomplete), never an empty result.
func TestAttackAccountsBackendAnswers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	mem := acctMem(t)
	plain := newSystem(t, noAccounts{mem})
	req := access.AccountRequest{Person: access.Person{Email: "new@example.com"}}
	if _, err := plain.CreateAccount(ctx, req); !errors.Is(err, access.ErrUnsupported) {
		t.Errorf("CreateAccount without the capability: %v", err)
	}
	if _, err := plain.Deprovision(ctx, "user:2", access.DeprovisionSuspend); !errors.Is(err, access.ErrUnsupported) {
		t.Errorf("Deprovision without the capability: %v", err)
	}
	for _, r := range plain.CreateAccounts(ctx, []access.AccountRequest{req, req}, nil) {
		if !errors.Is(r.Err, access.ErrUnsupported) {
			t.Errorf("CreateAccounts without the capability: %v", r.Err)
		}
	}
	for _, tc := range []struct {
		name string
		res  access.AccountResult
		err  error
		want error
	}{
		{"unknown status", access.AccountResult{Status: "maybe", PrincipalID: "user:9"}, nil, access.ErrBadResult},
		{"no principal", access.AccountResult{Status: access.AccountCreated}, nil, access.ErrBadResult},
		{"malformed principal", access.AccountResult{Status: access.AccountCreated, PrincipalID: "user 9"}, nil, access.ErrBadResult},
		{"nil grant", access.AccountResult{Status: access.AccountChanged, PrincipalID: "user:2", Replaced: []access.Grant{nil}}, nil, access.ErrBadResult},
	} {
		sys := newSystem(t, &badAccounts{Backend: mem, res: tc.res, err: tc.err})
		noPanic(t, tc.name, func() {
			if _, err := sys.CreateAccount(ctx, req); !errors.Is(err, tc.want) {
				t.Errorf("%s: CreateAccount: %v, want %v", tc.name, err, tc.want)
			}
			if _, err := sys.Deprovision(ctx, "user:2", access.DeprovisionDowngrade); !errors.Is(err, tc.want) {
				t.Errorf("%s: Deprovision: %v, want %v", tc.name, err, tc.want)
			}
		})
	}
	// Changed, then failed.
	boom := errors.New("boom")
	removed := access.NewGrant("role:agent:assigned", "user:2", nil)
	sys := newSystem(t, &badAccounts{Backend: mem, res: access.AccountResult{PrincipalID: "user:2", Replaced: []access.Grant{removed}}, err: boom})
	res, err := sys.Deprovision(ctx, "user:2", access.DeprovisionDowngrade)
	var ae *access.AccountError
	if !errors.As(err, &ae) || !errors.Is(err, boom) || res.Status != access.AccountIncomplete || len(res.Replaced) != 1 || len(ae.Result.Replaced) != 1 {
		t.Errorf("a downgrade that removed a grant and failed: %+v, %v", res, err)
	}
}
