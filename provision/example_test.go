package provision_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
	"github.com/zgov-io/zgov/provision"
)

// newExampleSystem returns a System over an in-memory backend with two
// users and a group that Ann (user:1) is in.
func newExampleSystem() *access.System {
	b, err := memaccess.New(memaccess.Data{
		Account: "acme",
		ResourceTypes: []access.ResourceType{
			{ID: "user", DisplayName: "User", Traits: []access.Trait{access.TraitUser}, IDSyntax: access.IDSyntaxPositiveInt},
			{ID: "group", DisplayName: "Group", Traits: []access.Trait{access.TraitGroup}, IDSyntax: access.IDSyntaxPositiveInt},
		},
		Resources: []access.Resource{
			access.NewResource("user:1", "Ann", nil),
			access.NewResource("user:2", "Bob", nil),
			access.NewResource("group:10", "Billing", nil),
		},
		Entitlements: []access.Entitlement{
			access.NewEntitlement("group:10:member", "Member of Billing", access.PurposeMembership, []string{"user"}, nil),
		},
		Grants: []access.Grant{access.NewGrant("group:10:member", "user:1", nil)},
	})
	if err != nil {
		log.Fatal(err)
	}
	sys, err := access.NewSystem(b)
	if err != nil {
		log.Fatal(err)
	}
	return sys
}

// exampleClock is a clock for examples: 9:00 UTC, one second later at each
// call.
func exampleClock() func() time.Time {
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	return func() time.Time {
		now = now.Add(time.Second)
		return now
	}
}

// This example journals a grant: the started entry before the change, the
// finished entry with its outcome after it, then verifies the journal.
func ExampleJournal() {
	ctx := context.Background()
	sys := newExampleSystem()
	j, err := provision.NewJournal(provision.NewMemoryJournalStore(), provision.WithJournalClock(exampleClock()))
	if err != nil {
		log.Fatal(err)
	}
	actor := provision.JournalActor{Who: "ann@example.com", Reason: "Bob joins billing", Source: "ticket:JIRA-1"}
	req := access.GrantRequest{EntitlementID: "group:10:member", PrincipalID: "user:2"}

	e, err := j.Begin(ctx, "", actor, provision.JournalGrantOp(req))
	if err != nil {
		log.Fatal(err) // not journaled: do not make the change
	}
	res, err := sys.Grant(ctx, req)
	if _, ferr := j.Finish(ctx, e.ChangeID, provision.JournalOutcomeOf(res, err)); ferr != nil {
		log.Fatal(ferr)
	}

	c, err := j.Change(ctx, e.ChangeID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Finished.Op.Name, c.Finished.Op.PrincipalID, c.Finished.Outcome.Status, "asked by", c.Finished.Actor.Who)
	rep, err := j.Verify(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d entries verified, %d unfinished\n", rep.Entries, rep.Unfinished)
	// Output:
	// grant user:2 granted asked by ann@example.com
	// 2 entries verified, 0 unfinished
}

// This example exports a journal as JSON lines, one canonical entry per
// line with its hash, for an auditor.
func ExampleJournal_ExportJSONL() {
	ctx := context.Background()
	j, err := provision.NewJournal(provision.NewMemoryJournalStore(), provision.WithJournalClock(exampleClock()))
	if err != nil {
		log.Fatal(err)
	}
	actor := provision.JournalActor{Who: "ann@example.com", Source: "review:2026-q2/item-7"}
	op := provision.JournalRevokeOp(access.RevokeRequest{EntitlementID: "group:10:member", PrincipalID: "user:1"})
	if _, err := j.Begin(ctx, "review-2026-q2/item-7", actor, op); err != nil {
		log.Fatal(err)
	}
	if _, err := j.Finish(ctx, "review-2026-q2/item-7", provision.JournalOutcome{Status: "revoked", GrantID: "group:10:member@user:1"}); err != nil {
		log.Fatal(err)
	}
	if err := j.ExportJSONL(ctx, os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// {"actor":{"source":"review:2026-q2/item-7","who":"ann@example.com"},"change_id":"review-2026-q2/item-7","hash":"008259425082493dde7e1f9f06873f9b76f50a032528796b466857fba185335f","kind":"started","op":{"entitlement_id":"group:10:member","name":"revoke","principal_id":"user:1"},"seq":1,"time":"2026-06-01T09:00:01.000000Z"}
	// {"actor":{"source":"review:2026-q2/item-7","who":"ann@example.com"},"change_id":"review-2026-q2/item-7","hash":"bea4d0c418e9c80d8420318749f057776c894e42f08da9e01408b6371dcce0bf","kind":"finished","op":{"entitlement_id":"group:10:member","name":"revoke","principal_id":"user:1"},"outcome":{"grant_id":"group:10:member@user:1","status":"revoked"},"prev_hash":"008259425082493dde7e1f9f06873f9b76f50a032528796b466857fba185335f","seq":2,"time":"2026-06-01T09:00:02.000000Z"}
}

// This example verifies an export without a store, as an auditor does,
// and finds the line that was edited.
func ExampleVerifyJSONL() {
	ctx := context.Background()
	j, err := provision.NewJournal(provision.NewMemoryJournalStore(), provision.WithJournalClock(exampleClock()))
	if err != nil {
		log.Fatal(err)
	}
	actor := provision.JournalActor{Who: "svc:hr-sync", Source: "plan:4f2a"}
	for i, user := range []string{"user:1", "user:2", "user:3"} {
		id := fmt.Sprintf("plan-4f2a/%d", i)
		op := provision.JournalGrantOp(access.GrantRequest{EntitlementID: "group:10:member", PrincipalID: user})
		if _, err := j.Begin(ctx, id, actor, op); err != nil {
			log.Fatal(err)
		}
		if _, err := j.Finish(ctx, id, provision.JournalOutcome{Status: "granted"}); err != nil {
			log.Fatal(err)
		}
	}
	var export bytes.Buffer
	if err := j.ExportJSONL(ctx, &export); err != nil {
		log.Fatal(err)
	}
	rep, err := provision.VerifyJSONL(bytes.NewReader(export.Bytes()))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("export: %d entries, head seq %d\n", rep.Entries, rep.Head.Seq)

	// Someone rewrites who was granted access in the fourth entry.
	edited := bytes.Replace(export.Bytes(), []byte(`"principal_id":"user:2"},"outcome"`), []byte(`"principal_id":"user:9"},"outcome"`), 1)
	_, err = provision.VerifyJSONL(bytes.NewReader(edited))
	var te *provision.JournalTamperError
	if errors.As(err, &te) {
		fmt.Printf("tampered: %s at seq %d (line %d)\n", te.Kind, te.Seq, te.Line)
	}
	// Output:
	// export: 6 entries, head seq 6
	// tampered: edited at seq 4 (line 4)
}

// This example keeps the head of one verification as an anchor for the
// next: with it, Verify also proves that nothing was cut from the end or
// rewritten up to there since.
func ExampleJournal_Verify() {
	ctx := context.Background()
	j, err := provision.NewJournal(provision.NewMemoryJournalStore(), provision.WithJournalClock(exampleClock()))
	if err != nil {
		log.Fatal(err)
	}
	actor := provision.JournalActor{Who: "ann@example.com", Reason: "quarterly clean-up"}
	change := func(id, user string) {
		op := provision.JournalRevokeOp(access.RevokeRequest{EntitlementID: "group:10:member", PrincipalID: user})
		if _, err := j.Begin(ctx, id, actor, op); err != nil {
			log.Fatal(err)
		}
		if _, err := j.Finish(ctx, id, provision.JournalOutcome{Status: "revoked"}); err != nil {
			log.Fatal(err)
		}
	}

	change("c1", "user:1")
	first, err := j.Verify(ctx)
	if err != nil {
		log.Fatal(err)
	}
	anchor := first.Head // the auditor keeps this outside the journal's database

	change("c2", "user:2")
	rep, err := j.Verify(ctx, anchor)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d entries, anchor at seq %d found: %v\n", rep.Entries, anchor.Seq, rep.Anchors == 1)
	// Output:
	// 4 entries, anchor at seq 2 found: true
}

// This example resumes after a crash: a change begun and never finished is
// listed by Unfinished; the resuming process checks the system and
// finishes it. A change ID already in the journal cannot be begun again.
func ExampleJournal_Unfinished() {
	ctx := context.Background()
	store := provision.NewMemoryJournalStore()
	sys := newExampleSystem()
	actor := provision.JournalActor{Who: "svc:hr-sync", Source: "plan:77"}
	req := access.GrantRequest{EntitlementID: "group:10:member", PrincipalID: "user:2"}

	// A process begins a change, makes it, and crashes before finishing.
	clock := exampleClock()
	crashed, err := provision.NewJournal(store, provision.WithJournalClock(clock))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := crashed.Begin(ctx, "plan-77/item-1", actor, provision.JournalGrantOp(req)); err != nil {
		log.Fatal(err)
	}
	if _, err := sys.Grant(ctx, req); err != nil {
		log.Fatal(err)
	}

	// The next process finds it.
	j, err := provision.NewJournal(store, provision.WithJournalClock(clock))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := j.Begin(ctx, "plan-77/item-1", actor, provision.JournalGrantOp(req)); errors.Is(err, provision.ErrJournalDuplicateChange) {
		fmt.Println("plan-77/item-1 is already in the journal")
	}
	open, err := j.Unfinished(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range open {
		// Grant is idempotent: granting again reports what the crashed
		// process did, without doing it twice.
		req := access.GrantRequest{EntitlementID: e.Op.EntitlementID, PrincipalID: e.Op.PrincipalID}
		res, err := sys.Grant(ctx, req)
		out := provision.JournalOutcomeOf(res, err)
		out.Note = "finished on resume"
		if _, err := j.Finish(ctx, e.ChangeID, out); err != nil {
			log.Fatal(err)
		}
		fmt.Println("finished", e.ChangeID, out.Status)
	}
	// Output:
	// plan-77/item-1 is already in the journal
	// finished plan-77/item-1 already_granted
}

// This example keeps the journal in a SQLite file, which outlives the
// process that writes it: a process journals a change and ends, and the
// next one opens the file and finds the change done and the journal whole.
// ("sqlite::memory:" is a journal in memory, for tests and demos.)
func ExampleOpenSQLJournalStore() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "zgov")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	dsn := "sqlite:" + filepath.ToSlash(filepath.Join(dir, "zgov.db")) // sqlite:///var/lib/zgov/zgov.db in production
	actor := provision.JournalActor{Who: "svc:hr-sync", Source: "plan:77"}
	op := provision.JournalGrantOp(access.GrantRequest{EntitlementID: "group:10:member", PrincipalID: "user:2"})
	clock := exampleClock()

	// The first process.
	store, err := provision.OpenSQLJournalStore(ctx, dsn)
	if err != nil {
		log.Fatal(err)
	}
	j, err := provision.NewJournal(store, provision.WithJournalClock(clock))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := j.Begin(ctx, "plan-77/item-1", actor, op); err != nil {
		log.Fatal(err)
	}
	if _, err := j.Finish(ctx, "plan-77/item-1", provision.JournalOutcome{Status: "granted"}); err != nil {
		log.Fatal(err)
	}
	anchor, err := j.Head(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Close(); err != nil {
		log.Fatal(err)
	}

	// The next process.
	store, err = provision.OpenSQLJournalStore(ctx, dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	j, err = provision.NewJournal(store, provision.WithJournalClock(clock))
	if err != nil {
		log.Fatal(err)
	}
	c, err := j.Change(ctx, "plan-77/item-1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("plan-77/item-1 done:", c.Done(), c.Finished.Outcome.Status)
	rep, err := j.Verify(ctx, anchor)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d entries verified, anchor found: %v\n", rep.Entries, rep.Anchors == 1)
	// Output:
	// plan-77/item-1 done: true granted
	// 2 entries verified, anchor found: true
}
