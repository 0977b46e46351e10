package provision_test

// An outside attack suite of package provision against its documented
// promises (README "Provisioning", provision/doc.go, the doc comments of
// Guards, NewPlan, Plan, LoadPlan and Apply, access.System's account
// methods). Tests named TestAttack_* that fail show a broken promise; the
// others are regression tests that assert what holds.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// memEnv is a memaccess account behind a System, with a snapshot of it and
// the backend's guard facts and object types: what NewPlan and Apply need.
type memEnv struct {
	b     *memaccess.Backend
	sys   *access.System
	facts access.GuardFacts
	types []string
}

func newMemEnv(t *testing.T, users ...user) *memEnv {
	t.Helper()
	b, err := memaccess.New(account(users...), memaccess.WithExclusive("role", "custom_role", "organization"))
	if err != nil {
		t.Fatal(err)
	}
	sys, err := access.NewSystem(b)
	if err != nil {
		t.Fatal(err)
	}
	facts, err := b.GuardFacts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	types, err := b.ObjectTypes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return &memEnv{b: b, sys: sys, facts: facts, types: types}
}

func (e *memEnv) snap(t *testing.T) *access.Snapshot {
	t.Helper()
	s, err := e.sys.Sync(t.Context(), &access.SyncOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// plan plans policy and directory (YAML) against the account as it is now.
func (e *memEnv) plan(t *testing.T, policy, directory string, g provision.Guards) *provision.Plan {
	t.Helper()
	p, err := provision.NewPlan(t.Context(), parsePolicy(t, policy), parseDirectory(t, directory), e.snap(t),
		&provision.PlanOptions{Facts: e.facts, ObjectTypes: e.types, Guards: g, Now: now})
	if err != nil {
		t.Fatalf("NewPlan: %v", err)
	}
	return p
}

// holds reports whether principal holds entitlement now.
func (e *memEnv) holds(t *testing.T, principal, entitlement string) bool {
	t.Helper()
	gs, err := e.sys.GrantsFor(t.Context(), principal)
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(gs, func(g access.Grant) bool { return g.ID() == access.GrantID(entitlement, principal) })
}

// activeAdmins lists the principals holding the admin role who are not
// suspended.
func (e *memEnv) activeAdmins(t *testing.T) []string {
	t.Helper()
	s := e.snap(t)
	var out []string
	for _, g := range s.GrantsOf("role:admin:assigned") {
		if r, ok := s.Resource(g.PrincipalID()); ok && r.Attributes()["suspended"] != "true" {
			out = append(out, g.PrincipalID())
		}
	}
	return out
}

var attacker = provision.JournalActor{Who: "svc:attack-test", Reason: "attack suite"}

// wideOpen raises the blast-radius caps so that they decide nothing.
var wideOpen = provision.Guards{MaxDestructive: 1000, MaxTeamShare: 1}

// leaverPolicy manages group VIP (4): anyone holding it who is not in the
// directory group "Support" is a leaver.
const leaverPolicy = `rules:
  - directory_group: Support
    role: agent
    groups: [VIP]
`

// applyRecovering runs Apply and turns a panic into a test failure.
func applyRecovering(t *testing.T, sys *access.System, j *provision.Journal, p *provision.Plan) (rep *provision.ApplyReport, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("Apply panicked: %v", r)
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return provision.Apply(t.Context(), sys, j, p, &provision.ApplyOptions{Actor: attacker})
}

// ---------------------------------------------------------------------------
// Guards

// TestAttack_ProtectedNonCanonicalID: Guards.Protected is documented as
// "principal IDs no change may take anything from", and Validate "checks ...
// the protected IDs". A non-canonical spelling of a real principal
// ("user:007" for user:7, which access.System refuses everywhere else as
// ErrMalformedID) passes Validate and then protects nobody: the guard is
// silently off.
func TestAttack_ProtectedNonCanonicalID(t *testing.T) {
	t.Parallel()
	env := newMemEnv(t,
		user{id: "1", email: "owner@example.com", role: "admin"},
		user{id: "7", email: "breakglass@example.com", role: "admin", grants: []string{"group:4:member"}},
	)
	g := provision.Guards{Protected: []string{"user:007"}, MaxDestructive: 1000, MaxTeamShare: 1}
	verr := g.Validate()
	p, err := provision.NewPlan(t.Context(), parsePolicy(t, leaverPolicy), parseDirectory(t, "groups: [{name: Support, members: []}]"), env.snap(t),
		&provision.PlanOptions{Facts: env.facts, ObjectTypes: env.types, Guards: g, Now: now})
	if verr != nil || err != nil {
		return // refused as bad input: fine
	}
	for _, c := range p.Changes {
		if c.PrincipalID == "user:7" && c.Blocked == nil {
			t.Errorf("Protected [user:007] is accepted (Validate: nil) but does not protect user:7: %s is not blocked", c.ID)
		}
	}
}

// TestAttack_ApplyLastAdminDriftElsewhere: "Guards run before any write ...
// never the last active admin". The guard is computed once, when the plan
// is made; Apply checks only each changed principal's own Basis. If
// another admin loses the role between plan and apply (someone else's
// change, not in the plan), Apply still demotes the planned admin and the
// account is left with no active admin.
func TestAttack_ApplyLastAdminDriftElsewhere(t *testing.T) {
	t.Parallel()
	env := newMemEnv(t,
		user{id: "1", email: "leaver-admin@example.com", role: "admin", grants: []string{"group:4:member"}},
		user{id: "2", email: "other-admin@example.com", role: "admin"},
		user{id: "3", email: "ann@example.com", role: "agent"},
	)
	p := env.plan(t, leaverPolicy, "groups: [{name: Support, members: [ann@example.com]}]", wideOpen)
	if p.Guards.Run != nil {
		t.Fatalf("plan refused: %v", p.Guards.Run)
	}
	var demotes bool
	for _, c := range p.Changes {
		if c.PrincipalID == "user:1" && c.Kind == provision.ChangeDeprovision && c.Blocked == nil {
			demotes = true
		}
	}
	if !demotes {
		t.Fatalf("the plan does not deprovision user:1 (two admins: it may):\n%s", table(t, p))
	}
	// Between plan and apply, someone demotes the other admin.
	if _, err := env.sys.Grant(t.Context(), access.GrantRequest{EntitlementID: "role:agent:assigned", PrincipalID: "user:2"}); err != nil {
		t.Fatal(err)
	}
	if got := env.activeAdmins(t); !slices.Equal(got, []string{"user:1"}) {
		t.Fatalf("admins before apply: %v", got)
	}
	rep, err := applyRecovering(t, env.sys, newJournal(t, nil), p)
	if errors.Is(err, provision.ErrGuard) {
		return // refused: fine
	}
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := env.activeAdmins(t); len(got) == 0 {
		var states []string
		for _, r := range rep.Results {
			states = append(states, fmt.Sprintf("%s: %s", r.Change.ID, r.State))
		}
		t.Errorf("after Apply the account has no active admin; Apply reported %v and no error", states)
	}
}

// TestAttack_ApplyIgnoresEditedPlan: "Plans are saved as JSON with a
// content hash (an edited plan is refused)", "Changes a guard blocked are
// skipped" and a run over a blast-radius cap is refused. A plan loaded
// with LoadPlan and then edited in memory keeps its recorded Hash; Apply
// never compares it with the content, and takes Change.Blocked and
// Guards.Run on trust: clearing Blocked deprovisions a protected
// principal, clearing Guards.Run runs a plan over its caps.
func TestAttack_ApplyIgnoresEditedPlan(t *testing.T) {
	t.Parallel()
	load := func(t *testing.T, p *provision.Plan) *provision.Plan {
		var buf bytes.Buffer
		if err := p.Save(&buf); err != nil {
			t.Fatal(err)
		}
		loaded, err := provision.LoadPlan(&buf)
		if err != nil {
			t.Fatal(err)
		}
		return loaded
	}
	t.Run("Blocked cleared", func(t *testing.T) {
		env := newMemEnv(t,
			user{id: "1", email: "owner@example.com", role: "admin"},
			user{id: "7", email: "breakglass@example.com", role: "admin", grants: []string{"group:4:member"}},
		)
		g := wideOpen
		g.Protected = []string{"user:7"}
		loaded := load(t, env.plan(t, leaverPolicy, "groups: [{name: Support, members: []}]", g))
		blocked := 0
		for i := range loaded.Changes {
			if loaded.Changes[i].Blocked != nil {
				blocked++
				loaded.Changes[i].Blocked = nil // the edit
			}
		}
		loaded.Guards.Blocked = 0
		if blocked == 0 {
			t.Fatalf("nothing blocked for the protected user:7:\n%s", table(t, loaded))
		}
		_, err := applyRecovering(t, env.sys, newJournal(t, nil), loaded)
		if !env.holds(t, "user:7", "role:admin:assigned") || !env.holds(t, "user:7", "group:4:member") {
			t.Errorf("Apply of a plan edited after LoadPlan (Hash no longer matches its content) deprovisioned the protected user:7; Apply error: %v", err)
		}
	})
	t.Run("Guards.Run cleared", func(t *testing.T) {
		users := []user{{id: "1", email: "owner@example.com", role: "admin"}}
		for i := range 6 {
			users = append(users, user{id: itoa(10 + i), email: fmt.Sprintf("leaver%d@example.com", i), role: "agent", grants: []string{"group:4:member"}})
		}
		env := newMemEnv(t, users...)
		loaded := load(t, env.plan(t, leaverPolicy, "groups: [{name: Support, members: []}]", provision.Guards{MaxDestructive: 3}))
		if loaded.Guards.Run == nil {
			t.Fatalf("12 destructive changes passed a cap of 3")
		}
		loaded.Guards.Run = nil // the edit
		rep, err := applyRecovering(t, env.sys, newJournal(t, nil), loaded)
		if err == nil && rep.Applied > 3 {
			t.Errorf("Apply of a plan over its cap of 3, with Guards.Run cleared after LoadPlan, made %d changes", rep.Applied)
		}
	})
}

// TestAttack_ApplyMalformedChanges: "Bad input ... a clear error naming the
// field; no panic on any input; nothing half-done without saying what was
// done." Apply does not validate a plan's changes: a grant that names
// neither a principal nor a person makes it panic (nil Person), and a change
// of an unknown kind is silently left out (its result has no state, the
// counts do not include it).
func TestAttack_ApplyMalformedChanges(t *testing.T) {
	t.Parallel()
	users := []user{
		{id: "1", email: "owner@example.com", role: "admin"},
		{id: "3", email: "ann@example.com", role: "agent"},
	}
	for _, tc := range []struct {
		name   string
		change provision.Change
	}{
		{"grant without principal or person", provision.Change{ID: "grant group:4:member for nobody", Kind: provision.ChangeGrant, EntitlementID: "group:4:member"}},
		{"create without person", provision.Change{ID: "create_account nobody", Kind: provision.ChangeCreateAccount}},
		{"unknown kind", provision.Change{ID: "frobnicate user:3", Kind: "frobnicate", PrincipalID: "user:3"}},
		{"deprovision without principal", provision.Change{ID: "deprovision nobody suspend", Kind: provision.ChangeDeprovision, Step: access.DeprovisionSuspend}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newMemEnv(t, users...)
			p := env.plan(t, leaverPolicy, "groups: [{name: Support, members: [ann@example.com]}]", wideOpen)
			p.Changes = append(p.Changes, tc.change)
			before := env.b.Requests()
			rep, err := applyRecovering(t, env.sys, newJournal(t, nil), p)
			if err != nil {
				if t.Failed() {
					return
				}
				if w := env.b.Requests() - before; w > 2 {
					t.Logf("refused after %d backend calls: %v", w, err)
				}
				return // a clear error: fine
			}
			for _, r := range rep.Results {
				if r.Change.ID == tc.change.ID {
					switch r.State {
					case provision.StateFailed, provision.StateBlocked, provision.StateStale:
						if r.Err == nil {
							t.Errorf("%s: %s without an error", r.Change.ID, r.State)
						}
					default:
						t.Errorf("a malformed change (%s) was accepted by Apply and left in state %q, counted in no total (applied %d, done %d, stale %d, blocked %d, failed %d of %d)",
							tc.name, r.State, rep.Applied, rep.Done, rep.Stale, rep.Blocked, rep.Failed, len(rep.Results))
					}
				}
			}
		})
	}
}

// resave writes p with its hash recomputed and loads it back: what a person
// who edits a plan file and fixes its hash (LoadPlan says the hash detects
// edits, not forgery) hands to Apply.
func resave(t *testing.T, p *provision.Plan) *provision.Plan {
	t.Helper()
	p.Hash = ""
	var buf bytes.Buffer
	if err := p.Save(&buf); err != nil {
		t.Fatal(err)
	}
	q, err := provision.LoadPlan(&buf)
	if err != nil {
		t.Fatalf("LoadPlan of a re-hashed plan: %v", err)
	}
	return q
}

// TestAttack_ApplyDuplicateChangeIDs: NewPlan never lists one change ID
// twice, and Apply keys its journal by change ID. A plan listing a change
// twice (hand-edited, re-hashed) is bad input that Apply should refuse
// before any write; at least it must not be reported as the work of
// "another run" when there is none.
func TestAttack_ApplyDuplicateChangeIDs(t *testing.T) {
	t.Parallel()
	env := newMemEnv(t,
		user{id: "1", email: "owner@example.com", role: "admin"},
		user{id: "3", email: "ann@example.com", role: "agent"},
		user{id: "5", email: "bob@example.com", role: "agent"},
	)
	p := env.plan(t, leaverPolicy, "groups: [{name: Support, members: [ann@example.com, bob@example.com]}]", wideOpen)
	if len(p.Changes) != 2 {
		t.Fatalf("want two grants:\n%s", table(t, p))
	}
	// The second change keeps its content but takes the first one's ID.
	p.Changes[1].ID = p.Changes[0].ID
	var buf bytes.Buffer
	if err := p.Save(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := provision.LoadPlan(&buf); !errors.Is(err, provision.ErrInvalidPlan) {
		t.Errorf("LoadPlan of a re-hashed plan with a duplicate change ID: %v, want ErrInvalidPlan", err)
	}
	before := env.b.Requests()
	rep, err := applyRecovering(t, env.sys, newJournal(t, nil), p)
	if err != nil {
		if w := env.b.Requests() - before; w > 1 {
			t.Errorf("refused after %d backend calls (writes?): %v", w, err)
		}
		return
	}
	for _, r := range rep.Results {
		t.Logf("%s (%s): %s %v", r.Change.ID, r.Change.PrincipalID, r.State, r.Err)
	}
	if !env.holds(t, "user:5", "group:4:member") {
		t.Errorf("a plan with a duplicate change ID was applied without an error, and the change of user:5 was dropped (reported %s: %v)",
			rep.Results[1].State, rep.Results[1].Err)
	}
}

// TestAttackApplyBasisMissing: every principal a change names has a Basis
// in the plan (Plan.Basis doc). A plan whose Basis map lost entries is
// hand-edited; Apply must not change a principal it cannot check. It does
// not error out, but it must at least not write.
func TestAttackApplyBasisMissing(t *testing.T) {
	t.Parallel()
	env := newMemEnv(t,
		user{id: "1", email: "owner@example.com", role: "admin"},
		user{id: "2", email: "dan@example.com", role: "agent", grants: []string{"group:4:member"}},
		user{id: "3", email: "ann@example.com", role: "agent"},
	)
	p := env.plan(t, leaverPolicy, "groups: [{name: Support, members: [ann@example.com]}]", wideOpen)
	clear(p.Basis)
	p = resave(t, p)
	rep, err := applyRecovering(t, env.sys, newJournal(t, nil), p)
	if err != nil {
		t.Logf("refused: %v", err)
		return
	}
	for _, r := range rep.Results {
		if r.State == provision.StateApplied {
			t.Errorf("%s applied although the plan records no Basis for %s", r.Change.ID, r.Change.PrincipalID)
		}
	}
}

// TestAttackPlanFromAnotherAccount: a plan whose account was edited (and
// re-hashed) is refused with ErrWrongAccount before any request that
// writes.
func TestAttackPlanFromAnotherAccount(t *testing.T) {
	t.Parallel()
	env := newMemEnv(t,
		user{id: "1", email: "owner@example.com", role: "admin"},
		user{id: "2", email: "dan@example.com", role: "agent", grants: []string{"group:4:member"}},
	)
	p := env.plan(t, leaverPolicy, "groups: [{name: Support, members: []}]", wideOpen)
	p.Account = "globex"
	p = resave(t, p)
	before := env.b.Requests()
	if _, err := applyRecovering(t, env.sys, newJournal(t, nil), p); !errors.Is(err, provision.ErrWrongAccount) {
		t.Errorf("Apply of another account's plan: %v, want ErrWrongAccount", err)
	}
	if n := env.b.Requests() - before; n != 0 {
		t.Errorf("a refused plan made %d backend requests", n)
	}
	if !env.holds(t, "user:2", "group:4:member") {
		t.Error("the leaver was deprovisioned by a refused plan")
	}
	// A file edited without fixing its hash is refused by LoadPlan.
	var buf bytes.Buffer
	p.Account = "acme"
	if err := p.Save(&buf); err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(buf.Bytes(), []byte(`"blocked": {`), []byte(`"xblocked": {`), 1)
	edited = bytes.Replace(edited, []byte(`"account": "acme"`), []byte(`"account": "globex"`), 1)
	if _, err := provision.LoadPlan(bytes.NewReader(edited)); !errors.Is(err, provision.ErrPlanModified) && err == nil {
		t.Errorf("LoadPlan of an edited plan: %v", err)
	}
}

// ---------------------------------------------------------------------------
// The simulator

// simEnv is a simulated Zendesk account read by the Zendesk backend in
// ScopeAllUsers, with the owner named.
type simEnv struct {
	srv *zendesktest.Server
	b   *zendeskaccess.Backend
	sys *access.System
}

func newSimEnv(t *testing.T, spec zendesktest.AccountSpec, opts ...zendesktest.Option) *simEnv {
	t.Helper()
	all := append([]zendesktest.Option{zendesktest.WithAccount(spec), zendesktest.WithRateLimit(1_000_000),
		zendesktest.WithRequestLog(20_000), zendesktest.WithUserUpdateLimit(0), zendesktest.WithAgentSeats(1000),
		zendesktest.WithJobDelay(0), zendesktest.WithClock(now)}, opts...)
	srv, err := zendesktest.NewServer(all...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	e := &simEnv{srv: srv}
	e.b = e.backend(t, "")
	if e.sys, err = access.NewSystem(e.b); err != nil {
		t.Fatal(err)
	}
	return e
}

// backend returns another backend on the account: acting as the admin
// credential, or as the staff member asEmail (by OAuth) if not empty.
func (e *simEnv) backend(t *testing.T, asEmail string, opts ...zendeskaccess.Option) *zendeskaccess.Backend {
	t.Helper()
	cr := e.srv.Credentials()
	auth := zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken)
	if asEmail != "" {
		tok, err := e.srv.IssueAccessToken(asEmail, "")
		if err != nil {
			t.Fatal(err)
		}
		auth = zendesk.WithOAuthToken(tok)
	}
	c, err := zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(e.srv.URL), auth,
		zendesk.WithRateLimit(1_000_000), zendesk.WithUserUpdateLimit(0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := zendeskaccess.New(c, append([]zendeskaccess.Option{zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers),
		zendeskaccess.WithAccountOwner(e.srv.OwnerID())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// users returns every user of the account, deleted ones included (the
// simulator numbers users from 10000000001 on).
func (e *simEnv) users(t *testing.T) []zendesktest.User {
	t.Helper()
	var out []zendesktest.User
	for id := int64(10_000_000_001); ; id++ {
		u, ok := e.srv.User(id)
		if !ok {
			return out
		}
		out = append(out, u)
	}
}

func rid(id int64) string { return fmt.Sprintf("user:%d", id) }

func grantIDs(gs []access.Grant) []string {
	out := make([]string, 0, len(gs))
	for _, g := range gs {
		out = append(out, g.ID())
	}
	slices.Sort(out)
	return out
}

// TestAttackLadderOddStates takes every step of the ladder, through
// System.Deprovision, for users in odd states (an admin, an agent with a
// custom role and groups, a suspended agent, an end user, a soft-deleted
// user) and checks that each step reports what it removed: a downgrade
// the role, custom role and groups the user held; a deletion every grant;
// a step already taken AccountUnchanged; a step on a deleted account
// ErrUnknownPrincipal.
func TestAttackLadderOddStates(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, zendesktest.AccountSpec{Seed: 3, EndUsers: 8, Agents: 8, Admins: 3, Groups: 4, Organizations: 3,
		GroupMemberships: 20, OrganizationMemberships: 8, CustomRoles: 2, Suspended: 3, Deleted: 2})
	ctx := t.Context()
	var admin, agentCR, suspended, endUser, deleted int64
	for _, u := range e.users(t) {
		switch {
		case u.Owner:
		case !u.Active && deleted == 0:
			deleted = u.ID
		case !u.Active:
		case u.Suspended && u.Role != "end-user" && suspended == 0:
			suspended = u.ID
		case u.Suspended:
		case u.Role == "admin" && admin == 0:
			admin = u.ID
		case u.Role == "agent" && u.CustomRoleID != 0 && agentCR == 0 && len(e.srv.GroupMembershipsOf(u.ID)) > 0:
			agentCR = u.ID
		case u.Role == "end-user" && endUser == 0:
			endUser = u.ID
		}
	}
	if admin == 0 || agentCR == 0 || suspended == 0 || endUser == 0 || deleted == 0 {
		t.Fatalf("the account lacks a user in an odd state: admin %d agent %d suspended %d end user %d deleted %d", admin, agentCR, suspended, endUser, deleted)
	}
	held := func(id int64) []string {
		gs, err := e.sys.GrantsFor(ctx, rid(id))
		if err != nil {
			t.Fatalf("GrantsFor %d: %v", id, err)
		}
		return grantIDs(gs)
	}
	step := func(id int64, s access.DeprovisionStep) (access.AccountResult, error) {
		return e.sys.Deprovision(ctx, rid(id), s)
	}
	downgradeRemoves := func(ids []string) []string {
		var out []string
		for _, g := range ids {
			if !strings.HasPrefix(g, "organization:") && !strings.HasPrefix(g, "role:end-user:") {
				out = append(out, g)
			}
		}
		return out
	}

	for _, id := range []int64{admin, agentCR, suspended} {
		before := held(id)
		res, err := step(id, access.DeprovisionDowngrade)
		if err != nil {
			t.Fatalf("downgrade %d: %v", id, err)
		}
		if got, want := grantIDs(res.Replaced), downgradeRemoves(before); !slices.Equal(got, want) {
			t.Errorf("downgrade user %d reports removing %v; it held %v", id, got, want)
		}
		if res.Status != access.AccountChanged {
			t.Errorf("downgrade %d: %s", id, res.Status)
		}
		if after := held(id); !slices.Contains(after, access.GrantID("role:end-user:assigned", rid(id))) || len(downgradeRemoves(after)) != 0 {
			t.Errorf("after the downgrade user %d holds %v", id, after)
		}
		if res, err := step(id, access.DeprovisionDowngrade); err != nil || res.Status != access.AccountUnchanged {
			t.Errorf("second downgrade of %d: %s %v, want unchanged", id, res.Status, err)
		}
	}
	// Suspending a suspended user, or downgrading an end user: unchanged.
	if res, err := step(suspended, access.DeprovisionSuspend); err != nil || res.Status != access.AccountUnchanged || len(res.Replaced) != 0 {
		t.Errorf("suspend a suspended user: %+v %v", res, err)
	}
	if res, err := step(endUser, access.DeprovisionDowngrade); err != nil || res.Status != access.AccountUnchanged {
		t.Errorf("downgrade an end user: %+v %v", res, err)
	}
	// A soft delete removes (and reports) every grant.
	before := held(agentCR)
	res, err := step(agentCR, access.DeprovisionSoftDelete)
	if err != nil {
		t.Fatal(err)
	}
	if got := grantIDs(res.Replaced); !slices.Equal(got, before) {
		t.Errorf("soft delete reports removing %v; the user held %v", got, before)
	}
	// Steps on deleted users.
	for _, id := range []int64{deleted, agentCR} {
		for _, s := range []access.DeprovisionStep{access.DeprovisionSuspend, access.DeprovisionDowngrade} {
			if _, err := step(id, s); !errors.Is(err, access.ErrUnknownPrincipal) {
				t.Errorf("%s deleted user %d: %v, want ErrUnknownPrincipal", s, id, err)
			}
		}
		if res, err := step(id, access.DeprovisionSoftDelete); err != nil || res.Status != access.AccountUnchanged {
			t.Errorf("soft delete of deleted user %d: %s %v, want unchanged", id, res.Status, err)
		}
		if res, err := step(id, access.DeprovisionPermanentDelete); err != nil || res.Status != access.AccountChanged {
			t.Errorf("purge of deleted user %d: %s %v, want changed", id, res.Status, err)
		}
		if res, err := step(id, access.DeprovisionPermanentDelete); err != nil || res.Status != access.AccountUnchanged {
			t.Errorf("second purge of user %d: %s %v, want unchanged", id, res.Status, err)
		}
	}
	if _, err := step(99999999999, access.DeprovisionPermanentDelete); !errors.Is(err, access.ErrUnknownPrincipal) {
		t.Errorf("purge of a user who never existed: %v", err)
	}
	// Non-canonical ids are refused before any request.
	e.srv.ResetStats()
	for _, id := range []string{"user:0" + strings.TrimPrefix(rid(endUser), "user:"), "user:+1", "User:1", "user:1 ", "group:1"} {
		if _, err := e.sys.Deprovision(ctx, id, access.DeprovisionSoftDelete); err == nil {
			t.Errorf("deprovision %q: no error", id)
		}
	}
	if w := writes(e.srv); w != 0 {
		t.Errorf("refused deprovisions sent %d writes", w)
	}
}

// TestAttack_SystemDeprovisionSelf: "Guards refuse, before any write and
// with a *provision.GuardError naming the guard, any change that takes
// access from ... the user zgov's credential acts as". The README's one
// entry point for taking one account down is sys.Deprovision, and it has
// no such guard: with a credential acting as a (non-owner) admin,
// suspending or downgrading that admin succeeds, locking zgov out of the
// account. (The owner is refused, by the backend, with ErrNotGrantable:
// not a GuardError either.)
func TestAttack_SystemDeprovisionSelf(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, zendesktest.AccountSpec{Seed: 5, EndUsers: 2, Agents: 2, Admins: 2, Groups: 2})
	ctx := t.Context()
	var admin zendesktest.User
	for _, u := range e.users(t) {
		if u.Role == "admin" && !u.Owner && u.Active && !u.Suspended {
			admin = u
			break
		}
	}
	if admin.ID == 0 {
		t.Fatal("no second admin")
	}
	b := e.backend(t, admin.Email)
	sys, err := access.NewSystem(b)
	if err != nil {
		t.Fatal(err)
	}
	facts, err := b.GuardFacts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if facts.Self != rid(admin.ID) {
		t.Fatalf("GuardFacts.Self = %s, want %s", facts.Self, rid(admin.ID))
	}
	// The owner: refused by the backend.
	if _, err := sys.Deprovision(ctx, rid(e.srv.OwnerID()), access.DeprovisionSuspend); !errors.Is(err, access.ErrNotGrantable) {
		t.Errorf("suspend the owner: %v, want ErrNotGrantable", err)
	}
	// Self.
	res, err := sys.Deprovision(ctx, facts.Self, access.DeprovisionDowngrade)
	after, _ := e.srv.User(admin.ID)
	if err == nil && after.Role != "admin" {
		t.Errorf("System.Deprovision downgraded the credential's own user %s (%s, now %s): no guard refused it; zgov can no longer administer the account",
			facts.Self, res.Status, after.Role)
	}
}

// TestAttackCreateAccountRaces creates one person's account from many
// goroutines on one backend and on several backends at once, with e-mail
// addresses in other cases, in bulk and one by one: one account, every
// other call AccountExists naming it.
func TestAttackCreateAccountRaces(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, zendesktest.AccountSpec{Seed: 7, EndUsers: 2, Agents: 2, Admins: 1, Groups: 2})
	ctx := t.Context()
	systems := []*access.System{e.sys}
	for range 3 {
		s, err := access.NewSystem(e.backend(t, ""))
		if err != nil {
			t.Fatal(err)
		}
		systems = append(systems, s)
	}
	for round, email := range []string{"race.one@example.com", "Race.Two@Example.com", "r\u00e4ce.three@example.com"} {
		spellings := []string{email, strings.ToLower(email), strings.ToUpper(email[:1]) + email[1:]}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ids := map[string]int{}
		created := 0
		for i := range 24 {
			wg.Go(func() {
				sys := systems[i%len(systems)]
				req := access.AccountRequest{Person: access.Person{Email: spellings[i%len(spellings)], Name: "Racer", ExternalID: fmt.Sprintf("ext-race-%d", round)}}
				var res access.AccountResult
				var err error
				if i%2 == 0 {
					res, err = sys.CreateAccount(ctx, req)
				} else {
					r := sys.CreateAccounts(ctx, []access.AccountRequest{req}, nil)[0]
					res, err = r.Result, r.Err
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("create %s (call %d): %v", req.Person.Email, i, err)
					return
				}
				ids[res.PrincipalID]++
				if res.Status == access.AccountCreated {
					created++
				}
			})
		}
		wg.Wait()
		// One bulk call naming the person under every spelling.
		var batch []access.AccountRequest
		for _, sp := range spellings {
			batch = append(batch, access.AccountRequest{Person: access.Person{Email: sp}})
		}
		for _, r := range systems[1].CreateAccounts(ctx, batch, nil) {
			if r.Err != nil || r.Result.Status != access.AccountExists {
				t.Errorf("%s: bulk create of an existing person: %+v %v", email, r.Result, r.Err)
			}
			ids[r.Result.PrincipalID]++
		}
		if len(ids) != 1 || created != 1 {
			t.Errorf("%s: %d calls made accounts %v, %d reported created; want one account, created once", email, 24, ids, created)
		}
		n := 0
		for _, u := range e.users(t) {
			if u.Active && strings.EqualFold(u.Email, email) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d live accounts", email, n)
		}
	}
}

// ---------------------------------------------------------------------------
// Resuming, concurrency, cancellation

// crashStore is a JournalStore that dies at its crashAt-th Append: that
// append is stored or not (stored), and fails; every later append fails
// too, as in a process that died. Reads keep working (for the test).
type crashStore struct {
	*provision.MemoryJournalStore
	mu      sync.Mutex
	appends int
	crashAt int
	stored  bool
}

var errCrash = errors.New("crash (simulated)")

func (s *crashStore) Append(ctx context.Context, entries ...provision.JournalEntry) error {
	s.mu.Lock()
	s.appends++
	n := s.appends
	s.mu.Unlock()
	switch {
	case n < s.crashAt:
		return s.MemoryJournalStore.Append(ctx, entries...)
	case n == s.crashAt && s.stored:
		if err := s.MemoryJournalStore.Append(ctx, entries...); err != nil {
			return err
		}
	}
	return errCrash
}

// resumeUsers is an account where a plan creates, grants, revokes
// (prune) and deprovisions.
func resumeUsers() []user {
	return []user{
		{id: "1", email: "owner@example.com", role: "admin"},
		{id: "2", email: "ann@example.com", role: "agent", grants: []string{"group:2:member"}},
		{id: "3", email: "dan@example.com", role: "agent", grants: []string{"group:4:member", "custom_role:1:assigned"}},
		{id: "4", email: "eve@example.com", role: "end-user"},
		{id: "5", email: "hal@example.com", role: "agent", grants: []string{"group:4:member", "group:3:member"}},
	}
}

const resumePolicy = `ladder: [downgrade, suspend]
prune: true
rules:
  - directory_group: Support
    role: agent
    custom_role: Staff
    groups: [VIP, Tier 2]
    organizations: [Acme]
`

const resumeDirectory = `groups:
  - name: Support
    members: [ann@example.com, eve@example.com, fay@example.com, {email: gus@example.com, name: Gus, external_id: 00ugus}]
`

// journalShape checks that every change of the journal was started once
// and finished once, and the chain verifies.
func journalShape(t *testing.T, j *provision.Journal, what string) {
	t.Helper()
	rep, err := j.Verify(t.Context())
	if err != nil {
		t.Errorf("%s: Verify: %v", what, err)
		return
	}
	if rep.Unfinished != 0 {
		t.Errorf("%s: %d changes never finished", what, rep.Unfinished)
	}
	kinds := map[string][]provision.JournalEntryKind{}
	for e, err := range j.Entries(t.Context(), 1) {
		if err != nil {
			t.Fatal(err)
		}
		kinds[e.ChangeID] = append(kinds[e.ChangeID], e.Kind)
	}
	for id, ks := range kinds {
		if !slices.Equal(ks, []provision.JournalEntryKind{provision.JournalStarted, provision.JournalFinished}) {
			t.Errorf("%s: change %s journaled as %v", what, id, ks)
		}
	}
}

// TestAttackApplyCrashAtEveryJournalWrite kills a run at each of its
// journal writes in turn (the write lost, or stored and its answer lost)
// and runs the plan again on the same journal: it converges (a new plan
// has nothing left to do but what guards block), every change is in the
// journal started once and finished once, no account is created twice,
// and no change is reported applied by both runs.
func TestAttackApplyCrashAtEveryJournalWrite(t *testing.T) {
	t.Parallel()
	probe := newMemEnv(t, resumeUsers()...)
	probePlan := probe.plan(t, resumePolicy, resumeDirectory, wideOpen)
	n := 2*len(probePlan.Changes) + 1
	kinds := map[provision.ChangeKind]int{}
	for _, c := range probePlan.Changes {
		kinds[c.Kind]++
	}
	if kinds[provision.ChangeCreateAccount] < 2 || kinds[provision.ChangeRevoke] == 0 || kinds[provision.ChangeDeprovision] < 2 || kinds[provision.ChangeGrant] < 6 {
		t.Fatalf("the plan lacks a kind of change: %v\n%s", kinds, table(t, probePlan))
	}
	for crashAt := 1; crashAt <= n; crashAt++ {
		for _, stored := range []bool{false, true} {
			what := fmt.Sprintf("crash at append %d (stored %v)", crashAt, stored)
			env := newMemEnv(t, resumeUsers()...)
			p := env.plan(t, resumePolicy, resumeDirectory, wideOpen)
			cs := &crashStore{MemoryJournalStore: provision.NewMemoryJournalStore(), crashAt: crashAt, stored: stored}
			rep1, err1 := provision.Apply(t.Context(), env.sys, newJournal(t, cs), p, &provision.ApplyOptions{Actor: attacker})
			if err1 == nil && crashAt < n-1 {
				t.Errorf("%s: the first run did not notice", what)
			}
			j := newJournal(t, cs.MemoryJournalStore)
			rep2, err := provision.Apply(t.Context(), env.sys, j, p, &provision.ApplyOptions{Actor: attacker})
			if err != nil {
				t.Errorf("%s: resumed Apply: %v", what, err)
				continue
			}
			if rep2.Failed != 0 || rep2.Stale != 0 {
				for _, r := range rep2.Results {
					if r.State == provision.StateFailed || r.State == provision.StateStale {
						t.Errorf("%s: resumed %s: %s %v", what, r.Change.ID, r.State, r.Err)
					}
				}
			}
			for i, r := range rep2.Results {
				if rep1 != nil && len(rep1.Results) > i && rep1.Results[i].State == provision.StateApplied && r.State == provision.StateApplied {
					t.Errorf("%s: %s applied by both runs", what, r.Change.ID)
				}
			}
			journalShape(t, j, what)
			for _, c := range env.plan(t, resumePolicy, resumeDirectory, wideOpen).Changes {
				if c.Blocked == nil {
					t.Errorf("%s: after resuming, the plan still has %s", what, c.ID)
				}
			}
			s := env.snap(t)
			accounts := map[string]int{}
			for _, r := range s.Resources() {
				if r.Type() == "user" {
					accounts[strings.ToLower(r.Attributes()["email"])]++
				}
			}
			for email, k := range accounts {
				if k != 1 {
					t.Errorf("%s: %d accounts for %s", what, k, email)
				}
			}
		}
	}
}

// ctxFreeStore is a MemoryJournalStore that does not look at contexts, as
// a store whose driver ignores them (nothing in JournalStore asks it to).
type ctxFreeStore struct{ *provision.MemoryJournalStore }

func (s ctxFreeStore) Head(context.Context) (provision.JournalHead, error) {
	return s.MemoryJournalStore.Head(context.Background())
}

func (s ctxFreeStore) Append(_ context.Context, es ...provision.JournalEntry) error {
	return s.MemoryJournalStore.Append(context.Background(), es...)
}

func (s ctxFreeStore) ChangeEntries(_ context.Context, id string) ([]provision.JournalEntry, error) {
	return s.MemoryJournalStore.ChangeEntries(context.Background(), id)
}

// cancelingBackend is a memaccess backend whose Deprovision waits until
// `width` calls are in flight, then cancels the run (cancel) and answers
// each with the context's error, as HTTP requests cut short by a canceled
// context are.
type cancelingBackend struct {
	*memaccess.Backend
	width  int
	cancel context.CancelFunc
	mu     sync.Mutex
	n      int
	all    chan struct{}
}

func (b *cancelingBackend) Deprovision(ctx context.Context, principalID string, step access.DeprovisionStep) (access.AccountResult, error) {
	b.mu.Lock()
	b.n++
	if b.n == b.width {
		b.cancel()
		close(b.all)
	}
	b.mu.Unlock()
	<-b.all
	<-ctx.Done()
	return access.AccountResult{}, fmt.Errorf("deprovision %s: %w", principalID, ctx.Err())
}

// TestAttack_ApplyCanceledRunResumes: "Apply is resumable: killed at any
// point and run again, it converges with no change done twice and none
// lost." A run canceled (ctx) while deprovisioning journals the steps the
// cancellation cut short as finished with an error (class "canceled")
// whenever its journal write wins the race with ctx.Done in Journal.append
// (a select: about one in two) and the store does not itself refuse a
// canceled context (nothing in JournalStore asks it to); running the same plan again takes them as
// finished and failed for good (StateFailed, "plan again") and never
// carries them out: lost, although nothing but the cancellation failed.
func TestAttack_ApplyCanceledRunResumes(t *testing.T) {
	t.Parallel()
	users := []user{{id: "1", email: "owner@example.com", role: "admin"}, {id: "2", email: "ann@example.com", role: "agent"}}
	for i := range 8 {
		users = append(users, user{id: itoa(10 + i), email: fmt.Sprintf("leaver%d@example.com", i), role: "agent", grants: []string{"group:4:member"}})
	}
	for round := range 3 {
		env := newMemEnv(t, users...)
		p := env.plan(t, leaverPolicy, "groups: [{name: Support, members: [ann@example.com]}]", wideOpen)
		ctx, cancel := context.WithCancel(t.Context())
		cb := &cancelingBackend{Backend: env.b, width: 8, cancel: cancel, all: make(chan struct{})}
		sys, err := access.NewSystem(cb)
		if err != nil {
			t.Fatal(err)
		}
		j := newJournal(t, ctxFreeStore{provision.NewMemoryJournalStore()})
		_, err = provision.Apply(ctx, sys, j, p, &provision.ApplyOptions{Actor: attacker})
		cancel()
		if err == nil {
			t.Fatalf("round %d: the canceled run reports no error", round)
		}
		rep, err := provision.Apply(t.Context(), env.sys, j, p, &provision.ApplyOptions{Actor: attacker})
		if err != nil {
			t.Fatalf("round %d: resumed Apply: %v", round, err)
		}
		lost := 0
		for _, r := range rep.Results {
			if r.State == provision.StateFailed {
				lost++
				if lost == 1 {
					t.Errorf("round %d: the resumed run leaves %s failed, as the canceled run journaled it (outcome: %s, class %s), and does not carry it out",
						round, r.Change.ID, r.Outcome.Error, r.Outcome.ErrorClass)
				}
			}
		}
		if lost > 0 {
			t.Errorf("round %d: %d changes lost to the cancellation", round, lost)
			return
		}
	}
}

// hireAccounts counts the live accounts of each new hire of a day-one
// account.
func hireAccounts(srv *zendesktest.Server) map[string]int {
	out := map[string]int{}
	for _, u := range liveUsersOf(srv) {
		if strings.HasPrefix(u.Email, "hire") {
			out[strings.ToLower(u.Email)]++
		}
	}
	return out
}

// TestAttackApplyConcurrentRuns applies one plan from two goroutines at
// once, each with its own journal (a misconfiguration): the account
// converges, with one account per new hire, each journal well formed.
// (Sharing one journal: TestAttack_ConcurrentApplyRedoesInFlightChange.)
func TestAttackApplyConcurrentRuns(t *testing.T) {
	t.Parallel()
	g := provision.Guards{MaxDestructive: 100, MaxTeamShare: 1}
	d := newDayOne(t)
	plan := d.plan(t, g)
	sys2, err := access.NewSystem(d.backend(t, d.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	j1, j2 := newJournal(t, nil), newJournal(t, nil)
	var errs [2]error
	var wg sync.WaitGroup
	for k, run := range []struct {
		sys *access.System
		j   *provision.Journal
	}{{d.sys, j1}, {sys2, j2}} {
		wg.Go(func() {
			_, errs[k] = provision.Apply(t.Context(), run.sys, run.j, plan, &provision.ApplyOptions{Actor: applier})
		})
	}
	wg.Wait()
	for k, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", k, err)
		}
	}
	accounts := hireAccounts(d.srv)
	for email, n := range accounts {
		if n != 1 {
			t.Errorf("%d accounts for %s", n, email)
		}
	}
	if len(accounts) != 5 {
		t.Errorf("hires with accounts: %v", accounts)
	}
	journalShape(t, j1, "journal 1")
	journalShape(t, j2, "journal 2")
	// What is left: a third run on the first journal, then a new plan.
	if _, err := provision.Apply(t.Context(), d.sys, j1, plan, &provision.ApplyOptions{Actor: applier}); err != nil {
		t.Fatal(err)
	}
	for _, c := range d.plan(t, g).Changes {
		if c.Blocked == nil {
			t.Errorf("after two concurrent runs the plan still has %s", c.ID)
		}
	}
}

// gateBackend is a memaccess backend that counts Deprovision calls and
// holds the first one until release is closed (entered is closed when it
// arrives): a run caught in the middle of a change.
type gateBackend struct {
	*memaccess.Backend
	calls   atomic.Int64
	entered chan struct{}
	release chan struct{}
}

func (b *gateBackend) Deprovision(ctx context.Context, principalID string, step access.DeprovisionStep) (access.AccountResult, error) {
	if b.calls.Add(1) == 1 {
		close(b.entered)
		<-b.release
	}
	return b.Backend.Deprovision(ctx, principalID, step)
}

// TestAttack_ConcurrentApplyRedoesInFlightChange: the journal refuses a
// change ID twice "even when several processes begin it at once, so a
// plan item keyed by its ID is journaled once", and Apply promises "no
// change done twice". Apply cannot tell a change another live run is
// carrying out from one a dead run left unfinished: a second run of the
// plan on the same journal, started while the first is in the middle of
// a deprovisioning step, takes the step as interrupted ("resumed"),
// carries it out again, and finishes it; the first run then fails with
// ErrJournalChangeFinished and stops. (Two runs started together hit the
// same race at random: an error "change already finished" in one of them.)
func TestAttack_ConcurrentApplyRedoesInFlightChange(t *testing.T) {
	t.Parallel()
	env := newMemEnv(t,
		user{id: "1", email: "owner@example.com", role: "admin"},
		user{id: "2", email: "ann@example.com", role: "agent"},
		user{id: "5", email: "hal@example.com", role: "agent", grants: []string{"group:4:member"}},
	)
	p := env.plan(t, leaverPolicy, "groups: [{name: Support, members: [ann@example.com]}]", wideOpen)
	gb := &gateBackend{Backend: env.b, entered: make(chan struct{}), release: make(chan struct{})}
	sys, err := access.NewSystem(gb)
	if err != nil {
		t.Fatal(err)
	}
	j := newJournal(t, nil)
	firstErr := make(chan error, 1)
	go func() {
		_, err := provision.Apply(t.Context(), sys, j, p, &provision.ApplyOptions{Actor: attacker})
		firstErr <- err
	}()
	<-gb.entered // the first run is downgrading hal
	rep, err := provision.Apply(t.Context(), sys, j, p, &provision.ApplyOptions{Actor: attacker})
	close(gb.release)
	err1 := <-firstErr
	// A second run of the plan on the same journal while the first runs is
	// refused before any write (ErrApplyRunning); one that went ahead must
	// not carry out what the first is carrying out.
	if errors.Is(err, provision.ErrApplyRunning) {
		rep = &provision.ApplyReport{}
	} else if err != nil {
		t.Errorf("second run: %v", err)
	}
	if err1 != nil {
		t.Errorf("the first run, in the middle of a change when the second started, failed: %v", err1)
	}
	if n := gb.calls.Load(); n > 2 {
		t.Errorf("%d deprovisioning calls for a plan of 2 steps", n)
	}
	for _, r := range rep.Results {
		if r.Change.ID == "deprovision user:5 downgrade" && (r.State == provision.StateApplied || r.State == provision.StateDone && r.Outcome != nil && r.Outcome.Status != "in_effect") {
			t.Errorf("the second run carried out %s (%s) while the first run was carrying it out", r.Change.ID, r.State)
		}
	}
	journalShape(t, j, "one journal, two runs")
}

// lossyProxy stands between a backend and the simulator: its rule says,
// per request, "" (forward), "fail500" (answer 500 without forwarding) or
// "lose" (forward, then drop the answer: the simulator acted, the client
// does not know).
type lossyProxy struct {
	URL  string
	mu   sync.Mutex
	rule func(*http.Request) string
}

func newLossyProxy(t *testing.T, target string) *lossyProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0)
	p := &lossyProxy{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		rule := p.rule
		p.mu.Unlock()
		action := ""
		if rule != nil {
			action = rule(r)
		}
		switch action {
		case "fail500":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"error":"InternalError","description":"failed by the test proxy"}`))
		case "lose":
			rp.ServeHTTP(httptest.NewRecorder(), r)
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = conn.Close()
			}
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	hs.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(hs.Close)
	p.URL = hs.URL
	return p
}

func (p *lossyProxy) set(rule func(*http.Request) string) {
	p.mu.Lock()
	p.rule = rule
	p.mu.Unlock()
}

// fastBackend is a backend of d's account at baseURL that retries quickly.
func fastBackend(t *testing.T, d *dayOne, baseURL string) *zendeskaccess.Backend {
	t.Helper()
	cr := d.srv.Credentials()
	c, err := zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(baseURL), zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken),
		zendesk.WithRateLimit(1_000_000), zendesk.WithUserUpdateLimit(0), zendesk.WithRetryWait(time.Millisecond, 5*time.Millisecond),
		zendesk.WithMaxRetries(3))
	if err != nil {
		t.Fatal(err)
	}
	b, err := zendeskaccess.New(c, zendeskaccess.WithAccountOwner(d.srv.OwnerID()))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAttackApplyLostAnswers applies a day-one plan through a network that
// loses the answers of writes (after Zendesk acted) and fails others with
// 500, in bulk jobs, creates, role changes and deletions alike; then runs
// the plan again on the same journal over a healthy network, and plans
// and applies once more for what failed for good. The account converges,
// every new hire has exactly one account, and each journal is well formed.
func TestAttackApplyLostAnswers(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"lose", "fail500"} {
		d := newDayOne(t)
		g := provision.Guards{MaxDestructive: 100, MaxTeamShare: 1}
		plan := d.plan(t, g)
		px := newLossyProxy(t, d.srv.URL)
		var n atomic.Int64
		px.set(func(r *http.Request) string {
			if r.Method == http.MethodGet {
				return ""
			}
			if k := n.Add(1); k%3 == 1 && k < 60 {
				return mode
			}
			return ""
		})
		sys, err := access.NewSystem(fastBackend(t, d, px.URL))
		if err != nil {
			t.Fatal(err)
		}
		j := newJournal(t, nil)
		rep1, err := provision.Apply(t.Context(), sys, j, plan, &provision.ApplyOptions{Actor: applier})
		if err != nil {
			t.Fatalf("%s: first Apply: %v", mode, err)
		}
		for _, r := range rep1.Results {
			if r.State == provision.StateFailed {
				t.Logf("%s: failed %s: %v", mode, r.Change.ID, r.Err)
			}
		}
		t.Logf("%s: first run over the spoiled network: %d applied, %d done, %d stale, %d failed (%d writes spoiled)", mode, rep1.Applied, rep1.Done, rep1.Stale, rep1.Failed, (min(n.Load(), 59)+2)/3)
		rep2, err := provision.Apply(t.Context(), d.sys, j, plan, &provision.ApplyOptions{Actor: applier})
		if err != nil {
			t.Fatalf("%s: second Apply: %v", mode, err)
		}
		for _, r := range rep2.Results {
			if r.State == provision.StateApplied && rep1.Results[slices.IndexFunc(rep1.Results, func(x provision.ChangeResult) bool { return x.Change.ID == r.Change.ID })].State == provision.StateApplied {
				t.Errorf("%s: %s applied by both runs", mode, r.Change.ID)
			}
		}
		journalShape(t, j, mode)
		again := d.plan(t, g)
		if _, err := provision.Apply(t.Context(), d.sys, newJournal(t, nil), again, &provision.ApplyOptions{Actor: applier}); err != nil {
			t.Fatalf("%s: Apply of a new plan: %v", mode, err)
		}
		for _, c := range d.plan(t, g).Changes {
			if c.Blocked == nil {
				t.Errorf("%s: after three runs the plan still has %s", mode, c.ID)
			}
		}
		accounts := hireAccounts(d.srv)
		for email, k := range accounts {
			if k != 1 {
				t.Errorf("%s: %d accounts for %s", mode, k, email)
			}
		}
		if len(accounts) != 5 {
			t.Errorf("%s: hires with accounts: %v", mode, accounts)
		}
	}
}

// TestAttack_CreateAccountLostAnswer: "sys.CreateAccount gives a person
// ... an account, idempotently" and "nothing half-done without saying what
// was done". When the answer to POST /users is lost after Zendesk created
// the user (the client does not retry a POST), CreateAccount reports a
// plain error, not the account it made: it searches again only when
// Zendesk answers 422. Apply journals the create as failed for good, so
// the person's grants are reported "has no account (its creation
// failed)" and running the same plan again does not give them: the
// changes are lost until someone plans again.
func TestAttack_CreateAccountLostAnswer(t *testing.T) {
	t.Parallel()
	d := newDayOne(t)
	px := newLossyProxy(t, d.srv.URL)
	px.set(func(r *http.Request) string {
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/api/v2/users") {
			return "lose"
		}
		return ""
	})
	sys, err := access.NewSystem(fastBackend(t, d, px.URL))
	if err != nil {
		t.Fatal(err)
	}
	person := access.Person{Email: "lost.answer@example.com", Name: "Lost Answer"}
	res, err := sys.CreateAccount(t.Context(), access.AccountRequest{Person: person})
	u, exists := d.srv.UserByEmail(person.Email)
	if !exists {
		t.Fatalf("the simulator did not create the user (%v)", err)
	}
	if err != nil || res.PrincipalID != rid(u.ID) {
		t.Errorf("CreateAccount whose answer was lost: %+v, %v; Zendesk holds user %d for %s: the call made the account and says it failed",
			res, err, u.ID, person.Email)
	}

	// Through Apply: the create of a new hire, in bulk and then alone,
	// loses its answers; the same plan run again over a healthy network
	// still leaves the hire without the planned groups.
	plan := d.plan(t, provision.Guards{MaxDestructive: 100, MaxTeamShare: 1})
	j := newJournal(t, nil)
	if _, err := provision.Apply(t.Context(), sys, j, plan, &provision.ApplyOptions{Actor: applier}); err != nil {
		t.Fatal(err)
	}
	rep, err := provision.Apply(t.Context(), d.sys, j, plan, &provision.ApplyOptions{Actor: applier})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.State == provision.StateFailed && r.Change.Person != nil {
			if _, ok := d.srv.UserByEmail(r.Change.Person.Email); ok {
				t.Errorf("the same plan run again: %s %s (%v), although the account exists", r.Change.ID, r.State, r.Err)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// The journal after Apply

// rawStore is a JournalStore kept as a plain slice, which the test (an
// attacker with write access to the database) edits between runs.
type rawStore struct {
	mu sync.Mutex
	es []provision.JournalEntry
}

func (s *rawStore) Head(context.Context) (provision.JournalHead, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.es) == 0 {
		return provision.JournalHead{}, nil
	}
	return s.es[len(s.es)-1].Head(), nil
}

func (s *rawStore) Append(_ context.Context, es ...provision.JournalEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var h provision.JournalHead
	if len(s.es) > 0 {
		h = s.es[len(s.es)-1].Head()
	}
	for _, e := range es {
		if e.Seq != h.Seq+1 || e.PrevHash != h.Hash {
			return fmt.Errorf("rawStore: %w", provision.ErrJournalConflict)
		}
		h = e.Head()
	}
	s.es = append(s.es, es...)
	return nil
}

func (s *rawStore) Entries(_ context.Context, from int64, limit int) ([]provision.JournalEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []provision.JournalEntry
	for _, e := range s.es {
		if e.Seq >= from && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *rawStore) ChangeEntries(_ context.Context, id string) ([]provision.JournalEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []provision.JournalEntry
	for _, e := range s.es {
		if e.ChangeID == id {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s *rawStore) Unfinished(context.Context) ([]provision.JournalEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	done := map[string]bool{}
	for _, e := range s.es {
		if e.Kind == provision.JournalFinished {
			done[e.ChangeID] = true
		}
	}
	var out []provision.JournalEntry
	for _, e := range s.es {
		if e.Kind == provision.JournalStarted && !done[e.ChangeID] {
			out = append(out, e)
		}
	}
	return out, nil
}

// TestAttackJournalTamperedAfterApply edits, deletes, swaps, forges and
// truncates the journal an Apply wrote: Verify and VerifyJSONL report
// each (truncation against the anchor kept after the run).
func TestAttackJournalTamperedAfterApply(t *testing.T) {
	t.Parallel()
	env := newMemEnv(t, resumeUsers()...)
	p := env.plan(t, resumePolicy, resumeDirectory, wideOpen)
	store := &rawStore{}
	j := newJournal(t, store)
	if _, err := provision.Apply(t.Context(), env.sys, j, p, &provision.ApplyOptions{Actor: attacker}); err != nil {
		t.Fatal(err)
	}
	rep, err := j.Verify(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	anchor := rep.Head
	clean := slices.Clone(store.es)
	n := len(clean)
	if n < 20 {
		t.Fatalf("only %d entries", n)
	}
	firstFinished := slices.IndexFunc(clean, func(e provision.JournalEntry) bool { return e.Kind == provision.JournalFinished })
	copyOf := func() []provision.JournalEntry {
		out := make([]provision.JournalEntry, len(clean))
		for i, e := range clean {
			out[i] = e
			if e.Outcome != nil {
				o := *e.Outcome
				out[i].Outcome = &o
			}
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		tamper func([]provision.JournalEntry) []provision.JournalEntry
	}{
		{"outcome status edited", func(es []provision.JournalEntry) []provision.JournalEntry {
			es[firstFinished].Outcome.Status = "already_granted"
			return es
		}},
		{"principal edited", func(es []provision.JournalEntry) []provision.JournalEntry {
			es[n/2].Op.PrincipalID = "user:999"
			return es
		}},
		{"actor edited", func(es []provision.JournalEntry) []provision.JournalEntry {
			es[3].Actor.Who = "someone-else"
			return es
		}},
		{"middle entry deleted", func(es []provision.JournalEntry) []provision.JournalEntry { return slices.Delete(es, n/2, n/2+1) }},
		{"two entries swapped", func(es []provision.JournalEntry) []provision.JournalEntry {
			es[4], es[5] = es[5], es[4]
			return es
		}},
		{"edited and re-hashed", func(es []provision.JournalEntry) []provision.JournalEntry {
			es[n/2].Actor.Reason = "nothing to see"
			es[n/2].Hash = recipeHashOf(t, es[n/2])
			return es
		}},
		{"tail cut", func(es []provision.JournalEntry) []provision.JournalEntry { return es[:n-3] }},
		{"whole chain re-hashed after an edit", func(es []provision.JournalEntry) []provision.JournalEntry {
			es[1].Actor.Who = "forger"
			rehash(t, es, 1)
			return es
		}},
	} {
		es := tc.tamper(copyOf())
		tj := newJournal(t, &tamperStore{es: es})
		if _, err := tj.Verify(t.Context(), anchor); !errors.Is(err, provision.ErrJournalTampered) {
			t.Errorf("%s: Verify: %v, want ErrJournalTampered", tc.name, err)
		}
		if _, err := provision.VerifyJSONL(bytes.NewReader(export(t, tj)), anchor); !errors.Is(err, provision.ErrJournalTampered) {
			t.Errorf("%s: VerifyJSONL: %v, want ErrJournalTampered", tc.name, err)
		}
	}
	if _, err := newJournal(t, &tamperStore{es: copyOf()}).Verify(t.Context(), anchor); err != nil {
		t.Errorf("the untouched copy: %v", err)
	}
}

// TestAttack_ApplyTrustsTamperedJournal: the journal is "tamper-evident"
// and Apply resumes "from the journal". It reads the outcomes of earlier
// runs without checking a single hash: whoever can write the journal's
// database (and nothing in Zendesk) can edit the outcome of a finished
// create so that the resumed run gives the new hire's access to an account
// of their choosing. Verify reports the edit; Apply acts on it.
func TestAttack_ApplyTrustsTamperedJournal(t *testing.T) {
	t.Parallel()
	users := append(resumeUsers(), user{id: "6", email: "mallory@example.com", role: "agent"})
	env := newMemEnv(t, users...)
	p := env.plan(t, resumePolicy, resumeDirectory, wideOpen)
	store := &rawStore{}
	// The first run dies after the two creates are journaled finished.
	cs := &crashStore{MemoryJournalStore: provision.NewMemoryJournalStore(), crashAt: 5}
	if _, err := provision.Apply(t.Context(), env.sys, newJournal(t, cs), p, &provision.ApplyOptions{Actor: attacker}); err == nil {
		t.Fatal("the first run did not crash")
	}
	for e, err := range newJournal(t, cs.MemoryJournalStore).Entries(t.Context(), 1) {
		if err != nil {
			t.Fatal(err)
		}
		store.es = append(store.es, e)
	}
	// The edit: fay's account is mallory's.
	edited := false
	for i, e := range store.es {
		if e.Kind == provision.JournalFinished && e.Op.Email == "fay@example.com" {
			o := *e.Outcome
			o.PrincipalID = "user:6"
			store.es[i].Outcome = &o
			edited = true
		}
	}
	if !edited {
		t.Fatalf("fay's create is not in the journal: %+v", store.es)
	}
	j := newJournal(t, store)
	if _, err := j.Verify(t.Context()); !errors.Is(err, provision.ErrJournalTampered) {
		t.Fatalf("Verify of the edited journal: %v", err)
	}
	_, err := provision.Apply(t.Context(), env.sys, j, p, &provision.ApplyOptions{Actor: attacker})
	if env.holds(t, "user:6", "group:4:member") || env.holds(t, "user:6", "custom_role:1:assigned") {
		t.Errorf("the resumed run gave fay's access to mallory (user:6), as the tampered journal said (Apply error: %v)", err)
	}
}

// ---------------------------------------------------------------------------
// Bad input: policies and directories

// TestAttack_MultiDocumentYAMLIgnored: ParsePolicy and ParseDirectory are
// "strict: an unknown or repeated field is an error". A file of several
// YAML documents (two exports concatenated, a policy split with ---) is
// read as its first document only, silently. The people of the groups in
// the later documents are not in the directory, so NewPlan makes them
// leavers: the plan downgrades and suspends people the file lists.
func TestAttack_MultiDocumentYAMLIgnored(t *testing.T) {
	t.Parallel()
	dirYAML := `groups:
  - name: Support
    members: [ann@example.com]
---
groups:
  - name: Tier 2
    members: [bob@example.com]
`
	policyYAML := `rules:
  - directory_group: Support
    role: agent
    groups: [Support]
---
rules:
  - directory_group: Tier 2
    role: agent
    groups: [Tier 2]
`
	dir, derr := provision.ParseDirectory("directory.yaml", []byte(dirYAML))
	if derr == nil {
		if _, err := dir.Members(t.Context(), "Tier 2"); err != nil {
			t.Errorf("ParseDirectory of two YAML documents: no error, and the second is dropped: %v", err)
		}
	}
	pol, perr := provision.ParsePolicy("policy.yaml", []byte(policyYAML))
	if perr == nil && len(pol.Rules) != 2 {
		t.Errorf("ParsePolicy of two YAML documents: no error, and %d rule(s) read of 2", len(pol.Rules))
	}
	if derr != nil || perr != nil {
		return
	}
	// The consequence: a directory exported in two pages, each a
	// document; bob, on the second page, is planned as a leaver.
	env := newMemEnv(t,
		user{id: "1", email: "owner@example.com", role: "admin"},
		user{id: "2", email: "ann@example.com", role: "agent", grants: []string{"group:1:member"}},
		user{id: "3", email: "bob@example.com", role: "agent", grants: []string{"group:1:member", "group:3:member"}},
	)
	paged := "groups:\n  - name: Support\n    members: [ann@example.com]\n---\ngroups:\n  - name: Support\n    members: [bob@example.com]\n"
	dir2, err := provision.ParseDirectory("directory.yaml", []byte(paged))
	if err != nil {
		return
	}
	p, err := provision.NewPlan(t.Context(), parsePolicy(t, "rules: [{directory_group: Support, role: agent, groups: [Support]}]"), dir2, env.snap(t),
		&provision.PlanOptions{Facts: env.facts, ObjectTypes: env.types, Guards: wideOpen, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range p.Changes {
		if c.PrincipalID == "user:3" && c.Kind == provision.ChangeDeprovision {
			t.Errorf("bob@example.com, a member of Support on the directory file's second page, is planned: %s", c.ID)
		}
	}
}

// TestAttackHostileYAML: aliases, merge keys, billion laughs, deep nesting
// and odd tags in policies and directories are refused with a clear error
// (or read correctly), quickly and without a panic.
func TestAttackHostileYAML(t *testing.T) {
	t.Parallel()
	laughs := "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
	for _, tc := range []struct {
		name, file, policy, directory string
		want                          string // in the policy's error
	}{
		{"alias rule", "p.yaml", "rules:\n  - &r {directory_group: X, role: agent}\n  - *r\n", "groups:\n  - &g {name: X, members: []}\n  - *g\n", "aliases are not supported"},
		{"alias scalar", "p.yaml", "rules:\n  - {directory_group: &k X, role: agent}\n  - {directory_group: *k, role: agent}\n", "groups:\n  - {name: X, members: [&m a@example.com]}\n  - {name: Y, members: [*m]}\n", "aliases are not supported"},
		{"alias list", "p.yaml", "rules:\n  - {directory_group: X, role: agent, groups: &gs [A, B]}\n  - {directory_group: Y, role: agent, groups: *gs}\n", "groups:\n  - {name: X, members: &ms [a@example.com]}\n  - {name: Y, members: *ms}\n", "aliases are not supported"},
		{"merge key", "p.yaml", "rules:\n  - &b {directory_group: X, role: agent}\n  - <<: *b\n    directory_group: Y\n", "groups:\n  - &b {name: X, members: []}\n  - <<: *b\n    name: Y\n", "<<"},
		{"billion laughs", "p.yaml", laughs + "rules: *h\n", laughs + "groups: *h\n", "unknown field"},
		{"deep flow", "p.yaml", "rules: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000), "groups: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000), "depth"},
		{"deep block", "p.yaml", "rules:\n" + deepBlock(1000), "groups:\n" + deepBlock(1000), ""},
		{"deep json", "p.json", `{"rules":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "}", `{"groups":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "}", "nested"},
		{"binary tag", "p.yaml", "rules: !!binary aGVsbG8=\n", "groups: !!binary aGVsbG8=\n", "want a list"},
		{"null document", "p.yaml", "~\n", "~\n", ""},
		{"NUL bytes", "p.yaml", "rules:\n  - directory_group: \"X\x00\"\n    role: agent\x00\n", "groups: [{name: \"X\\0\", members: [\"a\\0@example.com\"]}]\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			var perr, derr error
			go func() {
				defer close(done)
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("panic: %v", r)
					}
				}()
				_, perr = provision.ParsePolicy(tc.file, []byte(tc.policy))
				_, derr = provision.ParseDirectory(strings.Replace(tc.file, "p.", "d.", 1), []byte(tc.directory))
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second): // a hang, not a timing assertion
				t.Fatal("parsing did not finish")
			}
			if perr == nil || derr == nil {
				t.Errorf("accepted: policy %v, directory %v", perr, derr)
				return
			}
			if !errors.Is(perr, provision.ErrInvalidPolicy) || !errors.Is(derr, provision.ErrInvalidDirectory) && !errors.Is(derr, access.ErrInvalidPerson) {
				t.Errorf("errors of the wrong kind: %v / %v", perr, derr)
			}
			if tc.want != "" && !strings.Contains(perr.Error(), tc.want) {
				t.Errorf("policy error %q does not say %q", perr, tc.want)
			}
		})
	}
}

// deepBlock nests block mappings n deep.
func deepBlock(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", 2*(i+1)))
		b.WriteString("- a:\n")
	}
	return b.String()
}

// TestAttackHostileDirectory: a large directory with the same people in
// many groups under case variants, Unicode addresses, people without an
// address and contradictory external ids: errors name the field; people
// are merged by address case-insensitively (one account to create per
// person, whatever the spelling), and the plan does not depend on the
// order people are listed in.
func TestAttackHostileDirectory(t *testing.T) {
	t.Parallel()
	// Errors.
	for _, tc := range []struct{ name, yaml, field string }{
		{"no email", "groups: [{name: S, members: [{name: Ann}]}]", "groups[0].members[0].email"},
		{"empty email", "groups: [{name: S, members: [\"\"]}]", "groups[0].members[0].email"},
		{"display name", "groups: [{name: S, members: [\"Ann <ann@example.com>\"]}]", "groups[0].members[0]"},
		{"two external ids", "groups: [{name: S, members: [{email: ann@example.com, external_id: a}]}, {name: T, members: [{email: ANN@example.com, external_id: b}]}]", "groups[1].members[0]"},
		{"group twice", "groups: [{name: S, members: []}, {name: s, members: []}]", "groups[1].name"},
		{"external id with spaces", "groups: [{name: S, members: [{email: ann@example.com, external_id: \" a \"}]}]", "groups[0].members[0]"},
	} {
		_, err := provision.ParseDirectory("d.yaml", []byte(tc.yaml))
		var fe *provision.FieldError
		switch {
		case err == nil:
			t.Errorf("%s: accepted", tc.name)
		case !errors.As(err, &fe):
			t.Errorf("%s: %v is not a *FieldError", tc.name, err)
		case tc.field != "" && fe.Field != tc.field:
			t.Errorf("%s: field %q, want %q (%v)", tc.name, fe.Field, tc.field, err)
		}
	}

	// A large directory: 3000 people in 4 groups under other spellings.
	var b strings.Builder
	b.WriteString("groups:\n")
	spell := []func(string) string{strings.ToLower, strings.ToUpper, func(s string) string { return strings.ToUpper(s[:1]) + s[1:] }, strings.ToLower}
	for g := range 4 {
		fmt.Fprintf(&b, "  - name: G%d\n    members:\n", g)
		for i := range 3000 {
			email := fmt.Sprintf("p\u00e9rson%d@ex\u00e4mple.com", i)
			fmt.Fprintf(&b, "      - {email: %q, name: \"P %d\"}\n", spell[(i+g)%4](email), i)
		}
	}
	fmt.Fprintf(&b, "  - name: H\n    members: [\"\u00c4NN@example.com\", \"\u00e4nn@example.com\", \"\u00c4nn@Example.com\"]\n")
	dir, err := provision.ParseDirectory("d.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	env := newMemEnv(t, user{id: "1", email: "owner@example.com", role: "admin"}, user{id: "2", email: "p\u00e9rson7@ex\u00e4mple.com", role: "agent"})
	pol := parsePolicy(t, "rules: [{directory_group: G0, role: agent}, {directory_group: G1, groups: [VIP], role: agent}, {directory_group: G2, role: agent}, {directory_group: G3, role: agent}, {directory_group: H, role: agent}]")
	p, err := provision.NewPlan(t.Context(), pol, dir, env.snap(t), &provision.PlanOptions{Facts: env.facts, ObjectTypes: env.types, Guards: wideOpen, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	creates := map[string]int{}
	for _, c := range p.Changes {
		if c.Kind == provision.ChangeCreateAccount {
			creates[strings.ToLower(c.Person.Email)]++
		}
		if c.PrincipalID == "user:2" && c.Kind != provision.ChangeGrant {
			t.Errorf("the existing account, matched under another spelling: %s", c.ID)
		}
	}
	if len(creates) != 3000 {
		t.Errorf("%d people to create, want 3000 (2999 and \u00e4nn)", len(creates))
	}
	for e, n := range creates {
		if n != 1 {
			t.Errorf("%s created %d times", e, n)
		}
	}
	// Determinism: the same directory, groups and people listed in reverse.
	groups := dir.Groups()
	slices.Reverse(groups)
	for i := range groups {
		slices.Reverse(groups[i].Members)
	}
	rev, err := provision.NewDirectory(groups...)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := provision.NewPlan(t.Context(), pol, rev, env.snap(t), &provision.PlanOptions{Facts: env.facts, ObjectTypes: env.types, Guards: wideOpen, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var b1, b2 bytes.Buffer
	if err := p.Save(&b1); err != nil {
		t.Fatal(err)
	}
	if err := p2.Save(&b2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Error("the plan depends on the order of the directory")
	}
}

// ---------------------------------------------------------------------------
// Guards and bad input that hold

// TestAttackGuardsHold: owner, self and the protected list block leavers
// with a *GuardError naming the guard; of the two active admins (a third
// is suspended) both demoted by one plan's role grants, one grant is
// blocked as the last admin; and Apply leaves the blocked change alone.
func TestAttackGuardsHold(t *testing.T) {
	t.Parallel()
	env := newMemEnv(t,
		user{id: "1", email: "owner@example.com", role: "admin", grants: []string{"group:4:member"}},
		user{id: "2", email: "self@example.com", role: "admin", grants: []string{"group:4:member"}},
		user{id: "3", email: "sleeping-admin@example.com", role: "admin", suspended: true},
		user{id: "4", email: "ann@example.com", role: "admin"},
		user{id: "5", email: "breakglass@example.com", role: "agent", grants: []string{"group:4:member"}},
		user{id: "6", email: "bob@example.com", role: "admin"},
	)
	env.facts.Owners = []string{"user:1"}
	env.facts.Self = "user:2"
	g := wideOpen
	g.Protected = []string{"user:5"}
	// The owner, self and the protected break-glass account leave: each
	// is blocked by its guard.
	p := env.plan(t, leaverPolicy, "groups: [{name: Support, members: [ann@example.com, bob@example.com]}]", g)
	want := map[string]provision.GuardName{"user:1": provision.GuardAccountOwner, "user:2": provision.GuardSelf, "user:5": provision.GuardProtectedList}
	for _, c := range p.Changes {
		if name, ok := want[c.PrincipalID]; ok && c.Kind == provision.ChangeDeprovision {
			var ge *provision.GuardError
			if c.Blocked == nil || !errors.As(error(c.Blocked), &ge) || ge.Guard != name || !errors.Is(c.Blocked, provision.ErrGuard) {
				t.Errorf("%s: blocked by %v, want %s", c.ID, c.Blocked, name)
			}
		}
	}
	// Ann and Bob, the two active admins (user:3 is suspended), are made
	// agents by the policy: one demotion is blocked as the last admin.
	users2 := newMemEnv(t,
		user{id: "3", email: "sleeping-admin@example.com", role: "admin", suspended: true},
		user{id: "4", email: "ann@example.com", role: "admin"},
		user{id: "6", email: "bob@example.com", role: "admin"},
	)
	p2 := users2.plan(t, leaverPolicy, "groups: [{name: Support, members: [ann@example.com, bob@example.com]}]", wideOpen)
	blocked := 0
	for _, c := range p2.Changes {
		if c.EntitlementID == "role:agent:assigned" {
			if c.Blocked != nil && c.Blocked.Guard == provision.GuardLastAdmin {
				blocked++
			} else if c.Blocked != nil {
				t.Errorf("%s blocked by %s", c.ID, c.Blocked.Guard)
			}
		}
	}
	if blocked != 1 {
		t.Errorf("%d of the two demotions blocked as the last admin, want 1:\n%s", blocked, table(t, p2))
	}
	rep, err := provision.Apply(t.Context(), users2.sys, newJournal(t, nil), p2, &provision.ApplyOptions{Actor: attacker})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Blocked != 1 || len(users2.activeAdmins(t)) != 1 {
		t.Errorf("after Apply: %d blocked, active admins %v", rep.Blocked, users2.activeAdmins(t))
	}
}

// TestAttackBadPlanInput: a policy naming an unknown group, organization,
// custom role or role, a directory group that does not exist, a person
// without an e-mail address and bad guard caps are errors of NewPlan,
// naming what is wrong, before any request to the backend.
func TestAttackBadPlanInput(t *testing.T) {
	t.Parallel()
	env := newMemEnv(t, user{id: "1", email: "owner@example.com", role: "admin"}, user{id: "2", email: "ann@example.com", role: "agent"})
	snap := env.snap(t)
	dir := parseDirectory(t, "groups: [{name: Support, members: [ann@example.com]}]")
	for _, tc := range []struct {
		name, policy string
		dir          provision.Directory
		guards       provision.Guards
		want         error
	}{
		{"unknown group", "rules: [{directory_group: Support, role: agent, groups: [Nope]}]", dir, wideOpen, provision.ErrUnknownName},
		{"unknown group id", "rules: [{directory_group: Support, role: agent, groups: [999]}]", dir, wideOpen, provision.ErrUnknownName},
		{"unknown organization", "rules: [{directory_group: Support, organizations: [Initech]}]", dir, wideOpen, provision.ErrUnknownName},
		{"unknown custom role", "rules: [{directory_group: Support, role: agent, custom_role: {id: 77}}]", dir, wideOpen, provision.ErrUnknownName},
		{"ambiguous group", "rules: [{directory_group: Support, role: agent, groups: [DUPLICATE]}]", dir, wideOpen, provision.ErrAmbiguousName},
		{"unknown directory group", "rules: [{directory_group: Nope, role: agent}]", dir, wideOpen, provision.ErrUnknownDirectoryGroup},
		{"person without e-mail", "rules: [{directory_group: Support, role: agent}]", badDirectory{}, wideOpen, access.ErrInvalidPerson},
		{"negative MaxDestructive", "rules: [{directory_group: Support, role: agent}]", dir, provision.Guards{MaxDestructive: -1}, nil},
		{"negative share", "rules: [{directory_group: Support, role: agent}]", dir, provision.Guards{MaxTeamShare: -0.1}, nil},
		{"share above 1", "rules: [{directory_group: Support, role: agent}]", dir, provision.Guards{MaxTeamShare: 1.5}, nil},
		{"malformed protected id", "rules: [{directory_group: Support, role: agent}]", dir, provision.Guards{Protected: []string{"user 1"}}, nil},
	} {
		before := env.b.Requests()
		p, err := provision.NewPlan(t.Context(), parsePolicy(t, tc.policy), tc.dir, snap, &provision.PlanOptions{Facts: env.facts, ObjectTypes: env.types, Guards: tc.guards, Now: now})
		switch {
		case err == nil:
			t.Errorf("%s: NewPlan made a plan of %d changes", tc.name, len(p.Changes))
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if n := env.b.Requests() - before; n != 0 {
			t.Errorf("%s: %d backend requests", tc.name, n)
		}
	}
}

// badDirectory serves one group with a person without an e-mail address,
// as a buggy connector would.
type badDirectory struct{}

func (badDirectory) Members(context.Context, string) ([]access.Person, error) {
	return []access.Person{{Name: "No Mail"}}, nil
}

// ---------------------------------------------------------------------------
// Stale detection and convergence

// TestAttack_ResumeOverridesForeignDrift: "Before changing a principal,
// Apply checks that its access is still what the plan saw ... Otherwise
// someone else changed the principal: ... StateStale, skipped." A run that
// died right after journaling the start of a leaver's downgrade (nothing
// done yet) makes every later run treat any drift of that principal as
// "this plan's own": when someone re-hires the leaver as an admin in
// between, the resumed run demotes and suspends them, where a first run
// would have skipped them as stale.
func TestAttack_ResumeOverridesForeignDrift(t *testing.T) {
	t.Parallel()
	users := []user{
		{id: "1", email: "owner@example.com", role: "admin"},
		{id: "2", email: "ann@example.com", role: "agent"},
		{id: "5", email: "hal@example.com", role: "agent", grants: []string{"group:4:member"}},
	}
	env := newMemEnv(t, users...)
	p := env.plan(t, leaverPolicy, "groups: [{name: Support, members: [ann@example.com]}]", wideOpen)
	if len(p.Changes) != 3 || p.Changes[1].ID != "deprovision user:5 downgrade" {
		t.Fatalf("want ann's grant and hal's two ladder steps:\n%s", table(t, p))
	}
	// The first run grants ann her group, journals the start of hal's
	// downgrade (append 3) and dies.
	cs := &crashStore{MemoryJournalStore: provision.NewMemoryJournalStore(), crashAt: 3, stored: true}
	if _, err := provision.Apply(t.Context(), env.sys, newJournal(t, cs), p, &provision.ApplyOptions{Actor: attacker}); err == nil {
		t.Fatal("the first run did not die")
	}
	if !env.holds(t, "user:5", "role:agent:assigned") {
		t.Fatal("the first run changed hal")
	}
	// Hal comes back, as an admin, by someone else's hand.
	if _, err := env.sys.Grant(t.Context(), access.GrantRequest{EntitlementID: "role:admin:assigned", PrincipalID: "user:5"}); err != nil {
		t.Fatal(err)
	}
	// A fresh run of the plan skips hal as stale...
	fresh := newMemEnv(t, users...)
	if _, err := fresh.sys.Grant(t.Context(), access.GrantRequest{EntitlementID: "role:admin:assigned", PrincipalID: "user:5"}); err != nil {
		t.Fatal(err)
	}
	rep, err := provision.Apply(t.Context(), fresh.sys, newJournal(t, nil), p, &provision.ApplyOptions{Actor: attacker})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stale != 2 || !fresh.holds(t, "user:5", "role:admin:assigned") {
		t.Fatalf("a first run: %d stale; hal admin: %v", rep.Stale, fresh.holds(t, "user:5", "role:admin:assigned"))
	}
	// ...the resumed run does not.
	rep, err = provision.Apply(t.Context(), env.sys, newJournal(t, cs.MemoryJournalStore), p, &provision.ApplyOptions{Actor: attacker})
	if err != nil {
		t.Fatal(err)
	}
	if !env.holds(t, "user:5", "role:admin:assigned") {
		var states []string
		for _, r := range rep.Results {
			states = append(states, fmt.Sprintf("%s: %s", r.Change.ID, r.State))
		}
		t.Errorf("the resumed run demoted hal, re-hired as an admin after the plan by someone else: %v", states)
	}
}

// TestAttack_ExistingEndUserNeverPromoted: NewPlan says "(A person whose
// account the snapshot's scope leaves out, such as an end user when only
// team members were read, is planned as a create too, which finds the
// account.)", and Apply converges. With the Zendesk backend's default
// scope, an existing end user whom the policy makes an agent with groups
// is planned as a create (role agent); the create finds the account and
// leaves it an end user ("exists"), every group grant then fails (groups
// hold agents only), and a new plan lists the same create and grants
// again: the policy is never carried out, run after run.
func TestAttack_ExistingEndUserNeverPromoted(t *testing.T) {
	t.Parallel()
	d := newDayOne(t)
	var endUser zendesktest.User
	for _, u := range liveUsersOf(d.srv) {
		if u.Role == "end-user" && !u.Suspended {
			endUser = u
			break
		}
	}
	if endUser.ID == 0 {
		t.Fatal("no end user")
	}
	groups := d.dir.Groups()
	groups[0].Members = append(groups[0].Members, access.Person{Email: endUser.Email})
	var err error
	if d.dir, err = provision.NewDirectory(groups...); err != nil {
		t.Fatal(err)
	}
	g := provision.Guards{MaxDestructive: 100, MaxTeamShare: 1}
	for round := range 2 {
		p := d.plan(t, g)
		rep, err := provision.Apply(t.Context(), d.sys, newJournal(t, nil), p, &provision.ApplyOptions{Actor: applier})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Results {
			if r.State == provision.StateFailed && r.Change.Person != nil && r.Change.Person.Email == endUser.Email {
				t.Errorf("round %d: %s failed: %v", round, r.Change.ID, r.Err)
			}
		}
	}
	if u, _ := d.srv.User(endUser.ID); u.Role != "agent" || len(d.srv.GroupMembershipsOf(u.ID)) < 2 {
		t.Errorf("after two rounds of plan and apply, %s is still %s with %d group memberships; the policy gives agent and two groups",
			endUser.Email, u.Role, len(d.srv.GroupMembershipsOf(u.ID)))
	}
}

// orderStore shares a MemoryJournalStore with other runs and calls before
// (if set) ahead of each of its own appends, with their number.
type orderStore struct {
	*provision.MemoryJournalStore
	mu     sync.Mutex
	n      int
	before func(n int)
}

func (s *orderStore) Append(ctx context.Context, es ...provision.JournalEntry) error {
	s.mu.Lock()
	s.n++
	n := s.n
	s.mu.Unlock()
	if s.before != nil {
		s.before(n)
	}
	return s.MemoryJournalStore.Append(ctx, es...)
}

// TestAttack_ConcurrentApplyReportsFalseFailures: StateFailed is "the
// change was attempted and failed". Of two runs of one plan sharing a
// journal, the one that finds the creates begun by the other reports the
// new hires' grants as failed, "has no account (its creation failed)":
// nothing was attempted and nothing failed (the other run created the
// accounts and makes the grants), but the report counts them in Failed.
// The runs are ordered by the test: B reads the journal, A begins the
// creates, then B goes on.
func TestAttack_ConcurrentApplyReportsFalseFailures(t *testing.T) {
	t.Parallel()
	env := newMemEnv(t, resumeUsers()...)
	p := env.plan(t, resumePolicy, resumeDirectory, wideOpen)
	shared := provision.NewMemoryJournalStore()
	bReady, aBegun := make(chan struct{}), make(chan struct{})
	storeA := &orderStore{MemoryJournalStore: shared, before: func(n int) {
		if n == 3 { // after A's two create begins
			close(aBegun)
		}
	}}
	storeB := &orderStore{MemoryJournalStore: shared, before: func(n int) {
		if n == 1 {
			close(bReady)
			<-aBegun
		}
	}}
	var repA, repB *provision.ApplyReport
	var errA, errB error
	var wg sync.WaitGroup
	wg.Go(func() {
		repB, errB = provision.Apply(t.Context(), env.sys, newJournal(t, storeB), p, &provision.ApplyOptions{Actor: attacker})
	})
	<-bReady
	repA, errA = provision.Apply(t.Context(), env.sys, newJournal(t, storeA), p, &provision.ApplyOptions{Actor: attacker})
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("runs: %v / %v", errA, errB)
	}
	if repA.Failed != 0 {
		t.Errorf("run A: %d failed", repA.Failed)
	}
	for _, r := range repB.Results {
		if r.State == provision.StateFailed {
			t.Errorf("run B reports %s failed (%v); run A created the account and made the grant", r.Change.ID, r.Err)
		}
	}
	for _, c := range env.plan(t, resumePolicy, resumeDirectory, wideOpen).Changes {
		if c.Blocked == nil {
			t.Errorf("after both runs the plan still has %s", c.ID)
		}
	}
}

// TestAttackBulkCreateDuplicatesInOneBatch: one CreateAccounts call that
// names a new person several times (other spellings of the address, with
// and without the external id) makes one account; every result names it.
func TestAttackBulkCreateDuplicatesInOneBatch(t *testing.T) {
	t.Parallel()
	for _, bulkImports := range []bool{true, false} {
		e := newSimEnv(t, zendesktest.AccountSpec{Seed: 9, EndUsers: 2, Agents: 2, Admins: 1, Groups: 2}, zendesktest.WithBulkUserImports(bulkImports))
		reqs := []access.AccountRequest{
			{Person: access.Person{Email: "twin@example.com", ExternalID: "00utwin"}},
			{Person: access.Person{Email: "TWIN@example.com"}},
			{Person: access.Person{Email: "Twin@Example.COM", ExternalID: "00utwin"}, Role: "end-user"},
			{Person: access.Person{Email: "twin@example.com"}},
		}
		res := e.sys.CreateAccounts(t.Context(), reqs, nil)
		ids := map[string]bool{}
		created := 0
		for i, r := range res {
			if r.Err != nil {
				t.Errorf("bulk imports %v: %s: %v", bulkImports, reqs[i].Person.Email, r.Err)
				continue
			}
			ids[r.Result.PrincipalID] = true
			if r.Result.Status == access.AccountCreated {
				created++
			}
		}
		if len(ids) != 1 || created != 1 {
			t.Errorf("bulk imports %v: one batch naming one person four times: accounts %v, %d created", bulkImports, ids, created)
		}
	}
}

// TestAttack_DirectorySharedExternalID: ErrInvalidDirectory is for "a
// directory [that] contradicts itself (one person with two external
// ids)". Two people (two addresses) with one external id contradict it as
// much, and are accepted: both are planned as creates; the first create
// makes an account, the second "finds" it by external id (AccountExists,
// matched_by external_id), and the second person's grants land on the
// first person's account. The second person never gets an account, and
// the first holds access the policy gives someone else.
func TestAttack_DirectorySharedExternalID(t *testing.T) {
	t.Parallel()
	env := newMemEnv(t, user{id: "1", email: "owner@example.com", role: "admin"})
	dirYAML := `groups:
  - name: Support
    members: [{email: ann@example.com, external_id: 00u1}]
  - name: Billing
    members: [{email: bob@example.com, external_id: 00u1}]
`
	dir, err := provision.ParseDirectory("directory.yaml", []byte(dirYAML))
	if err != nil {
		return // refused: fine
	}
	pol := parsePolicy(t, "rules: [{directory_group: Support, role: agent, groups: [Support]}, {directory_group: Billing, role: agent, groups: [VIP]}]")
	p, err := provision.NewPlan(t.Context(), pol, dir, env.snap(t), &provision.PlanOptions{Facts: env.facts, ObjectTypes: env.types, Guards: wideOpen, Now: now})
	if err != nil {
		return // refused: fine
	}
	if _, err := provision.Apply(t.Context(), env.sys, newJournal(t, nil), p, &provision.ApplyOptions{Actor: attacker}); err != nil {
		t.Fatal(err)
	}
	byEmail := map[string]string{}
	s := env.snap(t)
	for _, r := range s.Resources() {
		if r.Type() == "user" {
			byEmail[r.Attributes()["email"]] = r.ID()
		}
	}
	for _, email := range []string{"ann@example.com", "bob@example.com"} {
		if byEmail[email] == "" {
			t.Errorf("two people sharing external id 00u1 were accepted, planned and applied without an error; %s has no account (accounts: %v)", email, byEmail)
		}
	}
}

// TestAttackJournalIDsSurviveSave: a run of a plan made in memory and a
// run of the same plan saved and loaded (a process that crashed and
// restarts from the file) name its changes alike in the journal, so the
// second resumes the first; the dry-run report of a plan over its caps is
// complete.
func TestAttackJournalIDsSurviveSave(t *testing.T) {
	t.Parallel()
	env := newMemEnv(t, resumeUsers()...)
	p := env.plan(t, resumePolicy, resumeDirectory, wideOpen)
	cs := &crashStore{MemoryJournalStore: provision.NewMemoryJournalStore(), crashAt: 9}
	rep1, err := provision.Apply(t.Context(), env.sys, newJournal(t, cs), p, &provision.ApplyOptions{Actor: attacker})
	if err == nil {
		t.Fatal("no crash")
	}
	var buf bytes.Buffer
	if err := p.Save(&buf); err != nil {
		t.Fatal(err)
	}
	loaded, err := provision.LoadPlan(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rep2, err := provision.Apply(t.Context(), env.sys, newJournal(t, cs.MemoryJournalStore), loaded, &provision.ApplyOptions{Actor: attacker})
	if err != nil {
		t.Fatal(err)
	}
	for i := range rep1.Results {
		if rep1.Results[i].JournalID != rep2.Results[i].JournalID {
			t.Errorf("change %d: journal ID %s in memory, %s after Save and LoadPlan", i, rep1.Results[i].JournalID, rep2.Results[i].JournalID)
		}
	}
	if rep2.Failed != 0 || rep2.Stale != 0 {
		t.Errorf("the loaded plan resumed with %d failed, %d stale", rep2.Failed, rep2.Stale)
	}

	// Dry run: a plan over its caps is returned with the counts, refused
	// by Apply as a whole, with nothing written.
	users := []user{{id: "1", email: "owner@example.com", role: "admin"}}
	for i := range 30 {
		users = append(users, user{id: itoa(10 + i), email: fmt.Sprintf("leaver%d@example.com", i), role: "agent", grants: []string{"group:4:member"}})
	}
	big := newMemEnv(t, users...)
	over := big.plan(t, leaverPolicy, "groups: [{name: Support, members: []}]", provision.Guards{})
	if over.Guards.Run == nil || over.Guards.Run.Guard != provision.GuardBlastRadius || over.Guards.Destructive != 60 || over.Guards.MaxDestructive != provision.DefaultMaxDestructive || len(over.Changes) != 60 {
		t.Errorf("dry run: %+v, %d changes", over.Guards, len(over.Changes))
	}
	before := big.b.Requests()
	if _, err := provision.Apply(t.Context(), big.sys, newJournal(t, nil), over, &provision.ApplyOptions{Actor: attacker}); !errors.Is(err, provision.ErrGuard) {
		t.Errorf("Apply over the caps: %v", err)
	}
	if n := big.b.Requests() - before; n > 1 {
		t.Errorf("a refused run made %d requests", n)
	}
}

// TestAttack_PrefixDriftHidesSuspension: a principal whose access drifted
// is carried on with when "exactly a prefix of [its changes] is in effect,
// including one that moves the basis"; "Otherwise someone else changed the
// principal: ... StateStale". The check looks at the prefix only, not at
// the rest of the drift: when someone promotes a new agent by hand (the
// plan's first change) and then suspends the account (an incident), Apply
// takes all of it for an earlier run's work and gives the suspended
// account its custom role, organization and groups. The plan's changes
// cannot suspend anyone, so the drift is not the plan's.
func TestAttack_PrefixDriftHidesSuspension(t *testing.T) {
	t.Parallel()
	env := newMemEnv(t,
		user{id: "1", email: "owner@example.com", role: "admin"},
		user{id: "4", email: "eve@example.com", role: "end-user"},
	)
	p := env.plan(t, resumePolicy, "groups: [{name: Support, members: [eve@example.com]}]", wideOpen)
	if len(p.Changes) < 3 || p.Changes[0].EntitlementID != "role:agent:assigned" {
		t.Fatalf("want eve promoted first, then more:\n%s", table(t, p))
	}
	if _, err := env.sys.Grant(t.Context(), access.GrantRequest{EntitlementID: "role:agent:assigned", PrincipalID: "user:4"}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.sys.Deprovision(t.Context(), "user:4", access.DeprovisionSuspend); err != nil {
		t.Fatal(err)
	}
	rep, err := provision.Apply(t.Context(), env.sys, newJournal(t, nil), p, &provision.ApplyOptions{Actor: attacker})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.State == provision.StateApplied {
			t.Errorf("%s applied to an account suspended by someone else after the plan was made", r.Change.ID)
		}
	}
}
