package provision_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zgov-io/zgov/provision"
)

func TestJournalBadInput(t *testing.T) {
	t.Parallel()
	ok := grantOp("group:10:member", "user:2")
	long := strings.Repeat("x", 2000)
	tooManyParams := map[string]string{}
	for i := range 33 {
		tooManyParams[fmt.Sprintf("k%d", i)] = "v"
	}
	tests := []struct {
		name  string
		id    string
		actor provision.JournalActor
		op    provision.JournalOp
		field string
	}{
		{"empty actor", "", provision.JournalActor{}, ok, "actor.who"},
		{"blank who", "", provision.JournalActor{Who: "  ", Reason: "r"}, ok, "actor.who"},
		{"who padded", "", provision.JournalActor{Who: " ann", Reason: "r"}, ok, "actor.who"},
		{"who with newline", "", provision.JournalActor{Who: "ann\nbob", Reason: "r"}, ok, "actor.who"},
		{"who not UTF-8", "", provision.JournalActor{Who: "ann\xff", Reason: "r"}, ok, "actor.who"},
		{"no why", "", provision.JournalActor{Who: "ann"}, ok, "actor"},
		{"blank reason", "", provision.JournalActor{Who: "ann", Reason: " \n"}, ok, "actor"},
		{"reason too long", "", provision.JournalActor{Who: "ann", Reason: long}, ok, "actor.reason"},
		{"reason with NUL", "", provision.JournalActor{Who: "ann", Reason: "a\x00b"}, ok, "actor.reason"},
		{"source without kind", "", provision.JournalActor{Who: "ann", Source: "JIRA-1"}, ok, "actor.source"},
		{"source with upper-case kind", "", provision.JournalActor{Who: "ann", Source: "Ticket:JIRA-1"}, ok, "actor.source"},
		{"source without reference", "", provision.JournalActor{Who: "ann", Source: "ticket:"}, ok, "actor.source"},
		{"empty op", "", ann, provision.JournalOp{}, "op.name"},
		{"unknown op", "", ann, provision.JournalOp{Name: "delete_everything", PrincipalID: "user:2"}, "op.name"},
		{"grant without entitlement", "", ann, provision.JournalOp{Name: provision.JournalOpGrant, PrincipalID: "user:2"}, "op.entitlement_id"},
		{"grant without principal", "", ann, provision.JournalOp{Name: provision.JournalOpGrant, EntitlementID: "group:10:member"}, "op.principal_id"},
		{"malformed entitlement", "", ann, grantOp("group:10", "user:2"), "op.entitlement_id"},
		{"malformed principal", "", ann, grantOp("group:10:member", "user"), "op.principal_id"},
		{"revoke with email", "", ann, provision.JournalOp{Name: provision.JournalOpRevoke, EntitlementID: "group:10:member", PrincipalID: "user:2", Email: "a@b.c"}, "op.email"},
		{"create without email", "", ann, provision.JournalOp{Name: provision.JournalOpCreateAccount}, "op.email"},
		{"create with bad email", "", ann, provision.JournalOp{Name: provision.JournalOpCreateAccount, Email: "ann"}, "op.email"},
		{"create with principal", "", ann, provision.JournalOp{Name: provision.JournalOpCreateAccount, Email: "a@b.c", PrincipalID: "user:2"}, "op.principal_id"},
		{"deprovision without step", "", ann, provision.JournalOp{Name: provision.JournalOpDeprovision, PrincipalID: "user:2"}, "op.step"},
		{"deprovision with unknown step", "", ann, provision.JournalOp{Name: provision.JournalOpDeprovision, PrincipalID: "user:2", Step: "shred"}, "op.step"},
		{"reactivate with step", "", ann, provision.JournalOp{Name: provision.JournalOpReactivate, PrincipalID: "user:2", Step: "suspend"}, "op.step"},
		{"param key upper-case", "", ann, provision.JournalOp{Name: provision.JournalOpReactivate, PrincipalID: "user:2", Params: map[string]string{"Key": "v"}}, "op.params"},
		{"param key empty", "", ann, provision.JournalOp{Name: provision.JournalOpReactivate, PrincipalID: "user:2", Params: map[string]string{"": "v"}}, "op.params"},
		{"param value empty", "", ann, provision.JournalOp{Name: provision.JournalOpReactivate, PrincipalID: "user:2", Params: map[string]string{"k": ""}}, "op.params.k"},
		{"too many params", "", ann, provision.JournalOp{Name: provision.JournalOpReactivate, PrincipalID: "user:2", Params: tooManyParams}, "op.params"},
		{"change ID with space", "a b", ann, ok, "change_id"},
		{"change ID not ASCII", "é", ann, ok, "change_id"},
		{"change ID too long", strings.Repeat("k", 129), ann, ok, "change_id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j := newJournal(t, nil)
			_, err := j.Begin(t.Context(), tc.id, tc.actor, tc.op)
			var ie *provision.JournalInputError
			if !errors.As(err, &ie) || !errors.Is(err, provision.ErrJournalInput) {
				t.Fatalf("Begin = %v, want a *JournalInputError", err)
			}
			if ie.Field != tc.field {
				t.Errorf("Field = %q, want %q (%v)", ie.Field, tc.field, err)
			}
			if n := len(readAll(t, j)); n != 0 {
				t.Errorf("refused Begin appended %d entries", n)
			}
		})
	}
}

func TestJournalBadOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		id    string
		out   provision.JournalOutcome
		field string
	}{
		{"empty", "c", provision.JournalOutcome{}, "outcome"},
		{"status with space", "c", provision.JournalOutcome{Status: "all good"}, "outcome.status"},
		{"class without error", "c", provision.JournalOutcome{Status: "granted", ErrorClass: "x"}, "outcome.error_class"},
		{"class upper-case", "c", provision.JournalOutcome{Error: "boom", ErrorClass: "Boom"}, "outcome.error_class"},
		{"malformed grant", "c", provision.JournalOutcome{Status: "granted", GrantID: "group:10:member"}, "outcome.grant_id"},
		{"malformed principal", "c", provision.JournalOutcome{Status: "created", PrincipalID: "42"}, "outcome.principal_id"},
		{"malformed added", "c", provision.JournalOutcome{Status: "granted", Added: []string{"role:agent:assigned@user:2", "x"}}, "outcome.added[1]"},
		{"malformed replaced", "c", provision.JournalOutcome{Status: "granted", Replaced: []string{""}}, "outcome.replaced[0]"},
		{"empty request id", "c", provision.JournalOutcome{Status: "granted", RequestIDs: []string{""}}, "outcome.request_ids[0]"},
		{"request id with space", "c", provision.JournalOutcome{Status: "granted", RequestIDs: []string{"a", "b c"}}, "outcome.request_ids[1]"},
		{"empty change ID", "", provision.JournalOutcome{Status: "granted"}, "change_id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j := newJournal(t, nil)
			begin(t, j, "c", grantOp("group:10:member", "user:2"))
			_, err := j.Finish(t.Context(), tc.id, tc.out)
			var ie *provision.JournalInputError
			if !errors.As(err, &ie) {
				t.Fatalf("Finish = %v, want a *JournalInputError", err)
			}
			if ie.Field != tc.field {
				t.Errorf("Field = %q, want %q (%v)", ie.Field, tc.field, err)
			}
			if c, err := j.Change(t.Context(), "c"); err != nil || c.Done() {
				t.Errorf("refused Finish finished the change: %+v, %v", c, err)
			}
		})
	}
}

// TestJournalOutcomeRepaired: an error message is kept even when it is not
// UTF-8 or is very long, so that a change can always be finished.
func TestJournalOutcomeRepaired(t *testing.T) {
	t.Parallel()
	j := newJournal(t, nil)
	begin(t, j, "c", grantOp("group:10:member", "user:2"))
	msg := "bad \xff byte " + strings.Repeat("é", 3000)
	e := finish(t, j, "c", provision.JournalOutcome{Error: msg, Note: "ok\xfe"})
	if got := e.Outcome.Note; got != "ok\uFFFD" {
		t.Errorf("Note = %q, want invalid UTF-8 replaced", got)
	}
	got := e.Outcome.Error
	if len(got) > 4096 || !strings.HasPrefix(got, "bad \uFFFD byte éé") || !strings.HasSuffix(got, "é...") {
		t.Errorf("Error = %d bytes %q...%q, want at most 4096, repaired, cut on a rune with ...", len(got), got[:20], got[len(got)-10:])
	}
	if _, err := j.Verify(t.Context()); err != nil {
		t.Error(err)
	}
}

func TestNewJournalBadOptions(t *testing.T) {
	t.Parallel()
	if _, err := provision.NewJournal(nil); !errors.Is(err, provision.ErrJournalInput) {
		t.Errorf("NewJournal(nil) = %v, want ErrJournalInput", err)
	}
	if _, err := provision.NewJournal((*provision.MemoryJournalStore)(nil)); !errors.Is(err, provision.ErrJournalInput) {
		t.Errorf("NewJournal(a nil *MemoryJournalStore) = %v, want ErrJournalInput", err)
	}
	if _, err := provision.NewJournal(provision.NewMemoryJournalStore(), provision.WithJournalClock(nil)); !errors.Is(err, provision.ErrJournalInput) {
		t.Errorf("WithJournalClock(nil) = %v, want ErrJournalInput", err)
	}
	if _, err := provision.NewJournal(provision.NewMemoryJournalStore(), nil, provision.WithJournalClock(stepClock(time.Second))); err != nil {
		t.Errorf("a nil option = %v, want it ignored", err)
	}
}

func TestJournalClockOutOfRange(t *testing.T) {
	t.Parallel()
	j, err := provision.NewJournal(provision.NewMemoryJournalStore(), provision.WithJournalClock(func() time.Time { return time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Begin(t.Context(), "c", ann, grantOp("group:10:member", "user:2")); !errors.Is(err, provision.ErrJournalInput) {
		t.Errorf("Begin with the clock in year 10000 = %v, want ErrJournalInput", err)
	}
}

func TestJournalEntryTooLarge(t *testing.T) {
	t.Parallel()
	j := newJournal(t, nil)
	begin(t, j, "c", grantOp("group:10:member", "user:2"))
	var added []string
	for i := range 10000 {
		added = append(added, fmt.Sprintf("organization:%d:member@user:12345678901234567890", 1000000000+i))
	}
	var ie *provision.JournalInputError
	if _, err := j.Finish(t.Context(), "c", provision.JournalOutcome{Status: "granted", Added: added, Replaced: added}); !errors.As(err, &ie) || ie.Field != "entry" {
		t.Errorf("Finish of an entry over 1 MiB = %v, want a *JournalInputError for entry", err)
	}
}
