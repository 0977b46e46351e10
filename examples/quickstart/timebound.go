package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// stateOptions says where the time-bound step keeps its state (-state, -keep-state).
type stateOptions struct {
	// path is a SQLite file to use and keep; "" means a new file in a temporary directory.
	path string
	// keep keeps the temporary directory instead of removing it at the end.
	keep bool
}

// timeBoundFor is how long the demo's time-bound grant lasts: long enough to see, short
// enough that the step takes a few seconds.
const timeBoundFor = 3 * time.Second

// timeBoundDemo grants a demo agent a group for a few seconds, with a worker running in
// this process, waits for the worker to revoke it at expiry, and prints the revoke and
// the grant's journal entries. It shows that a time-bound grant of access someone
// already held leaves that access in place, and that a snapshot marks time-bound grants.
// The state is a SQLite file: a second run given it (-state) finds the grants and the
// journal of the first. It runs only against the simulator.
func timeBoundDemo(ctx context.Context, out, progress io.Writer, srv *zendesktest.Server, c *zendesk.Client, st stateOptions) (err error) {
	path, temporary := st.path, st.path == ""
	if temporary {
		dir, err := os.MkdirTemp("", "zgov-quickstart-")
		if err != nil {
			return err
		}
		if !st.keep {
			defer os.RemoveAll(dir)
		}
		path = filepath.Join(dir, "zgov.db")
	}
	if path, err = filepath.Abs(path); err != nil {
		return err
	}
	dsn := sqliteDSN(path)
	fmt.Fprintf(out, "\nTime-bound access, with state in %s", dsn)
	if temporary && !st.keep {
		fmt.Fprintf(out, " (removed at the end; -keep-state keeps it)")
	}
	fmt.Fprintln(out)

	store, err := provision.OpenStore(ctx, dsn)
	if err != nil {
		return err
	}
	defer store.Close()
	j, err := provision.NewJournal(store.Journal())
	if err != nil {
		return err
	}
	backend, err := zendeskaccess.New(c, zendeskaccess.WithAccountOwner(srv.OwnerID()))
	if err != nil {
		return err
	}
	sys, err := access.NewSystem(backend)
	if err != nil {
		return err
	}
	tb, err := provision.NewTimeBound(ctx, store, sys, j, nil)
	if err != nil {
		return err
	}
	earlier, err := tb.List(ctx)
	if err != nil {
		return err
	}
	if err := printEarlier(ctx, out, path, j, earlier); err != nil {
		return err
	}

	// The worker: in this process here; in production a process of its own, or many
	// (examples/jit-worker), on the same database.
	workerCtx, stopWorker := context.WithCancel(ctx)
	worker := make(chan error, 1)
	go func() { worker <- tb.Run(workerCtx) }()
	defer func() {
		stopWorker()
		if werr := <-worker; err == nil && werr != nil {
			err = fmt.Errorf("time-bound worker: %w", werr)
		}
	}()
	// A grant an earlier run left open (it was stopped before the grant ended) is ended
	// now, so that the grants below do not find it open. (Its revoke goes to this run's
	// simulator: the one it was granted on went with the earlier process.)
	for _, g := range earlier {
		switch g.State {
		case provision.TimeBoundPending, provision.TimeBoundActive, provision.TimeBoundEnding:
		default:
			continue
		}
		ended, err := tb.End(ctx, g.ID, provision.JournalActor{Who: "quickstart", Reason: "left open by an earlier run that was stopped"})
		switch {
		case errors.Is(err, provision.ErrTimeBoundClosed): // the worker is ending it
			if err := waitClosed(ctx, io.Discard, tb, g, ""); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			fmt.Fprintf(out, "  %s was left open by an earlier run that was stopped: ended now (on this run's simulator), %s\n", g.ID, ended.State)
		}
	}

	snap, err := sys.Sync(ctx, nil)
	if err != nil {
		return fmt.Errorf("time-bound: snapshot: %w", err)
	}
	ann, err := userByEmail(snap, "ann.lee@example.com")
	if err != nil {
		return err
	}
	erin, err := userByEmail(snap, "erin.fox@example.com")
	if err != nil {
		return err
	}
	escalations, err := groupMember(snap, "Escalations")
	if err != nil {
		return err
	}
	tier2, err := groupMember(snap, "Tier 2")
	if err != nil {
		return err
	}

	g, err := tb.Grant(ctx, provision.TimeBoundRequest{PrincipalID: ann.ID(), EntitlementID: escalations.id, For: timeBoundFor,
		Actor: provision.JournalActor{Who: "ann.lee@example.com", Reason: "on call for Escalations tonight", Source: "ticket:OPS-7"}})
	if err != nil {
		return fmt.Errorf("time-bound grant: %w", err)
	}
	fmt.Fprintf(out, "Granted %s: %s (%s) joins group %s until %s (for %v): %s\n",
		g.ID, ann.DisplayName(), ann.ID(), escalations.name, clock(g.ExpiresAt), g.ExpiresAt.Sub(g.CreatedAt), g.State)
	fmt.Fprintf(out, "  asked by %s: %q (%s)\n", g.Actor.Who, g.Actor.Reason, g.Actor.Source)

	// A snapshot taken with the open grants' marks says which grants are time-bound, so
	// that a plan treats them as held until they end instead of revoking them.
	marks, err := tb.Marks(ctx)
	if err != nil {
		return err
	}
	marked, err := sys.Sync(ctx, &access.SyncOptions{TimeBound: marks})
	if err != nil {
		return fmt.Errorf("time-bound: snapshot: %w", err)
	}
	if rec, ok := marked.Grant(g.GrantID()); ok {
		if at, ok := rec.ExpiresAt(); ok {
			fmt.Fprintf(out, "Snapshot with tb.Marks: grant %s has %s %s: plans treat it as held until then\n",
				rec.ID(), access.AttrExpiresAt, at.Format(time.RFC3339))
		}
	}

	// Standing access is kept: Erin has held Tier 2 since day one, so a time-bound grant
	// of it records that, and its end leaves the access in place.
	k, err := tb.Grant(ctx, provision.TimeBoundRequest{PrincipalID: erin.ID(), EntitlementID: tier2.id, For: time.Hour,
		Actor: provision.JournalActor{Who: "erin.fox@example.com", Reason: "Tier 2 queue cover this week", Source: "ticket:OPS-8"}})
	if err != nil {
		return fmt.Errorf("time-bound grant: %w", err)
	}
	k, err = tb.End(ctx, k.ID, provision.JournalActor{Who: "erin.fox@example.com", Reason: "cover no longer needed"})
	if err != nil {
		return fmt.Errorf("end time-bound grant: %w", err)
	}
	still, err := holds(ctx, sys, erin.ID(), tier2.id)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Standing access kept: %s has held group %s since day one; time-bound grant %s of it: standing %v\n",
		erin.DisplayName(), tier2.name, k.ID, k.Standing)
	fmt.Fprintf(out, "  ended early with End by %s: %s; %s still in %s: %s\n",
		k.EndedBy, k.State, erin.DisplayName(), tier2.name, yesNo(still))

	fmt.Fprintf(out, "Waiting for the worker to revoke %s at %s…\n", g.ID, clock(g.ExpiresAt))
	if err := waitClosed(ctx, progress, tb, g, ann.DisplayName()+" in "+escalations.name); err != nil {
		return err
	}
	if g, err = tb.Get(ctx, g.ID); err != nil {
		return err
	}
	if g.State != provision.TimeBoundEnded {
		return fmt.Errorf("time-bound grant %s ended %s: %s", g.ID, g.State, g.Error)
	}
	still, err = holds(ctx, sys, ann.ID(), escalations.id)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Revoked by the worker at %s, %v after the expiry (ended by %s): %s; %s still in %s: %s\n",
		clock(g.EndedAt), g.EndedAt.Sub(g.ExpiresAt).Round(time.Millisecond), g.EndedBy, g.State, ann.DisplayName(), escalations.name, yesNo(still))
	fmt.Fprintln(out, "  (the worker ends the grants expiring in one second together, at the end of that second)")

	fmt.Fprintf(out, "Journal entries of %s:\n", g.ID)
	if err := printJournal(ctx, out, j, g.ID, "  "); err != nil {
		return err
	}
	fmt.Fprintf(out, "Journal entries of %s:\n", k.ID)
	if err := printJournal(ctx, out, j, k.ID, "  "); err != nil {
		return err
	}
	vr, err := j.Verify(ctx)
	if err != nil {
		return fmt.Errorf("time-bound: the journal does not verify: %w", err)
	}
	fmt.Fprintf(out, "Journal verified: %d entries, head %d:%s…\n", vr.Entries, vr.Head.Seq, vr.Head.Hash[:12])
	if err := reviewDemo(ctx, out, sys, j, tb, dsn, strings.TrimSuffix(path, filepath.Ext(path))+"-evidence"); err != nil {
		return err
	}
	if !temporary || st.keep {
		fmt.Fprintf(out, "State kept in %s\n  run go run ./examples/quickstart -state %s\n  to see these grants and their journal again from a new process\n", path, path)
	}
	return nil
}

// sqliteDSN returns the DSN of the SQLite file at the absolute path p.
func sqliteDSN(p string) string {
	p = filepath.ToSlash(p)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // C:/... on Windows
	}
	// Escaped, so that a '?', '#' or '%' in the path stays part of it.
	return "sqlite://" + (&url.URL{Path: p}).EscapedPath()
}

// printEarlier prints the time-bound grants a file holds from earlier runs, and whether
// its journal verifies: the state outlives the process that wrote it.
func printEarlier(ctx context.Context, out io.Writer, path string, j *provision.Journal, earlier []provision.TimeBoundGrant) error {
	if len(earlier) == 0 {
		return nil
	}
	vr, err := j.Verify(ctx)
	if err != nil {
		return fmt.Errorf("%s: the journal does not verify: %w", path, err)
	}
	fmt.Fprintf(out, "Found in %s, from earlier runs: %d time-bound grants, and a journal of %d entries that verifies\n",
		path, len(earlier), vr.Entries)
	const show = 6
	if len(earlier) > show {
		fmt.Fprintf(out, "  (the %d that end last)\n", show)
		earlier = earlier[len(earlier)-show:]
	}
	for _, g := range earlier {
		fmt.Fprintf(out, "  %s: %s, asked by %s, until %s: %s", g.ID, g.GrantID(), g.Actor.Who, g.ExpiresAt.Format(time.RFC3339), g.State)
		if !g.EndedAt.IsZero() {
			fmt.Fprintf(out, " at %s by %s", g.EndedAt.Format(time.RFC3339), g.EndedBy)
		}
		fmt.Fprintln(out)
		if err := printJournal(ctx, out, j, g.ID, "    "); err != nil {
			return err
		}
	}
	return nil
}

// printJournal prints the journal entries of the time-bound grant id: its grant, and its
// revoke or the record that its end kept standing access.
func printJournal(ctx context.Context, out io.Writer, j *provision.Journal, id, indent string) error {
	for _, step := range []string{"grant", "revoke", "keep"} {
		ch, err := j.Change(ctx, "timebound/"+id+"/"+step)
		if errors.Is(err, provision.ErrJournalUnknownChange) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range []*provision.JournalEntry{&ch.Started, ch.Finished} {
			if e == nil {
				continue
			}
			status := ""
			if e.Outcome != nil {
				status = e.Outcome.Status
			}
			fmt.Fprintf(out, "%s#%-3d %s  %-8s  %-6s  %-15s  by %s\n", indent, e.Seq, clock(e.Time), e.Kind, e.Op.Name, status, e.Actor.Who)
		}
	}
	return nil
}

// waitClosed waits until the time-bound grant g is no longer open (pending, active or
// ending), printing a countdown to its expiry on progress once a second.
func waitClosed(ctx context.Context, progress io.Writer, tb *provision.TimeBound, g provision.TimeBoundGrant, what string) error {
	// The worker ends a grant within about a second of its expiry; give it plenty more.
	deadline := time.Now().Add(time.Until(g.ExpiresAt) + 30*time.Second)
	last := ""
	for {
		got, err := tb.Get(ctx, g.ID)
		if err != nil {
			return err
		}
		switch got.State {
		case provision.TimeBoundPending, provision.TimeBoundActive, provision.TimeBoundEnding:
		default:
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("time-bound grant %s is still %s, 30 s after its expiry", g.ID, got.State)
		}
		line := fmt.Sprintf("time-bound: %s ends in %.0fs", what, math.Ceil(time.Until(got.ExpiresAt).Seconds()))
		if !time.Now().Before(got.ExpiresAt) {
			line = "time-bound: " + what + " expired; the worker is revoking it"
		}
		if line != last && what != "" {
			fmt.Fprintln(progress, line)
			last = line
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// userByEmail finds a user in the snapshot by e-mail address.
func userByEmail(s *access.Snapshot, email string) (access.ResourceRecord, error) {
	for _, r := range s.Resources() {
		if r.Type() == zendeskaccess.TypeUser && r.Attributes()["email"] == email {
			return r, nil
		}
	}
	return access.ResourceRecord{}, fmt.Errorf("the demo account has no user %s", email)
}

// membership is a group's membership entitlement: its ID and the group's name.
type membership struct{ id, name string }

// groupMember finds the membership entitlement of the group named name.
func groupMember(s *access.Snapshot, name string) (membership, error) {
	for _, r := range s.Resources() {
		if r.Type() == zendeskaccess.TypeGroup && r.DisplayName() == name {
			if e, ok := s.Entitlement(access.EntitlementID(r.ID(), "member")); ok {
				return membership{id: e.ID(), name: name}, nil
			}
		}
	}
	return membership{}, fmt.Errorf("the demo account has no group %s", name)
}

// holds reports whether the principal holds the entitlement now, as the backend says.
func holds(ctx context.Context, sys *access.System, principalID, entitlementID string) (bool, error) {
	gs, err := sys.GrantsFor(ctx, principalID)
	if err != nil {
		return false, err
	}
	for _, g := range gs {
		if g.ID() == access.GrantID(entitlementID, principalID) {
			return true, nil
		}
	}
	return false, nil
}

// clock prints t as a time of day in UTC, to the millisecond.
func clock(t time.Time) string { return t.UTC().Format("15:04:05.000Z") }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
