package zendeskaccess_test

// An outside test suite written against the public API and the documented
// promises of access.System and the Zendesk backend (README "Governing
// access", access/doc.go, access/zendeskaccess/doc.go, Backend.Grant and
// Backend.Revoke). Tests named TestAttack_* that fail show a broken promise;
// the others are regression tests of promises that hold.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// ---------------------------------------------------------------------------
// Helpers of this suite (the shared ones are in helpers_test.go and
// proxy_test.go).

// ledger adds up what results say a call changed: +1 for a grant created
// (StatusGranted, Added), -1 for one removed (StatusRevoked, Replaced). If
// every result is truthful and complete, then for every grant the net sum
// is what the grant's holding changed by from before to after, whatever
// order the calls ran in.
type ledger struct {
	mu       gosync.Mutex
	net      map[string]int
	log      []string
	failures int // failed attempts (runScript)
}

func (l *ledger) record(what string, res access.Result) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.net == nil {
		l.net = map[string]int{}
	}
	var parts []string
	switch res.Status {
	case access.StatusGranted:
		if res.Grant != nil {
			l.net[res.Grant.ID()]++
			parts = append(parts, "+"+res.Grant.ID())
		}
	case access.StatusRevoked:
		if res.Grant != nil {
			l.net[res.Grant.ID()]--
			parts = append(parts, "-"+res.Grant.ID())
		}
	}
	for _, g := range res.Added {
		l.net[g.ID()]++
		parts = append(parts, "+"+g.ID())
	}
	for _, g := range res.Replaced {
		l.net[g.ID()]--
		parts = append(parts, "-"+g.ID())
	}
	l.log = append(l.log, fmt.Sprintf("%s: %s %v", what, res.Status, parts))
}

// check reports every grant whose reported changes do not add up to what
// happened in Zendesk.
func (l *ledger) check(t testing.TB, before, after map[string]bool) {
	t.Helper()
	ids := map[string]bool{}
	for id := range before {
		ids[id] = true
	}
	for id := range after {
		ids[id] = true
	}
	for id := range l.net {
		ids[id] = true
	}
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	bad := false
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		if got, want := l.net[id], b2i(after[id])-b2i(before[id]); got != want {
			bad = true
			t.Errorf("grant %s: held before %v, after %v, but the results report a net change of %+d", id, before[id], after[id], got)
		}
	}
	if bad {
		t.Logf("results, in the order they returned:\n  %s", strings.Join(l.log, "\n  "))
	}
}

// ---------------------------------------------------------------------------
// 1. IDs

// badNative lists non-canonical spellings of Zendesk id n (and inputs
// that are no id at all).
func badNative(n int64) []string {
	s := strconv.FormatInt(n, 10)
	return []string{
		"+" + s, "-" + s, "0" + s, "00" + s, "0", "-0", "+0", "00",
		s + " ", " " + s, s + "\t", s + "\n", "\u00a0" + s, s + "\u200b", "\u200b" + s,
		s[:3] + "_" + s[3:], "1e10", "0x1F", s + ".0", s + ",",
		"１２３", "١٢٣", "۱۲۳", "Ⅻ", "²",
		"%31" + s[1:], s + "%20", s + "%00", "%2B" + s, s + "%", s + "%2", s + "%zz",
		"9223372036854775808", "9223372036854775807" + "0", "99999999999999999999", "18446744073709551616",
		strings.Repeat("9", 300), strings.Repeat("1", 257), strings.Repeat("1", 256),
		"", s + "\xff", "\xc0\x80", s + "\x00",
	}
}

// The valid part of a request whose other part is malformed.
func idFixture(t *testing.T, srv *zendesktest.Server) (agent int64, group int64) {
	t.Helper()
	return liveUsers(srv, zendesktest.RoleAgent)[0].ID, groups(srv)[1].ID
}

func malformedRequests(agent, group int64) []access.GrantRequest {
	var reqs []access.GrantRequest
	for _, bad := range badNative(agent) {
		reqs = append(reqs,
			access.GrantRequest{EntitlementID: groupE(group), PrincipalID: "user:" + bad},
			access.GrantRequest{EntitlementID: roleE("agent"), PrincipalID: "user:" + bad})
	}
	for _, bad := range badNative(group) {
		for _, typ := range []string{"group:%s:member", "organization:%s:member", "custom_role:%s:assigned"} {
			reqs = append(reqs, access.GrantRequest{EntitlementID: fmt.Sprintf(typ, bad), PrincipalID: uid(agent)})
		}
	}
	// Empty parts and broken structure.
	for _, e := range []string{"", ":", "::", "group::member", ":1:member", "group:" + strconv.FormatInt(group, 10) + ":",
		"group:" + strconv.FormatInt(group, 10), "group:" + strconv.FormatInt(group, 10) + ":member:x",
		"Group:" + strconv.FormatInt(group, 10) + ":member", "group:" + strconv.FormatInt(group, 10) + ":Member",
		"group:1@2:member", "role:agent :assigned", "role:%61gent:assigned", "role::assigned", "role:agent:Assigned"} {
		reqs = append(reqs, access.GrantRequest{EntitlementID: e, PrincipalID: uid(agent)})
	}
	for _, p := range []string{"", "user", "user:", ":1", "User:" + strconv.FormatInt(agent, 10), "user:1:2", "user:1@x", "user::1"} {
		reqs = append(reqs, access.GrantRequest{EntitlementID: groupE(group), PrincipalID: p})
	}
	return reqs
}

// Every non-canonical spelling of a Zendesk id, and every malformed id, is
// refused with access.ErrMalformedID by the backend and by System, for
// Grant, Revoke and GrantsFor, without a request to Zendesk and without a
// panic (README: "user:042 and user:+42 are refused with
// access.ErrMalformedID, never taken for user:42"; IDSyntax: "refused with
// ErrMalformedID, by System before any request reaches a backend, by
// backends themselves").
func TestAttack_MalformedIDsRefusedEverywhere(t *testing.T) {
	t.Parallel()
	for _, plan := range []zendesktest.Plan{zendesktest.PlanEnterprise, zendesktest.PlanProfessional} {
		t.Run(string(plan), func(t *testing.T) {
			t.Parallel()
			spec := zendesktest.DemoAccount()
			if plan != zendesktest.PlanEnterprise {
				spec.CustomRoles = 0
			}
			srv := newServer(t, zendesktest.WithPlan(plan), zendesktest.WithAccount(spec))
			b := newBackend(t, srv, zendeskaccess.WithPromoteEndUsers(true),
				zendeskaccess.WithCustomRoleFallback(60_000_000_001))
			sys := newSystem(t, b)
			if _, err := sys.Info(t.Context()); err != nil {
				t.Fatal(err)
			}
			agent, group := idFixture(t, srv)
			srv.ResetStats()
			ctx := t.Context()
			for _, req := range malformedRequests(agent, group) {
				name := fmt.Sprintf("%q@%q", req.EntitlementID, req.PrincipalID)
				check := func(op string, err error) {
					t.Helper()
					if !errors.Is(err, access.ErrMalformedID) {
						t.Errorf("%s %s: error = %v, want ErrMalformedID", op, name, err)
					}
				}
				noPanic(t, name, func() {
					_, err := b.Grant(ctx, req)
					check("backend Grant", err)
					_, err = b.Revoke(ctx, access.RevokeRequest(req))
					check("backend Revoke", err)
					_, err = sys.Grant(ctx, req)
					check("System.Grant", err)
					_, err = sys.Revoke(ctx, access.RevokeRequest(req))
					check("System.Revoke", err)
					if strings.HasPrefix(req.PrincipalID, "user:") && req.PrincipalID != uid(agent) {
						_, err = b.GrantsFor(ctx, req.PrincipalID)
						check("backend GrantsFor", err)
						_, err = sys.GrantsFor(ctx, req.PrincipalID)
						check("System.GrantsFor", err)
					}
				})
			}
			if st := srv.Stats(); st.Total != 0 {
				t.Errorf("malformed requests reached Zendesk: %v", st.Requests)
			}
		})
	}
}

// Built-in role names are exact: other spellings of a role are refused
// (ErrUnknownEntitlement, or ErrMalformedID where the grammar refuses them)
// without a request.
func TestAttack_RoleSpellingsRefused(t *testing.T) {
	t.Parallel()
	srv := demo(t)
	b := newBackend(t, srv)
	sys := newSystem(t, b)
	if _, err := sys.Info(t.Context()); err != nil {
		t.Fatal(err)
	}
	agent := liveUsers(srv, zendesktest.RoleAgent)[0].ID
	srv.ResetStats()
	for _, e := range []string{"role:Agent:assigned", "role:AGENT:assigned", "role:end_user:assigned",
		"role:enduser:assigned", "role:end-users:assigned", "role:owner:assigned", "role:agent:member",
		"role:admin:assigned-", "role:light-agent:assigned", "role:agent%20:assigned", "role:%C3%A4gent:assigned",
		"role:ａｇｅｎｔ:assigned", "role:agent\u200b:assigned"} {
		req := access.GrantRequest{EntitlementID: e, PrincipalID: uid(agent)}
		noPanic(t, e, func() {
			for op, f := range map[string]func() error{
				"backend Grant":  func() error { _, err := b.Grant(t.Context(), req); return err },
				"backend Revoke": func() error { _, err := b.Revoke(t.Context(), access.RevokeRequest(req)); return err },
				"System.Grant":   func() error { _, err := sys.Grant(t.Context(), req); return err },
				"System.Revoke":  func() error { _, err := sys.Revoke(t.Context(), access.RevokeRequest(req)); return err },
			} {
				err := f()
				if !errors.Is(err, access.ErrUnknownEntitlement) && !errors.Is(err, access.ErrMalformedID) {
					t.Errorf("%s %s: error = %v, want ErrUnknownEntitlement or ErrMalformedID", op, e, err)
				}
			}
		})
	}
	if st := srv.Stats(); st.Total != 0 {
		t.Errorf("refused role spellings reached Zendesk: %v", st.Requests)
	}
}

// A Zendesk id is malformed whatever the backend's configuration: a
// non-canonical group, organization or user id is access.ErrMalformedID
// (IDSyntax: "every spelling but the first is refused with ErrMalformedID
// ... by backends themselves"), not ErrUnknownEntitlement because
// WithResourceTypes left the type out, nor ErrNotGrantable or
// ErrUnknownPrincipal because the principal is not a user.
func TestAttack_MalformedIDOfUnreadTypeNotMalformed(t *testing.T) {
	t.Parallel()
	srv := demo(t)
	b := newBackend(t, srv, zendeskaccess.WithResourceTypes(zendeskaccess.TypeGroup))
	sys := newSystem(t, b)
	agent := liveUsers(srv, zendesktest.RoleAgent)[0].ID
	org := organizations(srv)[0].ID
	cases := []access.GrantRequest{
		{EntitlementID: "organization:0" + strconv.FormatInt(org, 10) + ":member", PrincipalID: uid(agent)},
		{EntitlementID: "custom_role:+1:assigned", PrincipalID: uid(agent)},
		{EntitlementID: "organization:" + strconv.FormatInt(org, 10) + ":member", PrincipalID: "user:0" + strconv.FormatInt(agent, 10)},
		{EntitlementID: groupE(groups(srv)[0].ID), PrincipalID: "group:0" + strconv.FormatInt(groups(srv)[0].ID, 10)},
	}
	for _, req := range cases {
		if _, err := b.Grant(t.Context(), req); !errors.Is(err, access.ErrMalformedID) {
			t.Errorf("backend Grant(%s): error = %v, want ErrMalformedID", req.GrantID(), err)
		}
		if _, err := sys.Grant(t.Context(), req); !errors.Is(err, access.ErrMalformedID) {
			t.Errorf("System.Grant(%s): error = %v, want ErrMalformedID", req.GrantID(), err)
		}
	}
	if _, err := b.GrantsFor(t.Context(), "group:042"); !errors.Is(err, access.ErrMalformedID) {
		t.Errorf("backend GrantsFor(group:042): error = %v, want ErrMalformedID", err)
	}
}

// System checks ids "before any request reaches a backend", yet to know the
// id syntaxes it first reads Info, which for the Zendesk backend means
// requests to Zendesk, and which can fail for reasons that have nothing to
// do with the id: a malformed id is then reported as an outage (or as
// ErrMultipleOrganizationsOff) instead of ErrMalformedID.
func TestAttack_SystemMalformedIDNeedsZendesk(t *testing.T) {
	t.Parallel()
	srv := demo(t)
	p := newProxy(t, srv)
	b := backendOf(t, p.client(t, zendesk.WithMaxRetries(0)))
	sys := newSystem(t, b)
	agent := liveUsers(srv, zendesktest.RoleAgent)[0].ID
	req := access.GrantRequest{EntitlementID: roleE("admin"), PrincipalID: "user:0" + strconv.FormatInt(agent, 10)}

	// Zendesk is unreachable: the id is still malformed.
	p.set(func(*http.Request) string { return "refuse" })
	if _, err := sys.Grant(t.Context(), req); !errors.Is(err, access.ErrMalformedID) {
		t.Errorf("System.Grant(%s) with Zendesk down: error = %v, want ErrMalformedID", req.GrantID(), err)
	}
	p.set(nil)

	// A fresh System refuses a malformed id without talking to Zendesk.
	srv.ResetStats()
	if _, err := newSystem(t, b).Revoke(t.Context(), access.RevokeRequest(req)); !errors.Is(err, access.ErrMalformedID) {
		t.Errorf("System.Revoke(%s): error = %v, want ErrMalformedID", req.GrantID(), err)
	}
	if st := srv.Stats(); st.Total != 0 {
		t.Errorf("refusing a malformed id sent %d requests to Zendesk: %v", st.Total, st.Requests)
	}
}

// ---------------------------------------------------------------------------
// OrgModeMultiple on an account without the setting: only organization
// grants and revokes, Info, Streams and GrantsFor fail (options.go:
// "Info, Streams and every organization grant, revoke and GrantsFor fail
// with ErrMultipleOrganizationsOff"; README table: the OrgModeMultiple row
// concerns organization grants). A custom-role grant through the backend,
// and any grant through System, fail too.
func TestAttack_OrgModeMultipleBlocksNonOrganizationGrants(t *testing.T) {
	t.Parallel()
	srv := demo(t) // Enterprise, multiple organizations off
	b := newBackend(t, srv, zendeskaccess.WithOrganizationMode(zendeskaccess.OrgModeMultiple))
	var agent zendesktest.User
	for _, u := range liveUsers(srv, zendesktest.RoleAgent) {
		if u.CustomRoleID != 0 && !u.Owner {
			agent = u
		}
	}
	if agent.ID == 0 {
		t.Fatal("no agent with a custom role")
	}
	var other int64
	for id := int64(60_000_000_001); ; id++ {
		if id != agent.CustomRoleID {
			other = id
			break
		}
	}
	ctx := t.Context()
	// The backend itself: group and role grants work, a custom role grant does not.
	if _, err := b.Grant(ctx, access.GrantRequest{EntitlementID: roleE("agent"), PrincipalID: uid(agent.ID)}); err != nil {
		t.Errorf("backend role grant: %v", err)
	}
	if _, err := b.Grant(ctx, access.GrantRequest{EntitlementID: customRoleE(other), PrincipalID: uid(agent.ID)}); err != nil {
		t.Errorf("backend custom role grant (no organization involved): %v", err)
	}
	// Through System, the way the README says access is changed.
	sys := newSystem(t, b)
	g := groups(srv)[len(groups(srv))-1].ID
	if _, err := sys.Grant(ctx, access.GrantRequest{EntitlementID: groupE(g), PrincipalID: uid(agent.ID)}); err != nil {
		t.Errorf("System group grant (no organization involved): %v", err)
	}
}

// ---------------------------------------------------------------------------
// 2. Results are complete: what a call reports adds up to what changed.

// Promoting an end user to agent (role:agent:assigned, role:admin:assigned,
// or a group grant with WithPromoteEndUsers) makes Zendesk put them in the
// account's default group (zendesktest: "New agents join the account's
// default group"; grantGroup's own comment: "Zendesk puts new agents in the
// default group"). That membership is a grant the call created, but no
// Result reports it (access.Result.Added: "other grants the call created on
// the way"; "a caller always learns every change a call made").
func TestAttack_PromotionAddsDefaultGroupUnreported(t *testing.T) {
	t.Parallel()
	srv := demo(t)
	gs := groups(srv)
	var def, other int64
	for _, g := range gs {
		if g.Default {
			def = g.ID
		} else if !g.Deleted {
			other = g.ID
		}
	}
	if def == 0 || other == 0 {
		t.Fatal("demo account lacks a default and another group")
	}
	b := newBackend(t, srv, zendeskaccess.WithPromoteEndUsers(true))
	sys := newSystem(t, b)
	ends := liveUsers(srv, zendesktest.RoleEndUser)
	for i, req := range []access.GrantRequest{
		{EntitlementID: roleE("agent"), PrincipalID: uid(ends[0].ID)},
		{EntitlementID: roleE("admin"), PrincipalID: uid(ends[1].ID)},
		{EntitlementID: groupE(other), PrincipalID: uid(ends[2].ID)},
	} {
		user := ends[i].ID
		before := held(t, srv, user)
		res, err := sys.Grant(t.Context(), req)
		if err != nil {
			t.Fatalf("Grant(%s): %v", req.GrantID(), err)
		}
		after := held(t, srv, user)
		var l ledger
		l.record(req.GrantID(), res)
		l.check(t, before, after)
		if after[access.GrantID(groupE(def), uid(user))] && !slices.Contains(grantIDs(res.Added), access.GrantID(groupE(def), uid(user))) {
			t.Errorf("Grant(%s): the user joined the default group %d, but Added = %v", req.GrantID(), def, grantIDs(res.Added))
		}
	}
}

// Many goroutines change one user at once, through System, with every
// kind of grant and revoke, including promotions of an end user, on an
// account without multiple organizations. Every result must be consistent
// with the final state: the changes the results report add up, grant by
// grant, to what changed in Zendesk.
func TestAttack_ConcurrentMixedChangesAddUp(t *testing.T) {
	t.Parallel()
	forMoveModes(t, func(t *testing.T, mode zendeskaccess.OrgMode) {
		concurrentMix(t, mode, true, 3)
	})
}

// As TestAttack_ConcurrentMixedChangesAddUp, but the user starts as an
// agent and is never demoted to end user or promoted from one, so no call
// relies on what Zendesk does to a new agent's groups.
func TestAttack_ConcurrentChangesWithoutPromotionAddUp(t *testing.T) {
	t.Parallel()
	forMoveModes(t, func(t *testing.T, mode zendeskaccess.OrgMode) {
		concurrentMix(t, mode, false, 3)
	})
}

// forMoveModes runs f as a parallel subtest named after the mode, for
// OrgModeRefuse and for OrgModeReplace (the modes that decide what a grant of
// a second organization does on an account without multiple organizations).
func forMoveModes(t *testing.T, f func(t *testing.T, mode zendeskaccess.OrgMode)) {
	for _, mode := range []zendeskaccess.OrgMode{zendeskaccess.OrgModeRefuse, zendeskaccess.OrgModeReplace} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			f(t, mode)
		})
	}
}

func concurrentMix(t *testing.T, mode zendeskaccess.OrgMode, promotions bool, runs int) {
	for run := range runs {
		srv := demo(t)
		gs := groups(srv)
		orgs := organizations(srv)
		role := zendesktest.RoleAgent
		if promotions {
			role = zendesktest.RoleEndUser
		}
		u := addUser(t, srv, zendesktest.UserSpec{Name: "Target", Email: fmt.Sprintf("target%d@example.com", run), Role: role}, orgs[0].ID)
		const fallback, cr2 = 60_000_000_001, 60_000_000_002
		b := newBackend(t, srv, zendeskaccess.WithOrganizationMode(mode),
			zendeskaccess.WithPromoteEndUsers(true), zendeskaccess.WithCustomRoleFallback(fallback))
		sys := newSystem(t, b)
		if _, err := sys.Sync(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
		p := uid(u.ID)
		type op struct {
			grant bool
			e     string
		}
		ops := []op{
			{true, groupE(gs[1].ID)}, {true, groupE(gs[2].ID)}, {false, groupE(gs[1].ID)},
			{false, groupE(gs[0].ID)}, {true, groupE(gs[0].ID)},
			{true, orgE(orgs[1].ID)}, {true, orgE(orgs[2].ID)}, {false, orgE(orgs[0].ID)}, {false, orgE(orgs[1].ID)},
			{true, roleE("admin")}, {false, roleE("admin")},
			{true, customRoleE(cr2)}, {false, customRoleE(cr2)}, {true, customRoleE(fallback)},
		}
		if promotions {
			ops = append(ops, op{true, roleE("agent")}, op{false, roleE("agent")}, op{true, roleE("end-user")})
		}
		before := held(t, srv, u.ID)
		var l ledger
		var wg gosync.WaitGroup
		for rep := range 3 {
			for i, o := range ops {
				wg.Go(func() {
					var res access.Result
					var err error
					if o.grant {
						res, err = sys.Grant(t.Context(), access.GrantRequest{EntitlementID: o.e, PrincipalID: p})
					} else {
						res, err = sys.Revoke(t.Context(), access.RevokeRequest{EntitlementID: o.e, PrincipalID: p})
					}
					what := fmt.Sprintf("#%d.%d grant=%v %s", rep, i, o.grant, o.e)
					var pe *access.PartialError
					switch {
					case err == nil:
						if res.Grant == nil && res.Status != access.StatusAlreadyRevoked {
							t.Errorf("%s: %s without a grant", what, res.Status)
						}
					case errors.As(err, &pe):
						t.Errorf("%s: partial failure without faults: %v", what, err)
					case errors.Is(err, access.ErrNotGrantable):
						// an end user's group or custom role, a refused move, an end user's role
						if res.Changed() {
							t.Errorf("%s: refused with ErrNotGrantable but changed %+v", what, res)
						}
					default:
						t.Errorf("%s: %v", what, err)
					}
					l.record(what, res)
				})
			}
		}
		wg.Wait()
		after := held(t, srv, u.ID)
		l.check(t, before, after)
		if len(srv.OrganizationMembershipsOf(u.ID)) > 1 {
			t.Errorf("run %d: the user ends in %d organizations on a single-organization account", run, len(srv.OrganizationMembershipsOf(u.ID)))
		}
		if t.Failed() {
			return
		}
	}
}

// A caller waiting for another call on the same user returns, when its
// context ends, with the context's error, at once and having changed
// nothing (Backend.Grant: "a grant or revoke waits (honouring ctx) for the
// one before it on the same user").
func TestAttack_CancelledWaiterReturnsPromptly(t *testing.T) {
	t.Parallel()
	srv := demo(t)
	p := newProxy(t, srv)
	b := p.backend(t)
	sys := newSystem(t, b)
	if _, err := sys.Sync(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	agent := liveUsers(srv, zendesktest.RoleAgent)[0]
	gs := groups(srv)
	in := map[int64]bool{}
	for _, m := range srv.GroupMembershipsOf(agent.ID) {
		in[m.GroupID] = true
	}
	var free []int64
	for _, g := range gs {
		if !in[g.ID] && !g.Deleted {
			free = append(free, g.ID)
		}
	}
	if len(free) < 2 {
		t.Fatal("need two groups the agent is not in")
	}
	userPath := "/api/v2/users/" + strconv.FormatInt(agent.ID, 10)
	entered := make(chan struct{})
	release := make(chan struct{})
	var once gosync.Once
	p.set(func(r *http.Request) string {
		if r.Method == http.MethodGet && strings.TrimSuffix(r.URL.Path, ".json") == userPath {
			blocked := false
			once.Do(func() { blocked = true })
			if blocked {
				close(entered)
				<-release
			}
		}
		return ""
	})
	var releaseOnce gosync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(unblock) // runs before the proxy closes, even after a t.Fatal
	holderDone := make(chan error, 1)
	go func() {
		_, err := sys.Grant(context.Background(), access.GrantRequest{EntitlementID: groupE(free[0]), PrincipalID: uid(agent.ID)})
		holderDone <- err
	}()
	<-entered // the holder has the user's lock and is reading the user

	ctx, cancel := context.WithCancel(t.Context())
	const waiters = 8
	waiterDone := make(chan error, waiters)
	for range waiters {
		go func() {
			_, err := sys.Grant(ctx, access.GrantRequest{EntitlementID: groupE(free[1]), PrincipalID: uid(agent.ID)})
			waiterDone <- err
		}()
	}
	cancel()
	for range waiters {
		select {
		case err := <-waiterDone:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled waiter: error = %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second): // a safety net, not an ordering device
			t.Fatal("a cancelled waiter did not return while another call held the user")
		}
	}
	unblock()
	if err := <-holderDone; err != nil {
		t.Errorf("holder: %v", err)
	}
	for _, m := range srv.GroupMembershipsOf(agent.ID) {
		if m.GroupID == free[1] {
			t.Errorf("the cancelled grant was carried out")
		}
	}
	// The lock was released: another grant on the user goes through.
	if _, err := sys.Grant(t.Context(), access.GrantRequest{EntitlementID: groupE(free[1]), PrincipalID: uid(agent.ID)}); err != nil {
		t.Errorf("grant after the cancellation: %v", err)
	}
}

// ---------------------------------------------------------------------------
// 3. Partial changes and lost answers.

// A membership create whose answer is lost is retried by the client (the
// repetition "is detectable (a duplicate membership answers 422
// DuplicateValue)", zendesk doc), and the retry's duplicate is then taken
// for a grant that existed: StatusAlreadyGranted ("the grant existed;
// nothing was changed") for a grant this very call created. The revoke side
// reads first for exactly this reason (StatusRevoked after a lost delete).
func TestAttack_LostCreateAnswerReportedAsAlreadyGranted(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"group", "organization"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := demo(t)
			p := newProxy(t, srv)
			b := p.backend(t)
			sys := newSystem(t, b)
			var req access.GrantRequest
			path := "/api/v2/group_memberships"
			switch kind {
			case "group":
				agent := liveUsers(srv, zendesktest.RoleAgent)[0]
				in := map[int64]bool{}
				for _, m := range srv.GroupMembershipsOf(agent.ID) {
					in[m.GroupID] = true
				}
				for _, g := range groups(srv) {
					if !in[g.ID] && !g.Deleted {
						req = access.GrantRequest{EntitlementID: groupE(g.ID), PrincipalID: uid(agent.ID)}
					}
				}
			case "organization":
				path = "/api/v2/organization_memberships"
				for _, u := range liveUsers(srv, zendesktest.RoleAgent) {
					if u.OrganizationID == 0 {
						req = access.GrantRequest{EntitlementID: orgE(organizations(srv)[0].ID), PrincipalID: uid(u.ID)}
						break
					}
				}
			}
			if req.EntitlementID == "" {
				t.Fatal("no fixture")
			}
			var posts atomic.Int32
			p.set(func(r *http.Request) string {
				if r.Method == http.MethodPost && strings.TrimSuffix(r.URL.Path, ".json") == path && posts.Add(1) == 1 {
					return "lose"
				}
				return ""
			})
			res, err := sys.Grant(t.Context(), req)
			if err != nil {
				t.Fatalf("Grant: %v", err)
			}
			if posts.Load() < 2 {
				t.Fatalf("the create was sent %d times; the test needs its retry", posts.Load())
			}
			if res.Status != access.StatusGranted {
				t.Errorf("Grant after the create's answer was lost: status %q, want %q (the grant did not exist before this call)", res.Status, access.StatusGranted)
			}
		})
	}
}

// A revoke whose delete took effect but whose answer was lost is
// StatusRevoked (access.StatusRevoked), for organizations too: the user's
// own organization and, with multiple organizations, another one.
func TestAttack_LostDeleteAnswerIsRevoked(t *testing.T) {
	t.Parallel()
	for _, multi := range []bool{false, true} {
		t.Run(fmt.Sprintf("multiple=%v", multi), func(t *testing.T) {
			t.Parallel()
			srv := demo(t, zendesktest.WithMultipleOrganizations(multi))
			p := newProxy(t, srv)
			b := p.backend(t, zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers))
			sys := newSystem(t, b)
			orgs := organizations(srv)
			in, target := []int64{orgs[0].ID}, orgs[0].ID
			if multi {
				in, target = append(in, orgs[1].ID), orgs[1].ID // not the user's default organization
			}
			u := addUser(t, srv, zendesktest.UserSpec{Name: "Leaver", Email: "leaver@example.com"}, in...)
			var deletes atomic.Int32
			p.set(func(r *http.Request) string {
				if r.Method == http.MethodDelete && deletes.Add(1) == 1 {
					return "lose"
				}
				return ""
			})
			res, err := sys.Revoke(t.Context(), access.RevokeRequest{EntitlementID: orgE(target), PrincipalID: uid(u.ID)})
			if err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			if deletes.Load() < 2 {
				t.Fatalf("the delete was sent %d times; the test needs its retry", deletes.Load())
			}
			if res.Status != access.StatusRevoked || res.Grant == nil || res.Grant.ID() != access.GrantID(orgE(target), uid(u.ID)) {
				t.Errorf("Revoke = %q, grant %v; want %q with the grant", res.Status, res.Grant, access.StatusRevoked)
			}
		})
	}
}

// OrgModeReplace on an account whose Zendesk refuses a second membership:
// the backend removes the user's organization and then adds the new one.
// If Zendesk becomes unreachable right after the removal, the call returns
// an empty Result: the removal it made is reported nowhere (README: "when
// a change fails halfway returns what it changed with an
// *access.PartialError, never an empty result").
func TestAttack_MoveFailingAfterRemovalReportsNothing(t *testing.T) {
	t.Parallel()
	srv := demo(t, zendesktest.WithSingleOrganizationMode(zendesktest.RefuseMembership))
	p := newProxy(t, srv)
	b := backendOf(t, p.client(t, zendesk.WithMaxRetries(0)),
		zendeskaccess.WithOrganizationMode(zendeskaccess.OrgModeReplace), zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers))
	sys := newSystem(t, b)
	if _, err := sys.Sync(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	orgs := organizations(srv)
	u := addUser(t, srv, zendesktest.UserSpec{Name: "Mover", Email: "mover@example.com"}, orgs[0].ID)
	var down atomic.Bool
	p.set(func(r *http.Request) string {
		if down.Load() {
			return "refuse"
		}
		if r.Method == http.MethodDelete {
			down.Store(true) // the removal is served; everything after it fails
		}
		return ""
	})
	res, err := sys.Grant(t.Context(), access.GrantRequest{EntitlementID: orgE(orgs[1].ID), PrincipalID: uid(u.ID)})
	if err == nil {
		t.Fatalf("Grant succeeded with Zendesk down: %+v", res)
	}
	if got := srv.OrganizationMembershipsOf(u.ID); len(got) != 0 {
		t.Fatalf("the user is still in %d organizations; the test needs the removal to have happened", len(got))
	}
	removed := access.GrantID(orgE(orgs[0].ID), uid(u.ID))
	var pe *access.PartialError
	if !errors.As(err, &pe) {
		t.Errorf("Grant error = %v (%T), want a *access.PartialError: it removed %s", err, err, removed)
	}
	if !slices.Contains(grantIDs(res.Replaced), removed) {
		t.Errorf("Result = %+v: Replaced lacks %s, which the call removed", res, removed)
	}
}

// A promotion followed by a failed membership is reported (regression of
// issue 7 item 4), here with the failure coming from Zendesk (5xx after
// retries) rather than a 403.
func TestAttack_PromotionThenServerErrorIsPartial(t *testing.T) {
	t.Parallel()
	srv := demo(t)
	p := newProxy(t, srv)
	b := backendOf(t, p.client(t, zendesk.WithMaxRetries(1)), zendeskaccess.WithPromoteEndUsers(true))
	sys := newSystem(t, b)
	p.set(func(r *http.Request) string {
		if r.Method == http.MethodPost {
			return "fail500" // after the promotion (a PUT), every create fails
		}
		return ""
	})
	end := liveUsers(srv, zendesktest.RoleEndUser)[0]
	var g int64
	for _, gr := range groups(srv) {
		if !gr.Default && !gr.Deleted {
			g = gr.ID
		}
	}
	res, err := sys.Grant(t.Context(), access.GrantRequest{EntitlementID: groupE(g), PrincipalID: uid(end.ID)})
	var pe *access.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v, want *access.PartialError", err)
	}
	if res.Status != access.StatusIncomplete || !slices.Contains(grantIDs(res.Added), access.GrantID(roleE("agent"), uid(end.ID))) {
		t.Errorf("Result = %+v, want StatusIncomplete with role:agent in Added", res)
	}
	if !strings.Contains(pe.Error(), "added role:agent:assigned") {
		t.Errorf("PartialError text does not name the promotion: %v", pe)
	}
}

// ---------------------------------------------------------------------------
// 4. GrantsFor equals a sync.

// GrantsFor (the backend's and System's) returns exactly what a sync shows
// for the principal, attributes included, under every option combination
// (Backend.GrantsFor: "returns one user's grants exactly as a sync would
// show them").
func TestAttack_GrantsForEqualsSync(t *testing.T) {
	t.Parallel()
	type account struct {
		name  string
		plan  zendesktest.Plan
		multi string // "on", "off", or "was-on" (turned off, memberships kept)
	}
	accounts := []account{
		{"enterprise-single", zendesktest.PlanEnterprise, "off"},
		{"enterprise-multi", zendesktest.PlanEnterprise, "on"},
		{"enterprise-was-multi", zendesktest.PlanEnterprise, "was-on"},
		{"professional-single", zendesktest.PlanProfessional, "off"},
		{"professional-multi", zendesktest.PlanProfessional, "on"},
	}
	for _, acc := range accounts {
		t.Run(acc.name, func(t *testing.T) {
			t.Parallel()
			spec := zendesktest.DemoAccount()
			if acc.plan != zendesktest.PlanEnterprise {
				spec.CustomRoles = 0
			}
			spec.Agents, spec.OrganizationMemberships = 10, 40
			srv := newServer(t, zendesktest.WithPlan(acc.plan), zendesktest.WithAccount(spec),
				zendesktest.WithMultipleOrganizations(acc.multi != "off"))
			orgs := organizations(srv)
			// Team members in organizations, some in several.
			for i, u := range liveUsers(srv, zendesktest.RoleAgent, zendesktest.RoleAdmin) {
				for j := range i % 3 {
					_, _ = srv.AddOrganizationMembership(u.ID, orgs[(i+j)%len(orgs)].ID)
				}
			}
			if acc.multi == "was-on" {
				srv.SetMultipleOrganizations(false)
			}
			nameFilter := []string{"  " + strings.ToUpper(orgs[1].Name) + " ", orgs[2].Name}
			idFilter := []int64{orgs[0].ID, orgs[3].ID}
			type combo struct {
				name string
				opts []zendeskaccess.Option
			}
			var combos []combo
			for _, scope := range []zendeskaccess.Scope{zendeskaccess.ScopeTeamMembers, zendeskaccess.ScopeAllUsers} {
				for _, strat := range []zendeskaccess.MembershipStrategy{zendeskaccess.StrategyAuto, zendeskaccess.StrategyAccountWide, zendeskaccess.StrategyPerUser} {
					for fi, filter := range []zendeskaccess.Option{nil,
						zendeskaccess.WithOrganizations(nameFilter, nil),
						zendeskaccess.WithOrganizations(nil, idFilter),
						zendeskaccess.WithOrganizations(nameFilter[:1], idFilter[:1])} {
						combos = append(combos, combo{fmt.Sprintf("%s/%s/filter%d", scope, strat, fi),
							[]zendeskaccess.Option{zendeskaccess.WithScope(scope), zendeskaccess.WithMembershipStrategy(strat), filter}})
					}
				}
				for _, types := range [][]string{{"group"}, {"organization", "role"}, {"custom_role"}, {"role", "custom_role", "group"}} {
					combos = append(combos, combo{fmt.Sprintf("%s/types=%v", scope, types),
						[]zendeskaccess.Option{zendeskaccess.WithScope(scope), zendeskaccess.WithResourceTypes(types...)}})
				}
			}
			users := liveUsers(srv)
			compared := map[string]int{}
			defer func() {
				if !t.Failed() && (compared["organization"] < 20 || compared["group"] < 20 || compared["role"] < 20 ||
					acc.plan == zendesktest.PlanEnterprise && compared["custom_role"] < 5) {
					t.Errorf("too few grants compared to test anything: %v", compared)
				}
			}()
			for _, c := range combos {
				b := newBackend(t, srv, c.opts...)
				sys := newSystem(t, b)
				snap, err := sys.Sync(t.Context(), nil)
				if err != nil {
					t.Fatalf("%s: Sync: %v", c.name, err)
				}
				for _, u := range users {
					p := uid(u.ID)
					want := map[string]access.Attributes{}
					for _, g := range snap.GrantsFor(p) {
						want[g.ID()] = g.Attributes()
					}
					_, inSync := snap.Resource(p)
					for who, f := range map[string]func(context.Context, string) ([]access.Grant, error){
						"backend": b.GrantsFor, "System": sys.GrantsFor,
					} {
						gs, err := f(t.Context(), p)
						if !inSync {
							if !errors.Is(err, access.ErrUnknownPrincipal) {
								t.Errorf("%s: %s GrantsFor(%s) of a user the sync leaves out: %d grants, error %v; want ErrUnknownPrincipal", c.name, who, p, len(gs), err)
							}
							continue
						}
						if err != nil {
							t.Errorf("%s: %s GrantsFor(%s): %v", c.name, who, p, err)
							continue
						}
						got := map[string]access.Attributes{}
						for _, g := range gs {
							got[g.ID()] = g.Attributes()
							compared[g.ID()[:strings.IndexByte(g.ID(), ':')]]++
						}
						if d := cmp.Diff(want, got); d != "" {
							t.Errorf("%s: %s GrantsFor(%s) (-sync +GrantsFor):\n%s", c.name, who, p, d)
						}
					}
				}
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 5. Idempotency under faults.

type scriptOp struct {
	grant bool
	req   access.GrantRequest
}

// scriptUsers returns the ids of the users ops change.
func scriptUsers(ops []scriptOp) map[int64]bool {
	users := map[int64]bool{}
	for _, o := range ops {
		id, _ := strconv.ParseInt(strings.TrimPrefix(o.req.PrincipalID, "user:"), 10, 64)
		users[id] = true
	}
	return users
}

// heldBy returns the grants the users hold in srv, all in one set (see held).
func heldBy(t testing.TB, srv *zendesktest.Server, users map[int64]bool) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for id := range users {
		maps.Copy(out, held(t, srv, id))
	}
	return out
}

// faultScript is a fixed sequence of changes to the demo account's
// team members, with no promotion of end users.
func faultScript(t *testing.T, srv *zendesktest.Server) []scriptOp {
	t.Helper()
	gs := groups(srv)
	orgs := organizations(srv)
	agents := liveUsers(srv, zendesktest.RoleAgent)
	var admins []zendesktest.User
	for _, a := range liveUsers(srv, zendesktest.RoleAdmin) {
		if !a.Owner {
			admins = append(admins, a)
		}
	}
	var ops []scriptOp
	add := func(grant bool, e string, u int64) {
		ops = append(ops, scriptOp{grant, access.GrantRequest{EntitlementID: e, PrincipalID: uid(u)}})
	}
	for i, a := range agents[:4] {
		add(true, groupE(gs[(i+1)%len(gs)].ID), a.ID)
		add(true, groupE(gs[(i+2)%len(gs)].ID), a.ID)
		add(false, groupE(gs[(i+1)%len(gs)].ID), a.ID)
		add(false, groupE(gs[(i+3)%len(gs)].ID), a.ID)
		add(true, orgE(orgs[i%len(orgs)].ID), a.ID)
		add(true, orgE(orgs[(i+1)%len(orgs)].ID), a.ID)
		add(false, orgE(orgs[i%len(orgs)].ID), a.ID)
		add(true, customRoleE(60_000_000_002), a.ID)
		add(false, customRoleE(60_000_000_002), a.ID)
		add(true, roleE("admin"), a.ID)
		add(true, roleE("admin"), a.ID)
		add(false, roleE("admin"), a.ID)
	}
	for _, a := range admins[:1] {
		add(false, roleE("admin"), a.ID)
		add(true, roleE("admin"), a.ID)
	}
	return ops
}

// finalError names the sentinel of an error that repeating the call
// cannot change, or returns "".
func finalError(err error) string {
	for _, s := range []error{access.ErrNotGrantable, access.ErrUnknownEntitlement, access.ErrUnknownPrincipal, access.ErrMalformedID} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return ""
}

// runScript runs ops through System, repeating each until it succeeds or
// fails with a sentinel that repeating cannot change. It returns the
// effective status of each op and the ledger of every result.
func runScript(t *testing.T, sys *access.System, ops []scriptOp, typed func(error) bool) ([]string, *ledger) {
	t.Helper()
	l := &ledger{}
	failures := 0
	defer func() {
		l.failures = failures
	}()
	var out []string
	for i, o := range ops {
		status := ""
		for attempt := 0; ; attempt++ {
			var res access.Result
			var err error
			if o.grant {
				res, err = sys.Grant(t.Context(), o.req)
			} else {
				res, err = sys.Revoke(t.Context(), access.RevokeRequest(o.req))
			}
			l.record(fmt.Sprintf("op %d attempt %d grant=%v %s", i, attempt, o.grant, o.req.GrantID()), res)
			if status == "" && (err == nil || res.Changed()) {
				status = string(res.Status)
			}
			if err == nil {
				break
			}
			if final := finalError(err); final != "" {
				status = "error: " + final
				break
			}
			failures++
			if typed != nil && !typed(err) {
				t.Errorf("op %d (%s) attempt %d: untyped error %v", i, o.req.GrantID(), attempt, err)
			}
			if attempt == 40 {
				t.Fatalf("op %d (%s) still failing after %d attempts: %v", i, o.req.GrantID(), attempt, err)
			}
		}
		out = append(out, status)
	}
	return out, l
}

// With the simulator's faults on (5xx, resets, truncated bodies, HTML
// errors, 429 storms, 503 with Retry-After), repeating each change until it
// succeeds ends in the same state, with the same statuses, as without
// faults; the results add up; and every failure is one of the typed errors
// the zendesk client promises for a non-2xx answer, *zendesk.APIError
// (*zendesk.RateLimitError for 429s).
func TestAttack_FaultsConverge(t *testing.T) {
	t.Parallel()
	forMoveModes(t, func(t *testing.T, mode zendeskaccess.OrgMode) {
		opts := []zendeskaccess.Option{zendeskaccess.WithOrganizationMode(mode), zendeskaccess.WithCustomRoleFallback(60_000_000_001)}
		clean := demo(t)
		faulty := demo(t, zendesktest.WithFaults(zendesktest.Faults{Seed: 7, Rate: 0.3,
			Kinds: []zendesktest.FaultKind{zendesktest.Fault500, zendesktest.Fault502, zendesktest.Fault503,
				zendesktest.Fault503RetryAfter, zendesktest.FaultConnReset, zendesktest.FaultTruncatedBody,
				zendesktest.FaultHTMLError, zendesktest.Fault429Storm}, StormLength: 3}))
		ops := faultScript(t, clean)
		want, _ := runScript(t, newSystem(t, newBackend(t, clean, opts...)), ops, nil)

		users := scriptUsers(ops)
		before := heldBy(t, faulty, users)
		typed := func(err error) bool {
			var api *zendesk.APIError
			var dec *zendesk.DecodeError
			return errors.As(err, &api) || errors.As(err, &dec) || strings.Contains(err.Error(), "giving up after")
		}
		got, l := runScript(t, newSystem(t, backendOf(t, newClient(t, faulty, quickRetries(zendesk.WithMaxRetries(2))...), opts...)), ops, typed)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("statuses with faults (-without +with):\n%s", d)
		}
		t.Logf("%d faults injected, %d attempts failed; statuses %v", faulty.Stats().Faults, l.failures, got)
		if st := faulty.Stats(); st.Faults < 20 || l.failures < 5 {
			t.Errorf("only %d faults injected and %d attempts failed: the test did not test faults", st.Faults, l.failures)
		}
		kinds := map[string]bool{}
		for _, s := range want {
			kinds[strings.SplitN(s, ":", 2)[0]] = true
		}
		if len(kinds) < 4 {
			t.Errorf("the script's statuses are too uniform to test anything: %v", want)
		}
		for id := range users {
			if d := cmp.Diff(held(t, clean, id), held(t, faulty, id)); d != "" {
				t.Errorf("user %d ends differently with faults (-without +with):\n%s", id, d)
			}
		}
		l.check(t, before, heldBy(t, faulty, users))
	})
}

// Every third write's answer is lost after Zendesk carried it out (a
// network failure on the way back); the client repeats it. The end state
// must be the one reached without losses, and the statuses and the changes
// the results report must stay truthful (StatusAlreadyGranted: "the grant
// existed; nothing was changed"; StatusRevoked after a lost delete).
func TestAttack_LostAnswersConvergeAndAddUp(t *testing.T) {
	t.Parallel()
	forMoveModes(t, func(t *testing.T, mode zendeskaccess.OrgMode) {
		opts := []zendeskaccess.Option{zendeskaccess.WithOrganizationMode(mode), zendeskaccess.WithCustomRoleFallback(60_000_000_001)}
		clean := demo(t)
		lossy := demo(t)
		p := newProxy(t, lossy)
		var writes atomic.Int64
		p.set(func(r *http.Request) string {
			if r.Method != http.MethodGet && writes.Add(1)%3 == 0 {
				return "lose"
			}
			return ""
		})
		ops := faultScript(t, clean)
		want, _ := runScript(t, newSystem(t, newBackend(t, clean, opts...)), ops, nil)
		users := scriptUsers(ops)
		before := heldBy(t, lossy, users)
		got, l := runScript(t, newSystem(t, p.backend(t, opts...)), ops, nil)
		if writes.Load() < 10 {
			t.Fatalf("only %d writes: the test lost too few answers", writes.Load())
		}
		for id := range users {
			if d := cmp.Diff(held(t, clean, id), held(t, lossy, id)); d != "" {
				t.Errorf("user %d ends differently with lost answers (-without +with):\n%s", id, d)
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("statuses with lost answers (-without +with):\n%s", d)
		}
		l.check(t, before, heldBy(t, lossy, users))
	})
}

// ---------------------------------------------------------------------------
// 6. Secrets.

// No token or secret appears in any error, in %v, %+v or %#v of an error,
// a Result, the backend or System, whatever fails (DESIGN: "Secrets never
// appear in logs, errors, %v/%+v of any value, or URLs").
func TestAttack_NoSecretsInErrorsOrResults(t *testing.T) {
	t.Parallel()
	srv := demo(t, zendesktest.WithFaults(zendesktest.Faults{Seed: 3, Rate: 0.5, IncludeOAuth: true,
		Kinds: []zendesktest.FaultKind{zendesktest.Fault500, zendesktest.FaultHTMLError, zendesktest.FaultConnReset,
			zendesktest.FaultTruncatedBody, zendesktest.Fault429Storm, zendesktest.Fault503RetryAfter}}))
	cr := srv.Credentials()
	bearer, err := srv.IssueAccessToken(cr.AdminEmail, "read write")
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"API token":           cr.APIToken,
		"OAuth client secret": cr.OAuthClientSecret,
		"bearer token":        bearer,
		"basic auth":          base64.StdEncoding.EncodeToString([]byte(cr.AdminEmail + "/token:" + cr.APIToken)),
		"wrong token":         "wrong-" + cr.APIToken,
	}
	p := newProxy(t, srv)
	var refuse atomic.Bool
	p.set(func(r *http.Request) string {
		if refuse.Load() && r.Method != http.MethodGet {
			return "refuse"
		}
		return ""
	})
	retry := quickRetries(zendesk.WithBaseURL(p.URL), zendesk.WithRateLimit(fast), zendesk.WithMaxRetries(1))
	clients := map[string][]zendesk.Option{
		"api token":          {zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken)},
		"wrong api token":    {zendesk.WithAPIToken(cr.AdminEmail, "wrong-"+cr.APIToken)},
		"oauth credentials":  {zendesk.WithOAuthClientCredentials(cr.OAuthClientID, cr.OAuthClientSecret, "read", "write")},
		"wrong oauth secret": {zendesk.WithOAuthClientCredentials(cr.OAuthClientID, "wrong-"+cr.OAuthClientSecret, "read")},
		"bearer":             {zendesk.WithOAuthToken(bearer)},
	}
	var texts []string
	errs := 0
	show := func(v any) {
		if e, ok := v.(error); ok && e != nil {
			errs++
		}
		texts = append(texts, fmt.Sprintf("%v", v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v))
	}
	agent := liveUsers(srv, zendesktest.RoleAgent)[0].ID
	end := liveUsers(srv, zendesktest.RoleEndUser)[0].ID
	gs := groups(srv)
	for name, auth := range clients {
		c, err := zendesk.NewClient(cr.Subdomain, append(append(slices.Clone(retry), zendesk.WithUserUpdateLimit(0)), auth...)...) // pacing is tested in zendesk
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b := backendOf(t, c, zendeskaccess.WithPromoteEndUsers(true))
		sys := newSystem(t, b)
		show(b)
		show(sys)
		for i := range 6 {
			refuse.Store(i%2 == 1)
			for _, req := range []access.GrantRequest{
				{EntitlementID: groupE(gs[i%len(gs)].ID), PrincipalID: uid(agent)},
				{EntitlementID: groupE(gs[(i+1)%len(gs)].ID), PrincipalID: uid(end)},
				{EntitlementID: roleE("admin"), PrincipalID: uid(agent)},
			} {
				res, err := sys.Grant(t.Context(), req)
				show(res)
				show(err)
				res, err = b.Revoke(t.Context(), access.RevokeRequest(req))
				show(res)
				show(err)
			}
			_, err := sys.Sync(t.Context(), nil)
			show(err)
			_, err = sys.GrantsFor(t.Context(), uid(agent))
			show(err)
		}
	}
	refuse.Store(false)
	if errs < 50 {
		t.Errorf("only %d errors were produced: the test did not exercise failures", errs)
	}
	for _, text := range texts {
		for what, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("the %s appears in %q", what, text)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// 7. Hostile input.

// The backend refuses nil and odd input without panicking.
func TestAttack_BackendHostileInput(t *testing.T) {
	t.Parallel()
	if _, err := zendeskaccess.New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	if _, err := access.NewSystem(nil); err == nil {
		t.Error("NewSystem(nil) succeeded")
	}
	srv := demo(t)
	b := newBackend(t, srv, nil, nil)
	sys := newSystem(t, b)
	huge := strings.Repeat("9", 1<<20)
	for _, req := range []access.GrantRequest{{}, {EntitlementID: huge, PrincipalID: huge},
		{EntitlementID: "group:" + huge + ":member", PrincipalID: "user:" + huge},
		{EntitlementID: "user:10000000001:member", PrincipalID: "user:10000000001"},
		{EntitlementID: "group:20000000001:member", PrincipalID: "role:agent"},
		{EntitlementID: "group:20000000001:member", PrincipalID: "organization:30000000001"}} {
		noPanic(t, req.GrantID()[:min(40, len(req.GrantID()))], func() {
			for _, f := range []func() (access.Result, error){
				func() (access.Result, error) { return b.Grant(t.Context(), req) },
				func() (access.Result, error) { return b.Revoke(t.Context(), access.RevokeRequest(req)) },
				func() (access.Result, error) { return sys.Grant(t.Context(), req) },
				func() (access.Result, error) { return sys.Revoke(t.Context(), access.RevokeRequest(req)) },
			} {
				res, err := f()
				if err == nil || res.Changed() {
					t.Errorf("%.60s: %+v, %v; want a refusal", req.GrantID(), res, err)
				}
				if len(err.Error()) > 4096 {
					t.Errorf("%.60s: error of %d bytes", req.GrantID(), len(err.Error()))
				}
			}
		})
	}
	// A cancelled context is honoured before anything is sent.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	srv.ResetStats()
	agent := liveUsers(srv, zendesktest.RoleAgent)[0].ID
	if _, err := b.Grant(ctx, access.GrantRequest{EntitlementID: roleE("admin"), PrincipalID: uid(agent)}); !errors.Is(err, context.Canceled) {
		t.Errorf("Grant with a cancelled context: %v", err)
	}
	if u, _ := srv.User(agent); u.Role != zendesktest.RoleAgent {
		t.Errorf("a grant with a cancelled context changed the user's role to %s", u.Role)
	}
}

// A backend limited by WithOrganizations to some organizations, in
// OrgModeReplace, moves a user out of an organization outside its filter
// and reports nothing in Replaced (Result.Replaced: "the organization
// membership a user was moved out of on a Zendesk account without multiple
// organizations"): the removal is invisible to a caller recording changes.
// It should either report it or refuse the move, as OrgModeRefuse does.
func TestAttack_MoveOutOfFilteredOrganizationUnreported(t *testing.T) {
	t.Parallel()
	srv := demo(t)
	orgs := organizations(srv)
	b := newBackend(t, srv, zendeskaccess.WithOrganizationMode(zendeskaccess.OrgModeReplace),
		zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers), zendeskaccess.WithOrganizations(nil, []int64{orgs[1].ID}))
	sys := newSystem(t, b)
	u := addUser(t, srv, zendesktest.UserSpec{Name: "Outsider", Email: "outsider@example.com"}, orgs[0].ID)
	res, err := sys.Grant(t.Context(), access.GrantRequest{EntitlementID: orgE(orgs[1].ID), PrincipalID: uid(u.ID)})
	if errors.Is(err, zendeskaccess.ErrOrganizationMove) {
		return // refused: nothing outside the filter was touched
	}
	if err != nil {
		t.Fatal(err)
	}
	still := false
	for _, m := range srv.OrganizationMembershipsOf(u.ID) {
		still = still || m.OrganizationID == orgs[0].ID
	}
	removed := access.GrantID(orgE(orgs[0].ID), uid(u.ID))
	if !still && !slices.Contains(grantIDs(res.Replaced), removed) {
		t.Errorf("Grant moved the user out of organization %d (outside the filter) but Replaced = %v, Note = %q", orgs[0].ID, grantIDs(res.Replaced), res.Note)
	}
}
