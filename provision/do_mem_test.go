package provision_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
	"github.com/zgov-io/zgov/provision"
)

// memSystem returns a System over the test account of users, with roles,
// custom roles and organizations exclusive, and the backend.
func memSystem(t *testing.T, users ...user) (*access.System, *memaccess.Backend) {
	t.Helper()
	b, err := memaccess.New(account(users...), memaccess.WithExclusive("role", "custom_role", "organization"))
	if err != nil {
		t.Fatal(err)
	}
	sys, err := access.NewSystem(b)
	if err != nil {
		t.Fatal(err)
	}
	return sys, b
}

// TestDoResumes: a change begun and never finished (the process died
// between Begin and Finish) is carried out and finished by the next Do; a
// change the journal shows finished is not carried out again.
func TestDoResumes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys, b := memSystem(t, user{id: "1", email: "ann@example.com", role: "agent"}, user{id: "2", email: "bob@example.com", role: "agent"})
	j := newJournal(t, nil)
	ann := grantC("group:2:member", "user:1")
	bob := grantC("group:2:member", "user:2")
	// The crash: ann's grant begun, not carried out, not finished.
	if _, err := j.Begin(ctx, "tb-1/grant", doer, provision.JournalGrantOp(access.GrantRequest{EntitlementID: ann.EntitlementID, PrincipalID: ann.PrincipalID})); err != nil {
		t.Fatal(err)
	}
	// Bob's finished earlier (the journal says so, whatever the system
	// says now).
	if _, err := j.Begin(ctx, "tb-2/grant", doer, provision.JournalGrantOp(access.GrantRequest{EntitlementID: bob.EntitlementID, PrincipalID: bob.PrincipalID})); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Finish(ctx, "tb-2/grant", provision.JournalOutcome{Status: "granted", GrantID: access.GrantID(bob.EntitlementID, bob.PrincipalID)}); err != nil {
		t.Fatal(err)
	}
	before := b.Requests()
	rep, err := provision.Do(ctx, sys, j, []provision.Change{ann, bob}, &provision.DoOptions{Actor: doer, JournalIDs: []string{"tb-1/grant", "tb-2/grant"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]provision.ChangeState{provision.StateApplied, provision.StateDone}, states(rep)); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
	if got := b.Requests() - before; got != 1 {
		t.Errorf("%d requests, want 1 (ann's grant)", got)
	}
	gs, _ := sys.GrantsFor(ctx, "user:2")
	if slices.ContainsFunc(gs, func(g access.Grant) bool { return g.ID() == access.GrantID(bob.EntitlementID, bob.PrincipalID) }) {
		t.Error("bob's grant, finished in the journal, was carried out again")
	}
	unfinished, err := j.Unfinished(ctx)
	if err != nil || len(unfinished) != 0 {
		t.Errorf("unfinished after Do: %v, %v", unfinished, err)
	}
	c, err := j.Change(ctx, "tb-1/grant")
	if err != nil || !c.Done() || c.Finished.Outcome.Status != "granted" {
		t.Errorf("ann's grant in the journal: %+v, %v", c, err)
	}
	checkJournaledOnce(t, j, rep, "Do")

	// Begun, never finished, and protected since: blocked, and finished in
	// the journal as blocked, not left open.
	revoke := revokeC("group:2:member", "user:1")
	if _, err := j.Begin(ctx, "tb-1/expiry", doer, provision.JournalRevokeOp(access.RevokeRequest{EntitlementID: revoke.EntitlementID, PrincipalID: revoke.PrincipalID})); err != nil {
		t.Fatal(err)
	}
	rep, err = provision.Do(ctx, sys, j, []provision.Change{revoke}, &provision.DoOptions{Actor: doer, JournalIDs: []string{"tb-1/expiry"},
		Guards: provision.Guards{Protected: []string{"user:1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.State != provision.StateBlocked || !errors.Is(r.Err, provision.ErrGuard) {
		t.Errorf("a resumed revoke of a protected principal: %s %v, want blocked", r.State, r.Err)
	}
	if c, err := j.Change(ctx, "tb-1/expiry"); err != nil || !c.Done() || c.Finished.Outcome.Status != "blocked" {
		t.Errorf("the blocked change in the journal: %+v, %v; want finished as blocked", c, err)
	}
}

// TestDoCreatesAccount: a change with no principal is a create, which
// reports the account's principal.
func TestDoCreatesAccount(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys, _ := memSystem(t, user{id: "1", email: "ann@example.com", role: "agent"})
	j := newJournal(t, nil)
	create := provision.Change{Kind: provision.ChangeCreateAccount, Person: &access.Person{Email: "Bob@example.com", Name: "Bob"}, Role: "agent"}
	rep, err := provision.Do(ctx, sys, j, []provision.Change{create}, &provision.DoOptions{Actor: doer, IDPrefix: "hire-1/"})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Results[0]
	if r.State != provision.StateApplied || r.Outcome == nil || r.Outcome.PrincipalID == "" {
		t.Fatalf("create: %s %+v %v", r.State, r.Outcome, r.Err)
	}
	if r.Change.ID != "create_account bob@example.com" || r.JournalID != "hire-1/create_account/bob@example.com" {
		t.Errorf("the create is named %q, journaled as %q", r.Change.ID, r.JournalID)
	}
	gs, err := sys.GrantsFor(ctx, r.Outcome.PrincipalID)
	if err != nil || !slices.ContainsFunc(gs, func(g access.Grant) bool { return g.ID() == "role:agent:assigned@"+r.Outcome.PrincipalID }) {
		t.Errorf("the new account holds %v (%v), want the agent role", gs, err)
	}
	checkJournaledOnce(t, j, rep, "Do")
}

// TestDoLastAdmin: with a snapshot, Do counts the admins it shows, read
// again now: demoting one of two is allowed, not both; and an admin
// demoted since the snapshot no longer counts.
func TestDoLastAdmin(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	users := []user{{id: "1", email: "a1@example.com", role: "admin"}, {id: "2", email: "a2@example.com", role: "admin"}, {id: "3", email: "ag@example.com", role: "agent"}}
	demote := func(p string) provision.Change { return grantC("role:agent:assigned", p) }

	sys, _ := memSystem(t, users...)
	snap, err := sys.Sync(ctx, &access.SyncOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	changes := []provision.Change{demote("user:1"), {Kind: provision.ChangeDeprovision, PrincipalID: "user:2", Step: access.DeprovisionSuspend}}
	rep, err := provision.Do(ctx, sys, newJournal(t, nil), changes, &provision.DoOptions{Actor: doer, IDPrefix: "x/", Snapshot: snap,
		Guards: provision.Guards{MaxTeamShare: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var ge *provision.GuardError
	if rep.Results[0].State != provision.StateApplied || rep.Results[1].State != provision.StateBlocked ||
		!errors.As(rep.Results[1].Err, &ge) || ge.Guard != provision.GuardLastAdmin {
		t.Errorf("demote one admin, suspend the other: %v (%v), want applied, blocked by the last-admin guard", states(rep), rep.Results[1].Err)
	}

	// The snapshot shows two admins, but one was demoted since: the other
	// is the last.
	sys, b := memSystem(t, users...)
	if snap, err = sys.Sync(ctx, &access.SyncOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Grant(ctx, access.GrantRequest{EntitlementID: "role:agent:assigned", PrincipalID: "user:2"}); err != nil {
		t.Fatal(err)
	}
	before := b.Requests()
	rep, err = provision.Do(ctx, sys, newJournal(t, nil), []provision.Change{demote("user:1")}, &provision.DoOptions{Actor: doer, IDPrefix: "x/", Snapshot: snap,
		Guards: provision.Guards{MaxTeamShare: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.State != provision.StateBlocked || !errors.As(r.Err, &ge) || ge.Guard != provision.GuardLastAdmin {
		t.Errorf("demote the last admin the snapshot does not know is last: %s %v", r.State, r.Err)
	}
	if got := b.Requests() - before; got != 1 {
		t.Errorf("%d requests, want 1 (the read of the admins)", got)
	}

	// A snapshot of another account is refused.
	other, _ := memSystem(t, users...)
	otherSnap, err := other.Sync(ctx, &access.SyncOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	otherSnap = renamed(t, otherSnap, "globex")
	if _, err := provision.Do(ctx, sys, newJournal(t, nil), []provision.Change{demote("user:1")}, &provision.DoOptions{Actor: doer, IDPrefix: "x/", Snapshot: otherSnap}); !errors.Is(err, provision.ErrWrongAccount) {
		t.Errorf("a snapshot of another account: %v, want ErrWrongAccount", err)
	}
}

// renamed returns snap as if taken of another account.
func renamed(t *testing.T, snap *access.Snapshot, account string) *access.Snapshot {
	t.Helper()
	d := memaccess.Data{Name: snap.Provenance().Backend, Account: account, ResourceTypes: snap.ResourceTypes()}
	for _, r := range snap.Resources() {
		d.Resources = append(d.Resources, r)
	}
	for _, e := range snap.Entitlements() {
		d.Entitlements = append(d.Entitlements, e)
	}
	for _, g := range snap.Grants() {
		d.Grants = append(d.Grants, g)
	}
	b, err := memaccess.New(d)
	if err != nil {
		t.Fatal(err)
	}
	s, err := access.Sync(t.Context(), b, &access.SyncOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDoCaps: more destructive changes than MaxDestructive refuse the
// call as a whole, before anything is written; the share cap applies with a
// snapshot only.
func TestDoCaps(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var users []user
	for i := 1; i <= 12; i++ {
		users = append(users, user{id: itoa(i), email: fmt.Sprintf("u%d@example.com", i), role: "agent", grants: []string{"group:2:member"}})
	}
	sys, b := memSystem(t, users...)
	snap, err := sys.Sync(ctx, &access.SyncOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	revokes := []provision.Change{revokeC("group:2:member", "user:1"), revokeC("group:2:member", "user:2"), revokeC("group:2:member", "user:3")}
	for _, tc := range []struct {
		name string
		opts provision.DoOptions
		ok   bool
	}{
		{"count cap", provision.DoOptions{Guards: provision.Guards{MaxDestructive: 2}}, false},
		{"share cap with a snapshot", provision.DoOptions{Snapshot: snap}, false}, // 3 of 12 > 10%
		{"share cap without a snapshot", provision.DoOptions{}, true},
	} {
		j := newJournal(t, nil)
		before := b.Requests()
		opts := tc.opts
		opts.Actor, opts.IDPrefix = doer, "caps/"
		rep, err := provision.Do(ctx, sys, j, revokes, &opts)
		var ge *provision.GuardError
		switch {
		case tc.ok && (err != nil || rep.Applied != 3):
			t.Errorf("%s: %v, %+v; want all applied", tc.name, err, rep)
		case !tc.ok && (!errors.As(err, &ge) || ge.Guard != provision.GuardBlastRadius || rep != nil):
			t.Errorf("%s: %v, %v; want a blast-radius GuardError and no report", tc.name, err, rep)
		case !tc.ok:
			if head, _ := j.Head(ctx); head.Seq != 0 {
				t.Errorf("%s: refused, but journaled %d entries", tc.name, head.Seq)
			}
			if got := b.Requests() - before; got != 0 {
				t.Errorf("%s: refused, but sent %d requests", tc.name, got)
			}
		}
	}
}

// TestDoRefusesBadInput: bad input is an error naming what is wrong, with
// nothing journaled and no request sent.
func TestDoRefusesBadInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sys, b := memSystem(t, user{id: "1", email: "ann@example.com", role: "agent"})
	g := grantC("group:1:member", "user:1")
	ok := provision.DoOptions{Actor: doer, IDPrefix: "bad/"}
	with := func(edit func(*provision.DoOptions)) *provision.DoOptions {
		o := ok
		edit(&o)
		return &o
	}
	for _, tc := range []struct {
		name    string
		sys     *access.System
		nilJ    bool
		changes []provision.Change
		opts    *provision.DoOptions
		is      error
		want    string
	}{
		{name: "nil system", changes: []provision.Change{g}, opts: &ok, want: "nil System"},
		{name: "nil journal", sys: sys, nilJ: true, changes: []provision.Change{g}, opts: &ok, want: "nil System or Journal"},
		{name: "nil options", sys: sys, changes: []provision.Change{g}, want: "nil DoOptions"},
		{name: "no source", sys: sys, changes: []provision.Change{g}, opts: with(func(o *provision.DoOptions) { o.Actor.Source = "" }), is: provision.ErrJournalInput, want: "actor.source"},
		{name: "no who", sys: sys, changes: []provision.Change{g}, opts: with(func(o *provision.DoOptions) { o.Actor.Who = "" }), is: provision.ErrJournalInput, want: "actor.who"},
		{name: "no journal IDs", sys: sys, changes: []provision.Change{g}, opts: with(func(o *provision.DoOptions) { o.IDPrefix = "" }), is: provision.ErrInvalidChange, want: "IDPrefix"},
		{name: "journal IDs short", sys: sys, changes: []provision.Change{g, grantC("group:2:member", "user:1")},
			opts: with(func(o *provision.DoOptions) { o.JournalIDs = []string{"a"} }), is: provision.ErrInvalidChange, want: "1 JournalIDs for 2 changes"},
		{name: "journal ID twice", sys: sys, changes: []provision.Change{g, grantC("group:2:member", "user:1")},
			opts: with(func(o *provision.DoOptions) { o.JournalIDs = []string{"a", "a"} }), is: provision.ErrInvalidChange, want: `one journal ID "a"`},
		{name: "journal ID with a space", sys: sys, changes: []provision.Change{g},
			opts: with(func(o *provision.DoOptions) { o.JournalIDs = []string{"a b"} }), is: provision.ErrInvalidChange, want: "JournalIDs[0]"},
		{name: "change twice", sys: sys, changes: []provision.Change{g, g}, opts: &ok, is: provision.ErrInvalidChange, want: "one ID"},
		{name: "grant and revoke", sys: sys, changes: []provision.Change{g, revokeC("group:1:member", "user:1")}, opts: &ok, is: provision.ErrInvalidChange, want: "both change"},
		{name: "aliased principal", sys: sys, changes: []provision.Change{grantC("group:1:member", "user:01")}, opts: &ok, is: access.ErrMalformedID, want: "changes[0]"},
		{name: "aliased group", sys: sys, changes: []provision.Change{revokeC("group:+1:member", "user:1")}, opts: &ok, is: access.ErrMalformedID, want: "changes[0]"},
		{name: "aliased deprovision", sys: sys, changes: []provision.Change{{Kind: provision.ChangeDeprovision, PrincipalID: "user:007", Step: access.DeprovisionSuspend}},
			opts: &ok, is: access.ErrMalformedID, want: "user:007"},
		{name: "no step", sys: sys, changes: []provision.Change{{Kind: provision.ChangeDeprovision, PrincipalID: "user:1", Step: "fire"}},
			opts: &ok, is: provision.ErrInvalidChange, want: "valid step"},
		{name: "grant to nobody", sys: sys, changes: []provision.Change{{Kind: provision.ChangeGrant, EntitlementID: "group:1:member", Person: &access.Person{Email: "x@example.com"}}},
			opts: &ok, is: provision.ErrInvalidChange, want: "names no principal"},
		{name: "create without person", sys: sys, changes: []provision.Change{{Kind: provision.ChangeCreateAccount}}, opts: &ok, is: provision.ErrInvalidChange, want: "no person"},
		{name: "create with principal", sys: sys, changes: []provision.Change{{Kind: provision.ChangeCreateAccount, PrincipalID: "user:1", Person: &access.Person{Email: "x@example.com"}}},
			opts: &ok, is: provision.ErrInvalidChange, want: "names principal"},
		{name: "create bad person", sys: sys, changes: []provision.Change{{Kind: provision.ChangeCreateAccount, Person: &access.Person{Email: "x at example"}}},
			opts: &ok, is: access.ErrInvalidPerson, want: "changes[0]"},
		{name: "unknown kind", sys: sys, changes: []provision.Change{{Kind: "promote", PrincipalID: "user:1"}}, opts: &ok, is: provision.ErrInvalidChange, want: `unknown kind "promote"`},
		{name: "negative cap", sys: sys, changes: []provision.Change{g}, opts: with(func(o *provision.DoOptions) { o.Guards.MaxDestructive = -1 }), want: "MaxDestructive"},
		{name: "aliased protected", sys: sys, changes: []provision.Change{g}, opts: with(func(o *provision.DoOptions) { o.Guards.Protected = []string{"user:01"} }),
			is: access.ErrMalformedID, want: "protected"},
	} {
		j := newJournal(t, nil)
		if tc.nilJ {
			j = nil
		}
		before := b.Requests()
		var rep *provision.ApplyReport
		var err error
		noPanic(t, tc.name, func() { rep, err = provision.Do(ctx, tc.sys, j, tc.changes, tc.opts) })
		if err == nil || rep != nil || !strings.Contains(err.Error(), tc.want) || tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: %v, %v; want an error saying %q (is %v) and no report", tc.name, rep, err, tc.want, tc.is)
		}
		if j != nil {
			if head, _ := j.Head(ctx); head.Seq != 0 {
				t.Errorf("%s: %d entries journaled", tc.name, head.Seq)
			}
		}
		if got := b.Requests() - before; got != 0 {
			t.Errorf("%s: %d requests", tc.name, got)
		}
	}
	// No changes: an empty report.
	rep, err := provision.Do(ctx, sys, newJournal(t, nil), nil, &ok)
	if err != nil || len(rep.Results) != 0 {
		t.Errorf("no changes: %+v, %v", rep, err)
	}
}

func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
		}
	}()
	f()
}

// blockingBackend holds every Grant until release is closed.
type blockingBackend struct {
	*memaccess.Backend
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blockingBackend) Grant(ctx context.Context, req access.GrantRequest) (access.Result, error) {
	b.once.Do(func() { close(b.entered) })
	<-b.release
	return b.Backend.Grant(ctx, req)
}

// TestDoConcurrentCalls: a change one call is carrying out is stale for
// another call through the same Journal, which does not carry it out too.
func TestDoConcurrentCalls(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	_, mb := memSystem(t, user{id: "1", email: "ann@example.com", role: "agent"})
	b := &blockingBackend{Backend: mb, entered: make(chan struct{}), release: make(chan struct{})}
	sys, err := access.NewSystem(b)
	if err != nil {
		t.Fatal(err)
	}
	j := newJournal(t, nil)
	changes := []provision.Change{grantC("group:2:member", "user:1")}
	opts := &provision.DoOptions{Actor: doer, JournalIDs: []string{"tb-1/grant"}}
	done := make(chan *provision.ApplyReport)
	go func() {
		rep, err := provision.Do(ctx, sys, j, changes, opts)
		if err != nil {
			t.Error(err)
		}
		done <- rep
	}()
	<-b.entered
	rep, err := provision.Do(ctx, sys, j, changes, opts)
	if err != nil || rep.Results[0].State != provision.StateStale {
		t.Errorf("the second call: %v, %+v; want stale", err, rep.Results[0])
	}
	close(b.release)
	first := <-done
	if first.Results[0].State != provision.StateApplied {
		t.Errorf("the first call: %+v", first.Results[0])
	}
	checkJournaledOnce(t, j, first, "Do")
}
