package provision_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
	"github.com/zgov-io/zgov/provision"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// tbEnv is a TimeBound over a memaccess account on one database.
type tbEnv struct {
	b     *memaccess.Backend
	sys   *access.System
	store *provision.Store
	j     *provision.Journal
	tb    *provision.TimeBound
	clock *fakeClock
}

const (
	billing = "group:2:member"
	tbAnn   = "user:10"
	tbBob   = "user:11"
)

func newTBEnv(t *testing.T, dsn string, backend func(*memaccess.Backend) access.Backend, opts *provision.TimeBoundOptions) *tbEnv {
	t.Helper()
	d := account(
		user{id: "1", email: "owner@example.com", role: "admin"},
		user{id: "10", email: "ann@example.com", role: "agent"},
		user{id: "11", email: "bob@example.com", role: "agent", grants: []string{billing}},
	)
	b, err := memaccess.New(d, memaccess.WithExclusive("role", "custom_role", "organization"))
	if err != nil {
		t.Fatal(err)
	}
	var be access.Backend = b
	if backend != nil {
		be = backend(b)
	}
	sys, err := access.NewSystem(be)
	if err != nil {
		t.Fatal(err)
	}
	store, err := provision.OpenStore(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clock := &fakeClock{t: time.Now().UTC().Truncate(time.Second)}
	j, err := provision.NewJournal(store.Journal(), provision.WithJournalClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	var o provision.TimeBoundOptions
	if opts != nil {
		o = *opts
	}
	o.Now = clock.Now
	tb, err := provision.NewTimeBound(t.Context(), store, sys, j, &o)
	if err != nil {
		t.Fatal(err)
	}
	return &tbEnv{b: b, sys: sys, store: store, j: j, tb: tb, clock: clock}
}

func (e *tbEnv) holds(t *testing.T, principal, entitlement string) bool {
	t.Helper()
	gs, err := e.sys.GrantsFor(t.Context(), principal)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		if g.ID() == access.GrantID(entitlement, principal) {
			return true
		}
	}
	return false
}

// journaled returns the finished outcomes of the journal's changes whose
// ID begins with prefix, by change ID, and fails on a change begun twice or
// never finished.
func journaled(t *testing.T, j *provision.Journal, prefix string) map[string]provision.JournalOutcome {
	t.Helper()
	if _, err := j.Verify(t.Context()); err != nil {
		t.Fatalf("the journal does not verify: %v", err)
	}
	begun := map[string]int{}
	out := map[string]provision.JournalOutcome{}
	for e, err := range j.Entries(t.Context(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(e.ChangeID, prefix) {
			continue
		}
		if e.Outcome == nil {
			begun[e.ChangeID]++
			continue
		}
		if _, dup := out[e.ChangeID]; dup {
			t.Errorf("%s finished twice", e.ChangeID)
		}
		out[e.ChangeID] = *e.Outcome
	}
	for id, n := range begun {
		if n != 1 {
			t.Errorf("%s begun %d times", id, n)
		}
		if _, ok := out[id]; !ok {
			t.Errorf("%s begun and never finished", id)
		}
	}
	return out
}

func TestTimeBoundGrantExpires(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		e := newTBEnv(t, dsn, nil, nil)
		ctx := t.Context()
		g, err := e.tb.Grant(ctx, provision.TimeBoundRequest{PrincipalID: tbAnn, EntitlementID: billing, For: 4 * time.Hour,
			Actor: provision.JournalActor{Who: "ann@example.com", Reason: "month-end close", Source: "ticket:FIN-7"}})
		if err != nil {
			t.Fatal(err)
		}
		if g.State != provision.TimeBoundActive || g.Standing || !g.ExpiresAt.Equal(e.clock.Now().Add(4*time.Hour)) {
			t.Fatalf("Grant = %+v, want active, not standing, ending in 4h", g)
		}
		if !e.holds(t, tbAnn, billing) {
			t.Fatal("ann does not hold Billing after the grant")
		}
		marks, err := e.tb.Marks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := marks[access.GrantID(billing, tbAnn)]; !got.Equal(g.ExpiresAt) || len(marks) != 1 {
			t.Errorf("Marks = %v, want tbAnn's Billing until %v", marks, g.ExpiresAt)
		}
		// Not due yet: nothing happens.
		e.clock.Add(4*time.Hour - time.Second)
		if err := provision.ExpireDue(ctx, e.tb, 1, 1); err != nil {
			t.Fatal(err)
		}
		if !e.holds(t, tbAnn, billing) {
			t.Fatal("revoked before its expiry")
		}
		e.clock.Add(time.Second)
		if err := provision.ExpireDue(ctx, e.tb, 1, 1); err != nil {
			t.Fatal(err)
		}
		if e.holds(t, tbAnn, billing) {
			t.Fatal("ann still holds Billing after the expiry")
		}
		got, err := e.tb.Get(ctx, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != provision.TimeBoundEnded || got.EndedBy != "expiry" || !got.EndedAt.Equal(e.clock.Now()) {
			t.Errorf("after expiry: %+v, want ended by expiry now", got)
		}
		// Once: a second expiry finds nothing and changes nothing.
		before := e.b.Requests()
		if err := provision.ExpireDue(ctx, e.tb, 1, 1); err != nil {
			t.Fatal(err)
		}
		if n := e.b.Requests() - before; n != 0 {
			t.Errorf("a second expiry sent %d requests", n)
		}
		out := journaled(t, e.j, "timebound/"+g.ID+"/")
		if s := out["timebound/"+g.ID+"/grant"].Status; s != string(access.StatusGranted) {
			t.Errorf("grant journaled %q, want granted (journal: %v)", s, out)
		}
		if s := out["timebound/"+g.ID+"/revoke"].Status; s != string(access.StatusRevoked) {
			t.Errorf("revoke journaled %q, want revoked (journal: %v)", s, out)
		}
		if len(out) != 2 {
			t.Errorf("journal holds %d changes of the grant, want 2: %v", len(out), out)
		}
	})
}

func TestTimeBoundKeepsStandingAccess(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		e := newTBEnv(t, dsn, nil, nil)
		ctx := t.Context()
		g, err := e.tb.Grant(ctx, provision.TimeBoundRequest{PrincipalID: tbBob, EntitlementID: billing, For: time.Hour,
			Actor: provision.JournalActor{Who: "bob@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		if !g.Standing || g.State != provision.TimeBoundActive {
			t.Fatalf("Grant = %+v, want a standing, active grant", g)
		}
		if marks, _ := e.tb.Marks(ctx); len(marks) != 0 {
			t.Errorf("Marks = %v: a standing grant is not time-bound", marks)
		}
		e.clock.Add(time.Hour)
		if err := provision.ExpireDue(ctx, e.tb, 1, 1); err != nil {
			t.Fatal(err)
		}
		if !e.holds(t, tbBob, billing) {
			t.Fatal("the expiry took tbBob's standing access")
		}
		got, _ := e.tb.Get(ctx, g.ID)
		if got.State != provision.TimeBoundKept {
			t.Errorf("state %s, want kept", got.State)
		}
		out := journaled(t, e.j, "timebound/"+g.ID+"/")
		if s := out["timebound/"+g.ID+"/keep"].Status; s != "kept" {
			t.Errorf("keep journaled %q, want kept: %v", s, out)
		}
		if _, ok := out["timebound/"+g.ID+"/revoke"]; ok {
			t.Errorf("a revoke was journaled: %v", out)
		}
	})
}

func TestTimeBoundExtendShortenEnd(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		e := newTBEnv(t, dsn, nil, nil)
		ctx := t.Context()
		actor := provision.JournalActor{Who: "ann@example.com"}
		g, err := e.tb.Grant(ctx, provision.TimeBoundRequest{PrincipalID: tbAnn, EntitlementID: billing, For: time.Hour, Actor: actor})
		if err != nil {
			t.Fatal(err)
		}
		start := e.clock.Now()
		if g, err = e.tb.Extend(ctx, g.ID, start.Add(3*time.Hour)); err != nil || !g.ExpiresAt.Equal(start.Add(3*time.Hour)) {
			t.Fatalf("Extend = %+v, %v", g, err)
		}
		e.clock.Add(2 * time.Hour) // past the first end, before the new one
		if err := provision.ExpireDue(ctx, e.tb, 1, 1); err != nil {
			t.Fatal(err)
		}
		if !e.holds(t, tbAnn, billing) {
			t.Fatal("revoked at the old expiry after an extension")
		}
		// Shorten to five minutes from now.
		if g, err = e.tb.Extend(ctx, g.ID, e.clock.Now().Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.tb.Extend(ctx, g.ID, e.clock.Now()); !errors.Is(err, provision.ErrTimeBoundInput) {
			t.Errorf("Extend to now = %v, want ErrTimeBoundInput", err)
		}
		e.clock.Add(5 * time.Minute)
		if err := provision.ExpireDue(ctx, e.tb, 1, 1); err != nil {
			t.Fatal(err)
		}
		if e.holds(t, tbAnn, billing) {
			t.Fatal("not revoked at the shortened expiry")
		}
		if _, err := e.tb.Extend(ctx, g.ID, e.clock.Now().Add(time.Hour)); !errors.Is(err, provision.ErrTimeBoundClosed) {
			t.Errorf("Extend of an ended grant = %v, want ErrTimeBoundClosed", err)
		}

		// End early.
		g2, err := e.tb.Grant(ctx, provision.TimeBoundRequest{PrincipalID: tbAnn, EntitlementID: billing, For: time.Hour, Actor: actor})
		if err != nil {
			t.Fatal(err)
		}
		ended, err := e.tb.End(ctx, g2.ID, provision.JournalActor{Who: "lead@example.com", Reason: "done early"})
		if err != nil {
			t.Fatal(err)
		}
		if ended.State != provision.TimeBoundEnded || ended.EndedBy != "end:lead@example.com" || e.holds(t, tbAnn, billing) {
			t.Errorf("End = %+v; tbAnn holds Billing: %v", ended, e.holds(t, tbAnn, billing))
		}
		if _, err := e.tb.End(ctx, g2.ID, actor); !errors.Is(err, provision.ErrTimeBoundClosed) {
			t.Errorf("End twice = %v, want ErrTimeBoundClosed", err)
		}
		journaled(t, e.j, "timebound/")
	})
}

func TestTimeBoundBadInput(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		e := newTBEnv(t, dsn, nil, nil)
		ctx := t.Context()
		actor := provision.JournalActor{Who: "ann@example.com"}
		now := e.clock.Now()
		for name, req := range map[string]provision.TimeBoundRequest{
			"zero duration":     {PrincipalID: tbAnn, EntitlementID: billing, Actor: actor},
			"negative duration": {PrincipalID: tbAnn, EntitlementID: billing, For: -time.Minute, Actor: actor},
			"past end":          {PrincipalID: tbAnn, EntitlementID: billing, Until: now.Add(-time.Second), Actor: actor},
			"end now":           {PrincipalID: tbAnn, EntitlementID: billing, Until: now, Actor: actor},
			"both ends":         {PrincipalID: tbAnn, EntitlementID: billing, For: time.Hour, Until: now.Add(time.Hour), Actor: actor},
			"no actor":          {PrincipalID: tbAnn, EntitlementID: billing, For: time.Hour},
			"bad ID":            {ID: "a b/c", PrincipalID: tbAnn, EntitlementID: billing, For: time.Hour, Actor: actor},
			"aliased principal": {PrincipalID: "user:010", EntitlementID: billing, For: time.Hour, Actor: actor},
			"ten years":         {PrincipalID: tbAnn, EntitlementID: billing, For: 11 * 365 * 24 * time.Hour, Actor: actor},
		} {
			before := e.b.Requests()
			_, err := e.tb.Grant(ctx, req)
			if err == nil {
				t.Errorf("%s: Grant succeeded", name)
				continue
			}
			if name == "aliased principal" {
				if !errors.Is(err, access.ErrMalformedID) {
					t.Errorf("%s: %v, want ErrMalformedID", name, err)
				}
			} else if !errors.Is(err, provision.ErrTimeBoundInput) {
				t.Errorf("%s: %v, want ErrTimeBoundInput", name, err)
			}
			if n := e.b.Requests() - before; n > 0 && name != "aliased principal" {
				t.Errorf("%s: %d requests sent", name, n)
			}
		}
		if gs, err := e.tb.List(ctx); err != nil || len(gs) != 0 {
			t.Errorf("List = %v, %v: bad requests left records", gs, err)
		}
		if h, err := e.j.Head(ctx); err != nil || h.Seq != 0 {
			t.Errorf("journal head %+v, %v: bad requests were journaled", h, err)
		}
		if e.holds(t, tbAnn, billing) {
			t.Error("a bad request granted access")
		}
	})
}

func TestTimeBoundOneOpenGrantAndIdempotentID(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		e := newTBEnv(t, dsn, nil, nil)
		ctx := t.Context()
		req := provision.TimeBoundRequest{ID: "req-1", PrincipalID: tbAnn, EntitlementID: billing, For: time.Hour,
			Actor: provision.JournalActor{Who: "ann@example.com"}}
		g, err := e.tb.Grant(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := e.tb.Grant(ctx, req)
		if err != nil || again.ID != g.ID || !again.ExpiresAt.Equal(g.ExpiresAt) {
			t.Errorf("the same request again = %+v, %v, want the first grant", again, err)
		}
		other := req
		other.ID = "req-2"
		if _, err := e.tb.Grant(ctx, other); !errors.Is(err, provision.ErrTimeBoundOpen) || !strings.Contains(err.Error(), "req-1") {
			t.Errorf("a second open grant = %v, want ErrTimeBoundOpen naming req-1", err)
		}
		conflict := req
		conflict.EntitlementID = "group:3:member"
		if _, err := e.tb.Grant(ctx, conflict); !errors.Is(err, provision.ErrTimeBoundConflict) {
			t.Errorf("another request with ID req-1 = %v, want ErrTimeBoundConflict", err)
		}
	})
}

// failingRevokes fails the revokes of a backend while fail says so.
type failingRevokes struct {
	access.Backend
	mu   sync.Mutex
	fail bool
}

func (f *failingRevokes) Revoke(ctx context.Context, req access.RevokeRequest) (access.RevokeResult, error) {
	f.mu.Lock()
	fail := f.fail
	f.mu.Unlock()
	if fail {
		return access.RevokeResult{}, errors.New("zendesk is down")
	}
	return f.Backend.Revoke(ctx, req)
}

func TestTimeBoundFailedRevokeRetriesThenReports(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		var fr *failingRevokes
		var mu sync.Mutex
		var reported []string
		e := newTBEnv(t, dsn, func(b *memaccess.Backend) access.Backend {
			fr = &failingRevokes{Backend: b}
			return fr
		}, &provision.TimeBoundOptions{OnFailure: func(_ context.Context, g provision.TimeBoundGrant, err error) {
			mu.Lock()
			defer mu.Unlock()
			reported = append(reported, g.ID+": "+err.Error())
		}})
		ctx := t.Context()
		actor := provision.JournalActor{Who: "ann@example.com"}
		g, err := e.tb.Grant(ctx, provision.TimeBoundRequest{PrincipalID: tbAnn, EntitlementID: billing, For: time.Minute, Actor: actor})
		if err != nil {
			t.Fatal(err)
		}
		fr.mu.Lock()
		fr.fail = true
		fr.mu.Unlock()
		e.clock.Add(time.Minute)
		// Attempts 1 and 2 of 3 fail: the job asks to be retried, the grant
		// stays ending, nothing is reported yet.
		for attempt := 1; attempt <= 2; attempt++ {
			if err := provision.ExpireDue(ctx, e.tb, attempt, 3); err == nil {
				t.Fatalf("attempt %d: the expiry succeeded while revokes fail", attempt)
			}
			got, _ := e.tb.Get(ctx, g.ID)
			if got.State != provision.TimeBoundEnding || got.Failures != attempt {
				t.Fatalf("after attempt %d: %+v, want ending with %d failures", attempt, got, attempt)
			}
		}
		if len(reported) != 0 {
			t.Fatalf("reported before the last attempt: %v", reported)
		}
		if err := provision.ExpireDue(ctx, e.tb, 3, 3); err != nil {
			t.Fatalf("the last attempt: %v, want nil (the failure is recorded and reported)", err)
		}
		got, _ := e.tb.Get(ctx, g.ID)
		if got.State != provision.TimeBoundFailed || !strings.Contains(got.Error, "zendesk is down") {
			t.Errorf("after the last attempt: %+v, want failed with the error", got)
		}
		if len(reported) != 1 || !strings.Contains(reported[0], "zendesk is down") {
			t.Errorf("OnFailure calls: %v, want one", reported)
		}
		out := journaled(t, e.j, "timebound/"+g.ID+"/revoke")
		if len(out) != 3 {
			t.Errorf("journal holds %d revoke attempts, want 3: %v", len(out), out)
		}
		for id, o := range out {
			if !strings.Contains(o.Error, "zendesk is down") {
				t.Errorf("%s journaled %+v, want the failure", id, o)
			}
		}
		// The sweep leaves a failed grant alone; End tries again.
		if n, err := e.tb.Sweep(ctx); err != nil || n != 0 {
			t.Errorf("Sweep = %d, %v, want 0", n, err)
		}
		fr.mu.Lock()
		fr.fail = false
		fr.mu.Unlock()
		if got, err := e.tb.End(ctx, g.ID, actor); err != nil || got.State != provision.TimeBoundEnded {
			t.Errorf("End after the outage = %+v, %v", got, err)
		}
		if e.holds(t, tbAnn, billing) {
			t.Error("ann still holds Billing")
		}
	})
}

func TestTimeBoundGuardRefusesRevoke(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		var reported int
		e := newTBEnv(t, dsn, nil, &provision.TimeBoundOptions{
			Guards:    provision.Guards{Protected: []string{tbAnn}},
			OnFailure: func(context.Context, provision.TimeBoundGrant, error) { reported++ },
		})
		ctx := t.Context()
		g, err := e.tb.Grant(ctx, provision.TimeBoundRequest{PrincipalID: tbAnn, EntitlementID: billing, For: time.Minute,
			Actor: provision.JournalActor{Who: "ann@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Add(time.Minute)
		if err := provision.ExpireDue(ctx, e.tb, 1, 8); err != nil {
			t.Fatal(err)
		}
		got, _ := e.tb.Get(ctx, g.ID)
		if got.State != provision.TimeBoundFailed || reported != 1 {
			t.Errorf("a guarded revoke: %+v, %d reports, want failed at once and reported", got, reported)
		}
	})
}

func TestTimeBoundSweepFindsLostExpiry(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		e := newTBEnv(t, dsn, nil, nil)
		ctx := t.Context()
		g, err := e.tb.Grant(ctx, provision.TimeBoundRequest{PrincipalID: tbAnn, EntitlementID: billing, For: time.Minute,
			Actor: provision.JournalActor{Who: "ann@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := e.tb.Sweep(ctx); err != nil || n != 0 {
			t.Fatalf("Sweep before the expiry = %d, %v, want 0", n, err)
		}
		e.clock.Add(time.Hour)
		if n, err := e.tb.Sweep(ctx); err != nil || n != 1 {
			t.Fatalf("Sweep after the expiry = %d, %v, want 1", n, err)
		}
		if err := provision.ExpireDue(ctx, e.tb, 1, 1); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.tb.Get(ctx, g.ID); got.State != provision.TimeBoundEnded {
			t.Errorf("after the sweep: %+v", got)
		}
	})
}

// blockingGrants holds every grant until release is closed.
type blockingGrants struct {
	access.Backend
	started chan struct{}
	release chan struct{}
}

func (b *blockingGrants) Grant(ctx context.Context, req access.GrantRequest) (access.GrantResult, error) {
	b.started <- struct{}{}
	<-b.release
	return b.Backend.Grant(ctx, req)
}

// TestTimeBoundExpiryWaitsForGrantInFlight: an expiry that comes while the
// grant is still being made does not revoke first (the grant would land
// after the revoke and stay); once the grant is made, the next expiry
// revokes it.
func TestTimeBoundExpiryWaitsForGrantInFlight(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		bg := &blockingGrants{started: make(chan struct{}, 1), release: make(chan struct{})}
		e := newTBEnv(t, dsn, func(b *memaccess.Backend) access.Backend { bg.Backend = b; return bg }, nil)
		ctx := t.Context()
		done := make(chan error, 1)
		var g provision.TimeBoundGrant
		go func() {
			var err error
			g, err = e.tb.Grant(ctx, provision.TimeBoundRequest{ID: "inflight", PrincipalID: tbAnn, EntitlementID: billing, For: time.Second,
				Actor: provision.JournalActor{Who: "ann@example.com"}})
			done <- err
		}()
		<-bg.started
		e.clock.Add(time.Minute)
		if err := provision.ExpireDue(ctx, e.tb, 1, 1); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.tb.Get(ctx, "inflight"); got.State != provision.TimeBoundPending {
			t.Fatalf("during the grant the expiry left it %s, want pending", got.State)
		}
		close(bg.release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if g.State != provision.TimeBoundActive || !e.holds(t, tbAnn, billing) {
			t.Fatalf("after the grant: %+v", g)
		}
		if n, err := e.tb.Sweep(ctx); err != nil || n != 1 {
			t.Errorf("Sweep = %d, %v, want the overdue grant", n, err)
		}
		if err := provision.ExpireDue(ctx, e.tb, 1, 1); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.tb.Get(ctx, "inflight"); got.State != provision.TimeBoundEnded || e.holds(t, tbAnn, billing) {
			t.Errorf("after the next expiry: %+v", got)
		}
		journaled(t, e.j, "timebound/")
	})
}

// downGrants fails every grant.
type downGrants struct{ access.Backend }

func (downGrants) Grant(context.Context, access.GrantRequest) (access.GrantResult, error) {
	return access.GrantResult{}, errors.New("zendesk is down")
}

// TestTimeBoundFailedGrantIsNotRevoked: a grant that failed is recorded as
// such, and its expiry takes nothing (the principal may hold the access
// from elsewhere by then).
func TestTimeBoundFailedGrantIsNotRevoked(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		e := newTBEnv(t, dsn, func(b *memaccess.Backend) access.Backend { return downGrants{b} }, nil)
		ctx := t.Context()
		g, err := e.tb.Grant(ctx, provision.TimeBoundRequest{PrincipalID: tbAnn, EntitlementID: billing, For: time.Minute,
			Actor: provision.JournalActor{Who: "ann@example.com"}})
		if err == nil || !strings.Contains(err.Error(), "zendesk is down") || g.State != provision.TimeBoundGrantFailed {
			t.Fatalf("Grant = %+v, %v, want grant_failed with the error", g, err)
		}
		if _, err := e.b.Grant(ctx, access.GrantRequest{PrincipalID: tbAnn, EntitlementID: billing}); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(time.Hour)
		if n, err := e.tb.Sweep(ctx); err != nil || n != 0 {
			t.Errorf("Sweep = %d, %v", n, err)
		}
		if err := provision.ExpireDue(ctx, e.tb, 1, 1); err != nil {
			t.Fatal(err)
		}
		if !e.holds(t, tbAnn, billing) {
			t.Error("the expiry of a failed grant took access granted elsewhere")
		}
	})
}

// TestTimeBoundAttemptsCountPerGrant: a grant's failed revokes count
// toward MaxAttempts across jobs (a job cut short and retried, the
// sweep's), so that it is reported failed, not left ending for ever.
func TestTimeBoundAttemptsCountPerGrant(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		var fr *failingRevokes
		reported := 0
		e := newTBEnv(t, dsn, func(b *memaccess.Backend) access.Backend {
			fr = &failingRevokes{Backend: b, fail: true}
			return fr
		}, &provision.TimeBoundOptions{MaxAttempts: 2, OnFailure: func(context.Context, provision.TimeBoundGrant, error) { reported++ }})
		ctx := t.Context()
		g, err := e.tb.Grant(ctx, provision.TimeBoundRequest{PrincipalID: tbAnn, EntitlementID: billing, For: time.Minute,
			Actor: provision.JournalActor{Who: "ann@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Add(time.Minute)
		// Each call is the first attempt of a job of 100: only the grant's
		// own count can end it.
		_ = provision.ExpireDue(ctx, e.tb, 1, 100)
		if got, _ := e.tb.Get(ctx, g.ID); got.State != provision.TimeBoundEnding || got.Failures != 1 {
			t.Fatalf("after one failure: %+v", got)
		}
		if err := provision.ExpireDue(ctx, e.tb, 1, 100); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.tb.Get(ctx, g.ID); got.State != provision.TimeBoundFailed || reported != 1 {
			t.Errorf("after MaxAttempts failures: %+v, %d reports; want failed, reported once", got, reported)
		}
	})
}
