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
	"io"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
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
// Helpers (prefixed atk so that they cannot collide with the package's own).

const (
	atkFast      = 1_000_000
	atkUserBase  = 10_000_000_000
	atkGroupBase = 20_000_000_000
	atkOrgBase   = 30_000_000_000
)

// atkServer starts a simulator for the attacks. They change single users far more
// often than Zendesk's five updates a minute per user allow, so its per-user limit is
// off (and atkClient's pacing of it): the limit and the pacing are tested in packages
// zendesktest and zendesk.
func atkServer(t testing.TB, opts ...zendesktest.Option) *zendesktest.Server {
	t.Helper()
	all := append([]zendesktest.Option{zendesktest.WithRateLimit(atkFast), zendesktest.WithRequestLog(10_000),
		zendesktest.WithUserUpdateLimit(0)}, opts...)
	srv, err := zendesktest.NewServer(all...)
	if err != nil {
		t.Fatalf("zendesktest.NewServer: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func atkDemo(t testing.TB, opts ...zendesktest.Option) *zendesktest.Server {
	t.Helper()
	return atkServer(t, append([]zendesktest.Option{zendesktest.WithAccount(zendesktest.DemoAccount())}, opts...)...)
}

// atkClient returns an API-token client of srv sending to baseURL (srv.URL
// or a proxy's), retrying quickly and never sleeping on a Retry-After.
func atkClient(t testing.TB, srv *zendesktest.Server, baseURL string, extra ...zendesk.Option) *zendesk.Client {
	t.Helper()
	cr := srv.Credentials()
	opts := []zendesk.Option{zendesk.WithBaseURL(baseURL),
		zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken), zendesk.WithRateLimit(atkFast), zendesk.WithUserUpdateLimit(0),
		zendesk.WithRetryWait(time.Millisecond, time.Millisecond), zendesk.WithRetryAfterCap(time.Millisecond)}
	c, err := zendesk.NewClient(cr.Subdomain, append(opts, extra...)...)
	if err != nil {
		t.Fatalf("zendesk.NewClient: %v", err)
	}
	return c
}

func atkBackend(t testing.TB, c *zendesk.Client, opts ...zendeskaccess.Option) *zendeskaccess.Backend {
	t.Helper()
	b, err := zendeskaccess.New(c, opts...)
	if err != nil {
		t.Fatalf("zendeskaccess.New: %v", err)
	}
	return b
}

func atkSystem(t testing.TB, b access.Backend) *access.System {
	t.Helper()
	sys, err := access.NewSystem(b)
	if err != nil {
		t.Fatalf("access.NewSystem: %v", err)
	}
	return sys
}

func atkUID(id int64) string   { return "user:" + strconv.FormatInt(id, 10) }
func atkGroup(id int64) string { return "group:" + strconv.FormatInt(id, 10) + ":member" }
func atkOrg(id int64) string   { return "organization:" + strconv.FormatInt(id, 10) + ":member" }
func atkCR(id int64) string    { return "custom_role:" + strconv.FormatInt(id, 10) + ":assigned" }
func atkRole(r string) string  { return "role:" + r + ":assigned" }

func atkUsers(srv *zendesktest.Server, roles ...zendesktest.Role) []zendesktest.User {
	var out []zendesktest.User
	for id := int64(atkUserBase + 1); ; id++ {
		u, ok := srv.User(id)
		if !ok {
			return out
		}
		if u.Active && (len(roles) == 0 || slices.Contains(roles, u.Role)) {
			out = append(out, u)
		}
	}
}

func atkGroups(srv *zendesktest.Server) []zendesktest.Group {
	var out []zendesktest.Group
	for id := int64(atkGroupBase + 1); ; id++ {
		g, ok := srv.Group(id)
		if !ok {
			return out
		}
		out = append(out, g)
	}
}

func atkOrgs(srv *zendesktest.Server) []zendesktest.Organization {
	var out []zendesktest.Organization
	for id := int64(atkOrgBase + 1); ; id++ {
		o, ok := srv.Organization(id)
		if !ok {
			return out
		}
		out = append(out, o)
	}
}

// atkHeld returns the grants a user holds in Zendesk, read from the
// simulator's state (no request, no fault, no code under test).
func atkHeld(t testing.TB, srv *zendesktest.Server, userID int64) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	u, ok := srv.User(userID)
	if !ok || !u.Active {
		return out
	}
	p := atkUID(userID)
	out[access.GrantID(atkRole(string(u.Role)), p)] = true
	if u.CustomRoleID != 0 {
		out[access.GrantID(atkCR(u.CustomRoleID), p)] = true
	}
	for _, m := range srv.GroupMembershipsOf(userID) {
		if g, ok := srv.Group(m.GroupID); ok && !g.Deleted {
			out[access.GrantID(atkGroup(m.GroupID), p)] = true
		}
	}
	for _, m := range srv.OrganizationMembershipsOf(userID) {
		out[access.GrantID(atkOrg(m.OrganizationID), p)] = true
	}
	return out
}

func atkIDs(gs []access.Grant) []string {
	out := []string{}
	for _, g := range gs {
		out = append(out, g.ID())
	}
	slices.Sort(out)
	return out
}

// atkLedger adds up what results say a call changed: +1 for a grant created
// (StatusGranted, Added), -1 for one removed (StatusRevoked, Replaced). If
// every result is truthful and complete, then for every grant the net sum
// is what the grant's holding changed by from before to after, whatever
// order the calls ran in.
type atkLedger struct {
	mu       gosync.Mutex
	net      map[string]int
	log      []string
	failures int // failed attempts (atkRunScript)
}

func (l *atkLedger) record(what string, res access.Result) {
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
func (l *atkLedger) check(t testing.TB, before, after map[string]bool) {
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

// atkProxy stands between a client and the simulator; hook decides per
// request: "" forwards it, "refuse" answers 403 (not retried), "fail500"
// answers 500 (retried by the client), "lose"
// forwards it and then drops the answer (the server acted, the client
// does not know). hook may block.
type atkProxy struct {
	URL  string
	mu   gosync.Mutex
	hook func(r *http.Request) string
}

func atkNewProxy(t testing.TB, srv *zendesktest.Server) *atkProxy {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0)
	p := &atkProxy{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		hook := p.hook
		p.mu.Unlock()
		action := ""
		if hook != nil {
			action = hook(r)
		}
		switch action {
		case "refuse":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":"Forbidden","description":"refused by the attack proxy"}`))
		case "fail500":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"error":"InternalError","description":"failed by the attack proxy"}`))
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

func (p *atkProxy) set(hook func(r *http.Request) string) {
	p.mu.Lock()
	p.hook = hook
	p.mu.Unlock()
}

func atkNoPanic(t testing.TB, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
		}
	}()
	f()
}

// ---------------------------------------------------------------------------
// 1. IDs

// atkBadNative lists non-canonical spellings of Zendesk id n (and inputs
// that are no id at all).
func atkBadNative(n int64) []string {
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
func atkIDFixture(t *testing.T, srv *zendesktest.Server) (agent int64, group int64) {
	t.Helper()
	return atkUsers(srv, zendesktest.RoleAgent)[0].ID, atkGroups(srv)[1].ID
}

func atkMalformedRequests(agent, group int64) []access.GrantRequest {
	var reqs []access.GrantRequest
	for _, bad := range atkBadNative(agent) {
		reqs = append(reqs,
			access.GrantRequest{EntitlementID: atkGroup(group), PrincipalID: "user:" + bad},
			access.GrantRequest{EntitlementID: atkRole("agent"), PrincipalID: "user:" + bad})
	}
	for _, bad := range atkBadNative(group) {
		for _, typ := range []string{"group:%s:member", "organization:%s:member", "custom_role:%s:assigned"} {
			reqs = append(reqs, access.GrantRequest{EntitlementID: fmt.Sprintf(typ, bad), PrincipalID: atkUID(agent)})
		}
	}
	// Empty parts and broken structure.
	for _, e := range []string{"", ":", "::", "group::member", ":1:member", "group:" + strconv.FormatInt(group, 10) + ":",
		"group:" + strconv.FormatInt(group, 10), "group:" + strconv.FormatInt(group, 10) + ":member:x",
		"Group:" + strconv.FormatInt(group, 10) + ":member", "group:" + strconv.FormatInt(group, 10) + ":Member",
		"group:1@2:member", "role:agent :assigned", "role:%61gent:assigned", "role::assigned", "role:agent:Assigned"} {
		reqs = append(reqs, access.GrantRequest{EntitlementID: e, PrincipalID: atkUID(agent)})
	}
	for _, p := range []string{"", "user", "user:", ":1", "User:" + strconv.FormatInt(agent, 10), "user:1:2", "user:1@x", "user::1"} {
		reqs = append(reqs, access.GrantRequest{EntitlementID: atkGroup(group), PrincipalID: p})
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
			srv := atkServer(t, zendesktest.WithPlan(plan), zendesktest.WithAccount(spec))
			b := atkBackend(t, atkClient(t, srv, srv.URL), zendeskaccess.WithPromoteEndUsers(true),
				zendeskaccess.WithCustomRoleFallback(60_000_000_001))
			sys := atkSystem(t, b)
			if _, err := sys.Info(t.Context()); err != nil {
				t.Fatal(err)
			}
			agent, group := atkIDFixture(t, srv)
			srv.ResetStats()
			ctx := t.Context()
			for _, req := range atkMalformedRequests(agent, group) {
				name := fmt.Sprintf("%q@%q", req.EntitlementID, req.PrincipalID)
				check := func(op string, err error) {
					t.Helper()
					if !errors.Is(err, access.ErrMalformedID) {
						t.Errorf("%s %s: error = %v, want ErrMalformedID", op, name, err)
					}
				}
				atkNoPanic(t, name, func() {
					_, err := b.Grant(ctx, req)
					check("backend Grant", err)
					_, err = b.Revoke(ctx, access.RevokeRequest(req))
					check("backend Revoke", err)
					_, err = sys.Grant(ctx, req)
					check("System.Grant", err)
					_, err = sys.Revoke(ctx, access.RevokeRequest(req))
					check("System.Revoke", err)
					if strings.HasPrefix(req.PrincipalID, "user:") && req.PrincipalID != atkUID(agent) {
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
	srv := atkDemo(t)
	b := atkBackend(t, atkClient(t, srv, srv.URL))
	sys := atkSystem(t, b)
	if _, err := sys.Info(t.Context()); err != nil {
		t.Fatal(err)
	}
	agent := atkUsers(srv, zendesktest.RoleAgent)[0].ID
	srv.ResetStats()
	for _, e := range []string{"role:Agent:assigned", "role:AGENT:assigned", "role:end_user:assigned",
		"role:enduser:assigned", "role:end-users:assigned", "role:owner:assigned", "role:agent:member",
		"role:admin:assigned-", "role:light-agent:assigned", "role:agent%20:assigned", "role:%C3%A4gent:assigned",
		"role:ａｇｅｎｔ:assigned", "role:agent\u200b:assigned"} {
		req := access.GrantRequest{EntitlementID: e, PrincipalID: atkUID(agent)}
		atkNoPanic(t, e, func() {
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
	srv := atkDemo(t)
	b := atkBackend(t, atkClient(t, srv, srv.URL), zendeskaccess.WithResourceTypes(zendeskaccess.TypeGroup))
	sys := atkSystem(t, b)
	agent := atkUsers(srv, zendesktest.RoleAgent)[0].ID
	org := atkOrgs(srv)[0].ID
	cases := []access.GrantRequest{
		{EntitlementID: "organization:0" + strconv.FormatInt(org, 10) + ":member", PrincipalID: atkUID(agent)},
		{EntitlementID: "custom_role:+1:assigned", PrincipalID: atkUID(agent)},
		{EntitlementID: "organization:" + strconv.FormatInt(org, 10) + ":member", PrincipalID: "user:0" + strconv.FormatInt(agent, 10)},
		{EntitlementID: atkGroup(atkGroups(srv)[0].ID), PrincipalID: "group:0" + strconv.FormatInt(atkGroups(srv)[0].ID, 10)},
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
	srv := atkDemo(t)
	p := atkNewProxy(t, srv)
	b := atkBackend(t, atkClient(t, srv, p.URL, zendesk.WithMaxRetries(0)))
	sys := atkSystem(t, b)
	agent := atkUsers(srv, zendesktest.RoleAgent)[0].ID
	req := access.GrantRequest{EntitlementID: atkRole("admin"), PrincipalID: "user:0" + strconv.FormatInt(agent, 10)}

	// Zendesk is unreachable: the id is still malformed.
	p.set(func(*http.Request) string { return "refuse" })
	if _, err := sys.Grant(t.Context(), req); !errors.Is(err, access.ErrMalformedID) {
		t.Errorf("System.Grant(%s) with Zendesk down: error = %v, want ErrMalformedID", req.GrantID(), err)
	}
	p.set(nil)

	// A fresh System refuses a malformed id without talking to Zendesk.
	srv.ResetStats()
	if _, err := atkSystem(t, b).Revoke(t.Context(), access.RevokeRequest(req)); !errors.Is(err, access.ErrMalformedID) {
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
	srv := atkDemo(t) // Enterprise, multiple organizations off
	b := atkBackend(t, atkClient(t, srv, srv.URL), zendeskaccess.WithOrganizationMode(zendeskaccess.OrgModeMultiple))
	var agent zendesktest.User
	for _, u := range atkUsers(srv, zendesktest.RoleAgent) {
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
	if _, err := b.Grant(ctx, access.GrantRequest{EntitlementID: atkRole("agent"), PrincipalID: atkUID(agent.ID)}); err != nil {
		t.Errorf("backend role grant: %v", err)
	}
	if _, err := b.Grant(ctx, access.GrantRequest{EntitlementID: atkCR(other), PrincipalID: atkUID(agent.ID)}); err != nil {
		t.Errorf("backend custom role grant (no organization involved): %v", err)
	}
	// Through System, the way the README says access is changed.
	sys := atkSystem(t, b)
	g := atkGroups(srv)[len(atkGroups(srv))-1].ID
	if _, err := sys.Grant(ctx, access.GrantRequest{EntitlementID: atkGroup(g), PrincipalID: atkUID(agent.ID)}); err != nil {
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
	srv := atkDemo(t)
	gs := atkGroups(srv)
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
	b := atkBackend(t, atkClient(t, srv, srv.URL), zendeskaccess.WithPromoteEndUsers(true))
	sys := atkSystem(t, b)
	ends := atkUsers(srv, zendesktest.RoleEndUser)
	for i, req := range []access.GrantRequest{
		{EntitlementID: atkRole("agent"), PrincipalID: atkUID(ends[0].ID)},
		{EntitlementID: atkRole("admin"), PrincipalID: atkUID(ends[1].ID)},
		{EntitlementID: atkGroup(other), PrincipalID: atkUID(ends[2].ID)},
	} {
		user := ends[i].ID
		before := atkHeld(t, srv, user)
		res, err := sys.Grant(t.Context(), req)
		if err != nil {
			t.Fatalf("Grant(%s): %v", req.GrantID(), err)
		}
		after := atkHeld(t, srv, user)
		var l atkLedger
		l.record(req.GrantID(), res)
		l.check(t, before, after)
		if after[access.GrantID(atkGroup(def), atkUID(user))] && !slices.Contains(atkIDs(res.Added), access.GrantID(atkGroup(def), atkUID(user))) {
			t.Errorf("Grant(%s): the user joined the default group %d, but Added = %v", req.GrantID(), def, atkIDs(res.Added))
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
	for _, mode := range []zendeskaccess.OrgMode{zendeskaccess.OrgModeRefuse, zendeskaccess.OrgModeReplace} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			atkConcurrentMix(t, mode, true, 3)
		})
	}
}

// As TestAttack_ConcurrentMixedChangesAddUp, but the user starts as an
// agent and is never demoted to end user or promoted from one, so no call
// relies on what Zendesk does to a new agent's groups.
func TestAttack_ConcurrentChangesWithoutPromotionAddUp(t *testing.T) {
	t.Parallel()
	for _, mode := range []zendeskaccess.OrgMode{zendeskaccess.OrgModeRefuse, zendeskaccess.OrgModeReplace} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			atkConcurrentMix(t, mode, false, 3)
		})
	}
}

func atkConcurrentMix(t *testing.T, mode zendeskaccess.OrgMode, promotions bool, runs int) {
	for run := range runs {
		srv := atkDemo(t)
		gs := atkGroups(srv)
		orgs := atkOrgs(srv)
		role := zendesktest.RoleAgent
		if promotions {
			role = zendesktest.RoleEndUser
		}
		u, err := srv.AddUser(zendesktest.UserSpec{Name: "Target", Email: fmt.Sprintf("target%d@example.com", run), Role: role})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := srv.AddOrganizationMembership(u.ID, orgs[0].ID); err != nil {
			t.Fatal(err)
		}
		const fallback, cr2 = 60_000_000_001, 60_000_000_002
		b := atkBackend(t, atkClient(t, srv, srv.URL), zendeskaccess.WithOrganizationMode(mode),
			zendeskaccess.WithPromoteEndUsers(true), zendeskaccess.WithCustomRoleFallback(fallback))
		sys := atkSystem(t, b)
		if _, err := sys.Sync(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
		p := atkUID(u.ID)
		type op struct {
			grant bool
			e     string
		}
		ops := []op{
			{true, atkGroup(gs[1].ID)}, {true, atkGroup(gs[2].ID)}, {false, atkGroup(gs[1].ID)},
			{false, atkGroup(gs[0].ID)}, {true, atkGroup(gs[0].ID)},
			{true, atkOrg(orgs[1].ID)}, {true, atkOrg(orgs[2].ID)}, {false, atkOrg(orgs[0].ID)}, {false, atkOrg(orgs[1].ID)},
			{true, atkRole("admin")}, {false, atkRole("admin")},
			{true, atkCR(cr2)}, {false, atkCR(cr2)}, {true, atkCR(fallback)},
		}
		if promotions {
			ops = append(ops, op{true, atkRole("agent")}, op{false, atkRole("agent")}, op{true, atkRole("end-user")})
		}
		before := atkHeld(t, srv, u.ID)
		var l atkLedger
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
		after := atkHeld(t, srv, u.ID)
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
	srv := atkDemo(t)
	p := atkNewProxy(t, srv)
	b := atkBackend(t, atkClient(t, srv, p.URL))
	sys := atkSystem(t, b)
	if _, err := sys.Sync(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	agent := atkUsers(srv, zendesktest.RoleAgent)[0]
	gs := atkGroups(srv)
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
		_, err := sys.Grant(context.Background(), access.GrantRequest{EntitlementID: atkGroup(free[0]), PrincipalID: atkUID(agent.ID)})
		holderDone <- err
	}()
	<-entered // the holder has the user's lock and is reading the user

	ctx, cancel := context.WithCancel(t.Context())
	const waiters = 8
	waiterDone := make(chan error, waiters)
	for range waiters {
		go func() {
			_, err := sys.Grant(ctx, access.GrantRequest{EntitlementID: atkGroup(free[1]), PrincipalID: atkUID(agent.ID)})
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
	if _, err := sys.Grant(t.Context(), access.GrantRequest{EntitlementID: atkGroup(free[1]), PrincipalID: atkUID(agent.ID)}); err != nil {
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
			srv := atkDemo(t)
			p := atkNewProxy(t, srv)
			b := atkBackend(t, atkClient(t, srv, p.URL))
			sys := atkSystem(t, b)
			var req access.GrantRequest
			path := "/api/v2/group_memberships"
			switch kind {
			case "group":
				agent := atkUsers(srv, zendesktest.RoleAgent)[0]
				in := map[int64]bool{}
				for _, m := range srv.GroupMembershipsOf(agent.ID) {
					in[m.GroupID] = true
				}
				for _, g := range atkGroups(srv) {
					if !in[g.ID] && !g.Deleted {
						req = access.GrantRequest{EntitlementID: atkGroup(g.ID), PrincipalID: atkUID(agent.ID)}
					}
				}
			case "organization":
				path = "/api/v2/organization_memberships"
				for _, u := range atkUsers(srv, zendesktest.RoleAgent) {
					if u.OrganizationID == 0 {
						req = access.GrantRequest{EntitlementID: atkOrg(atkOrgs(srv)[0].ID), PrincipalID: atkUID(u.ID)}
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
			srv := atkDemo(t, zendesktest.WithMultipleOrganizations(multi))
			p := atkNewProxy(t, srv)
			b := atkBackend(t, atkClient(t, srv, p.URL), zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers))
			sys := atkSystem(t, b)
			orgs := atkOrgs(srv)
			u, err := srv.AddUser(zendesktest.UserSpec{Name: "Leaver", Email: "leaver@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := srv.AddOrganizationMembership(u.ID, orgs[0].ID); err != nil {
				t.Fatal(err)
			}
			target := orgs[0].ID
			if multi {
				if _, err := srv.AddOrganizationMembership(u.ID, orgs[1].ID); err != nil {
					t.Fatal(err)
				}
				target = orgs[1].ID // not the user's default organization
			}
			var deletes atomic.Int32
			p.set(func(r *http.Request) string {
				if r.Method == http.MethodDelete && deletes.Add(1) == 1 {
					return "lose"
				}
				return ""
			})
			res, err := sys.Revoke(t.Context(), access.RevokeRequest{EntitlementID: atkOrg(target), PrincipalID: atkUID(u.ID)})
			if err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			if deletes.Load() < 2 {
				t.Fatalf("the delete was sent %d times; the test needs its retry", deletes.Load())
			}
			if res.Status != access.StatusRevoked || res.Grant == nil || res.Grant.ID() != access.GrantID(atkOrg(target), atkUID(u.ID)) {
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
	srv := atkDemo(t, zendesktest.WithSingleOrganizationMode(zendesktest.RefuseMembership))
	p := atkNewProxy(t, srv)
	b := atkBackend(t, atkClient(t, srv, p.URL, zendesk.WithMaxRetries(0)),
		zendeskaccess.WithOrganizationMode(zendeskaccess.OrgModeReplace), zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers))
	sys := atkSystem(t, b)
	if _, err := sys.Sync(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	orgs := atkOrgs(srv)
	u, err := srv.AddUser(zendesktest.UserSpec{Name: "Mover", Email: "mover@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddOrganizationMembership(u.ID, orgs[0].ID); err != nil {
		t.Fatal(err)
	}
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
	res, err := sys.Grant(t.Context(), access.GrantRequest{EntitlementID: atkOrg(orgs[1].ID), PrincipalID: atkUID(u.ID)})
	if err == nil {
		t.Fatalf("Grant succeeded with Zendesk down: %+v", res)
	}
	if got := srv.OrganizationMembershipsOf(u.ID); len(got) != 0 {
		t.Fatalf("the user is still in %d organizations; the test needs the removal to have happened", len(got))
	}
	removed := access.GrantID(atkOrg(orgs[0].ID), atkUID(u.ID))
	var pe *access.PartialError
	if !errors.As(err, &pe) {
		t.Errorf("Grant error = %v (%T), want a *access.PartialError: it removed %s", err, err, removed)
	}
	if !slices.Contains(atkIDs(res.Replaced), removed) {
		t.Errorf("Result = %+v: Replaced lacks %s, which the call removed", res, removed)
	}
}

// A promotion followed by a failed membership is reported (regression of
// issue 7 item 4), here with the failure coming from Zendesk (5xx after
// retries) rather than a 403.
func TestAttack_PromotionThenServerErrorIsPartial(t *testing.T) {
	t.Parallel()
	srv := atkDemo(t)
	p := atkNewProxy(t, srv)
	b := atkBackend(t, atkClient(t, srv, p.URL, zendesk.WithMaxRetries(1)), zendeskaccess.WithPromoteEndUsers(true))
	sys := atkSystem(t, b)
	p.set(func(r *http.Request) string {
		if r.Method == http.MethodPost {
			return "fail500" // after the promotion (a PUT), every create fails
		}
		return ""
	})
	end := atkUsers(srv, zendesktest.RoleEndUser)[0]
	var g int64
	for _, gr := range atkGroups(srv) {
		if !gr.Default && !gr.Deleted {
			g = gr.ID
		}
	}
	res, err := sys.Grant(t.Context(), access.GrantRequest{EntitlementID: atkGroup(g), PrincipalID: atkUID(end.ID)})
	var pe *access.PartialError
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v, want *access.PartialError", err)
	}
	if res.Status != access.StatusIncomplete || !slices.Contains(atkIDs(res.Added), access.GrantID(atkRole("agent"), atkUID(end.ID))) {
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
			srv := atkServer(t, zendesktest.WithPlan(acc.plan), zendesktest.WithAccount(spec),
				zendesktest.WithMultipleOrganizations(acc.multi != "off"))
			orgs := atkOrgs(srv)
			// Team members in organizations, some in several.
			for i, u := range atkUsers(srv, zendesktest.RoleAgent, zendesktest.RoleAdmin) {
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
			users := atkUsers(srv)
			compared := map[string]int{}
			defer func() {
				if !t.Failed() && (compared["organization"] < 20 || compared["group"] < 20 || compared["role"] < 20 ||
					acc.plan == zendesktest.PlanEnterprise && compared["custom_role"] < 5) {
					t.Errorf("too few grants compared to test anything: %v", compared)
				}
			}()
			for _, c := range combos {
				b := atkBackend(t, atkClient(t, srv, srv.URL), c.opts...)
				sys := atkSystem(t, b)
				snap, err := sys.Sync(t.Context(), nil)
				if err != nil {
					t.Fatalf("%s: Sync: %v", c.name, err)
				}
				for _, u := range users {
					p := atkUID(u.ID)
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

type atkOp struct {
	grant bool
	req   access.GrantRequest
}

// atkFaultScript is a fixed sequence of changes to the demo account's
// team members, with no promotion of end users.
func atkFaultScript(t *testing.T, srv *zendesktest.Server) []atkOp {
	t.Helper()
	gs := atkGroups(srv)
	orgs := atkOrgs(srv)
	agents := atkUsers(srv, zendesktest.RoleAgent)
	var admins []zendesktest.User
	for _, a := range atkUsers(srv, zendesktest.RoleAdmin) {
		if !a.Owner {
			admins = append(admins, a)
		}
	}
	var ops []atkOp
	add := func(grant bool, e string, u int64) {
		ops = append(ops, atkOp{grant, access.GrantRequest{EntitlementID: e, PrincipalID: atkUID(u)}})
	}
	for i, a := range agents[:4] {
		add(true, atkGroup(gs[(i+1)%len(gs)].ID), a.ID)
		add(true, atkGroup(gs[(i+2)%len(gs)].ID), a.ID)
		add(false, atkGroup(gs[(i+1)%len(gs)].ID), a.ID)
		add(false, atkGroup(gs[(i+3)%len(gs)].ID), a.ID)
		add(true, atkOrg(orgs[i%len(orgs)].ID), a.ID)
		add(true, atkOrg(orgs[(i+1)%len(orgs)].ID), a.ID)
		add(false, atkOrg(orgs[i%len(orgs)].ID), a.ID)
		add(true, atkCR(60_000_000_002), a.ID)
		add(false, atkCR(60_000_000_002), a.ID)
		add(true, atkRole("admin"), a.ID)
		add(true, atkRole("admin"), a.ID)
		add(false, atkRole("admin"), a.ID)
	}
	for _, a := range admins[:1] {
		add(false, atkRole("admin"), a.ID)
		add(true, atkRole("admin"), a.ID)
	}
	return ops
}

// atkFinalError names the sentinel of an error that repeating the call
// cannot change, or returns "".
func atkFinalError(err error) string {
	for _, s := range []error{access.ErrNotGrantable, access.ErrUnknownEntitlement, access.ErrUnknownPrincipal, access.ErrMalformedID} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return ""
}

// atkRunScript runs ops through System, repeating each until it succeeds or
// fails with a sentinel that repeating cannot change. It returns the
// effective status of each op and the ledger of every result.
func atkRunScript(t *testing.T, sys *access.System, ops []atkOp, typed func(error) bool) ([]string, *atkLedger) {
	t.Helper()
	l := &atkLedger{}
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
			if final := atkFinalError(err); final != "" {
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
	for _, mode := range []zendeskaccess.OrgMode{zendeskaccess.OrgModeRefuse, zendeskaccess.OrgModeReplace} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			opts := []zendeskaccess.Option{zendeskaccess.WithOrganizationMode(mode), zendeskaccess.WithCustomRoleFallback(60_000_000_001)}
			clean := atkDemo(t)
			faulty := atkDemo(t, zendesktest.WithFaults(zendesktest.Faults{Seed: 7, Rate: 0.3,
				Kinds: []zendesktest.FaultKind{zendesktest.Fault500, zendesktest.Fault502, zendesktest.Fault503,
					zendesktest.Fault503RetryAfter, zendesktest.FaultConnReset, zendesktest.FaultTruncatedBody,
					zendesktest.FaultHTMLError, zendesktest.Fault429Storm}, StormLength: 3}))
			ops := atkFaultScript(t, clean)
			want, _ := atkRunScript(t, atkSystem(t, atkBackend(t, atkClient(t, clean, clean.URL), opts...)), ops, nil)

			users := map[int64]bool{}
			for _, o := range ops {
				id, _ := strconv.ParseInt(strings.TrimPrefix(o.req.PrincipalID, "user:"), 10, 64)
				users[id] = true
			}
			before := map[int64]map[string]bool{}
			for id := range users {
				before[id] = atkHeld(t, faulty, id)
			}
			typed := func(err error) bool {
				var api *zendesk.APIError
				var dec *zendesk.DecodeError
				return errors.As(err, &api) || errors.As(err, &dec) || strings.Contains(err.Error(), "giving up after")
			}
			got, l := atkRunScript(t, atkSystem(t, atkBackend(t, atkClient(t, faulty, faulty.URL, zendesk.WithMaxRetries(2)), opts...)), ops, typed)
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
				if d := cmp.Diff(atkHeld(t, clean, id), atkHeld(t, faulty, id)); d != "" {
					t.Errorf("user %d ends differently with faults (-without +with):\n%s", id, d)
				}
			}
			after := map[string]bool{}
			all := map[string]bool{}
			for id := range users {
				maps.Copy(all, before[id])
				maps.Copy(after, atkHeld(t, faulty, id))
			}
			l.check(t, all, after)
		})
	}
}

// Every third write's answer is lost after Zendesk carried it out (a
// network failure on the way back); the client repeats it. The end state
// must be the one reached without losses, and the statuses and the changes
// the results report must stay truthful (StatusAlreadyGranted: "the grant
// existed; nothing was changed"; StatusRevoked after a lost delete).
func TestAttack_LostAnswersConvergeAndAddUp(t *testing.T) {
	t.Parallel()
	for _, mode := range []zendeskaccess.OrgMode{zendeskaccess.OrgModeRefuse, zendeskaccess.OrgModeReplace} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			opts := []zendeskaccess.Option{zendeskaccess.WithOrganizationMode(mode), zendeskaccess.WithCustomRoleFallback(60_000_000_001)}
			clean := atkDemo(t)
			lossy := atkDemo(t)
			p := atkNewProxy(t, lossy)
			var writes atomic.Int64
			p.set(func(r *http.Request) string {
				if r.Method != http.MethodGet && writes.Add(1)%3 == 0 {
					return "lose"
				}
				return ""
			})
			ops := atkFaultScript(t, clean)
			want, _ := atkRunScript(t, atkSystem(t, atkBackend(t, atkClient(t, clean, clean.URL), opts...)), ops, nil)
			users := map[int64]bool{}
			for _, o := range ops {
				id, _ := strconv.ParseInt(strings.TrimPrefix(o.req.PrincipalID, "user:"), 10, 64)
				users[id] = true
			}
			before, after := map[string]bool{}, map[string]bool{}
			for id := range users {
				maps.Copy(before, atkHeld(t, lossy, id))
			}
			got, l := atkRunScript(t, atkSystem(t, atkBackend(t, atkClient(t, lossy, p.URL), opts...)), ops, nil)
			if writes.Load() < 10 {
				t.Fatalf("only %d writes: the test lost too few answers", writes.Load())
			}
			for id := range users {
				if d := cmp.Diff(atkHeld(t, clean, id), atkHeld(t, lossy, id)); d != "" {
					t.Errorf("user %d ends differently with lost answers (-without +with):\n%s", id, d)
				}
				maps.Copy(after, atkHeld(t, lossy, id))
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("statuses with lost answers (-without +with):\n%s", d)
			}
			l.check(t, before, after)
		})
	}
}

// ---------------------------------------------------------------------------
// 6. Secrets.

// No token or secret appears in any error, in %v, %+v or %#v of an error,
// a Result, the backend or System, whatever fails (DESIGN: "Secrets never
// appear in logs, errors, %v/%+v of any value, or URLs").
func TestAttack_NoSecretsInErrorsOrResults(t *testing.T) {
	t.Parallel()
	srv := atkDemo(t, zendesktest.WithFaults(zendesktest.Faults{Seed: 3, Rate: 0.5, IncludeOAuth: true,
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
	p := atkNewProxy(t, srv)
	var refuse atomic.Bool
	p.set(func(r *http.Request) string {
		if refuse.Load() && r.Method != http.MethodGet {
			return "refuse"
		}
		return ""
	})
	retry := []zendesk.Option{zendesk.WithBaseURL(p.URL), zendesk.WithRateLimit(atkFast), zendesk.WithMaxRetries(1),
		zendesk.WithRetryWait(time.Millisecond, time.Millisecond), zendesk.WithRetryAfterCap(time.Millisecond)}
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
	agent := atkUsers(srv, zendesktest.RoleAgent)[0].ID
	end := atkUsers(srv, zendesktest.RoleEndUser)[0].ID
	gs := atkGroups(srv)
	for name, auth := range clients {
		c, err := zendesk.NewClient(cr.Subdomain, append(slices.Clone(retry), auth...)...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b := atkBackend(t, c, zendeskaccess.WithPromoteEndUsers(true))
		sys := atkSystem(t, b)
		show(b)
		show(sys)
		for i := range 6 {
			refuse.Store(i%2 == 1)
			for _, req := range []access.GrantRequest{
				{EntitlementID: atkGroup(gs[i%len(gs)].ID), PrincipalID: atkUID(agent)},
				{EntitlementID: atkGroup(gs[(i+1)%len(gs)].ID), PrincipalID: atkUID(end)},
				{EntitlementID: atkRole("admin"), PrincipalID: atkUID(agent)},
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
			_, err = sys.GrantsFor(t.Context(), atkUID(agent))
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
	srv := atkDemo(t)
	b := atkBackend(t, atkClient(t, srv, srv.URL), nil, nil)
	sys := atkSystem(t, b)
	huge := strings.Repeat("9", 1<<20)
	for _, req := range []access.GrantRequest{{}, {EntitlementID: huge, PrincipalID: huge},
		{EntitlementID: "group:" + huge + ":member", PrincipalID: "user:" + huge},
		{EntitlementID: "user:10000000001:member", PrincipalID: "user:10000000001"},
		{EntitlementID: "group:20000000001:member", PrincipalID: "role:agent"},
		{EntitlementID: "group:20000000001:member", PrincipalID: "organization:30000000001"}} {
		atkNoPanic(t, req.GrantID()[:min(40, len(req.GrantID()))], func() {
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
	agent := atkUsers(srv, zendesktest.RoleAgent)[0].ID
	if _, err := b.Grant(ctx, access.GrantRequest{EntitlementID: atkRole("admin"), PrincipalID: atkUID(agent)}); !errors.Is(err, context.Canceled) {
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
	srv := atkDemo(t)
	orgs := atkOrgs(srv)
	b := atkBackend(t, atkClient(t, srv, srv.URL), zendeskaccess.WithOrganizationMode(zendeskaccess.OrgModeReplace),
		zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers), zendeskaccess.WithOrganizations(nil, []int64{orgs[1].ID}))
	sys := atkSystem(t, b)
	u, err := srv.AddUser(zendesktest.UserSpec{Name: "Outsider", Email: "outsider@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddOrganizationMembership(u.ID, orgs[0].ID); err != nil {
		t.Fatal(err)
	}
	res, err := sys.Grant(t.Context(), access.GrantRequest{EntitlementID: atkOrg(orgs[1].ID), PrincipalID: atkUID(u.ID)})
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
	removed := access.GrantID(atkOrg(orgs[0].ID), atkUID(u.ID))
	if !still && !slices.Contains(atkIDs(res.Replaced), removed) {
		t.Errorf("Grant moved the user out of organization %d (outside the filter) but Replaced = %v, Note = %q", orgs[0].ID, atkIDs(res.Replaced), res.Note)
	}
}
