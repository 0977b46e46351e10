package provision_test

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/internal/sqldb"
	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/provision/plantest"
)

// openStore opens a Store and closes it when the test ends.
func openStore(t testing.TB, dsn string) *provision.Store {
	t.Helper()
	s, err := provision.OpenStore(t.Context(), dsn)
	if err != nil {
		t.Fatalf("OpenStore(%q): %v", sqldb.Redact(dsn), err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// rawExec runs one statement on the database of a store, outside it, with
// '?' placeholders on every dialect.
func rawExec(t *testing.T, dsn, q string, args ...any) {
	t.Helper()
	db, err := sqldb.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.SQL.ExecContext(t.Context(), db.Rebind(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestStorePlanConformance(t *testing.T) {
	t.Parallel()
	for _, tg := range sqldbtest.Targets() {
		t.Run(tg.Name, func(t *testing.T) {
			t.Parallel()
			plantest.Run(t, func(t *testing.T) provision.PlanStore {
				return openStore(t, tg.NewDSN(t))
			})
		})
	}
}

// storePlan returns a valid plan made at base plus n seconds.
func storePlan(n int, principal string) *provision.Plan {
	return &provision.Plan{
		Version:      provision.PlanVersion,
		Backend:      "memaccess",
		Account:      "acme",
		SnapshotHash: strings.Repeat("a", 64),
		PolicyDigest: strings.Repeat("b", 64),
		CreatedAt:    time.Date(2026, 5, 6, 7, 8, 9, 1, time.UTC).Add(time.Duration(n) * time.Second),
		Changes: []provision.Change{
			{ID: "grant group:10:member@" + principal, Kind: provision.ChangeGrant, PrincipalID: principal, EntitlementID: "group:10:member"},
		},
	}
}

func saveBytes(t *testing.T, p *provision.Plan) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := p.Save(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestStorePlans saves plans through two Stores on one database, as two
// processes would: each loads what the other saved, and Plans lists them
// all, oldest first, with their nanoseconds.
func TestStorePlans(t *testing.T) {
	t.Parallel()
	eachShared(t, func(t *testing.T, dsn string) {
		a, b := openStore(t, dsn), openStore(t, dsn)
		if ps, err := a.Plans(t.Context()); err != nil || len(ps) != 0 {
			t.Errorf("Plans of a new store = %v, %v; want none", ps, err)
		}
		later, earlier := storePlan(2, "user:2"), storePlan(1, "user:1")
		for _, p := range []*provision.Plan{later, earlier} {
			if err := a.SavePlan(t.Context(), p); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.SavePlan(t.Context(), storePlan(1, "user:1")); err != nil {
			t.Errorf("saving the same plan through another store: %v", err)
		}
		got, err := b.LoadPlan(t.Context(), later.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(saveBytes(t, later), saveBytes(t, got)); diff != "" {
			t.Errorf("plan loaded through the other store (-want +got):\n%s", diff)
		}
		ps, err := b.Plans(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want := []provision.PlanInfo{
			{Hash: earlier.Hash, Backend: "memaccess", Account: "acme", SnapshotHash: strings.Repeat("a", 64), PolicyDigest: strings.Repeat("b", 64), CreatedAt: earlier.CreatedAt, Changes: 1},
			{Hash: later.Hash, Backend: "memaccess", Account: "acme", SnapshotHash: strings.Repeat("a", 64), PolicyDigest: strings.Repeat("b", 64), CreatedAt: later.CreatedAt, Changes: 1},
		}
		if diff := cmp.Diff(want, ps); diff != "" {
			t.Errorf("Plans (-want +got):\n%s", diff)
		}
	})
}

// TestStorePlanChanged changes saved plans in the database, outside zgov:
// LoadPlan refuses each with a *PlanModifiedError, and SavePlan of the
// real plan says its hash is in use by other content.
func TestStorePlanChanged(t *testing.T) {
	t.Parallel()
	eachShared(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		p, other := storePlan(1, "user:1"), storePlan(2, "user:2")
		if err := s.SavePlan(t.Context(), p); err != nil {
			t.Fatal(err)
		}
		edited := bytes.Replace(saveBytes(t, p), []byte("user:1"), []byte("user:9"), -1)
		for name, content := range map[string][]byte{
			"edited":                     edited,
			"another plan, hash and all": saveBytes(t, other),
			"not JSON":                   []byte("{"),
		} {
			rawExec(t, dsn, "UPDATE zgov_plans SET plan = ? WHERE hash = ?", content, p.Hash)
			_, err := s.LoadPlan(t.Context(), p.Hash)
			var pm *provision.PlanModifiedError
			if name != "not JSON" && (!errors.As(err, &pm) || pm.Recorded != p.Hash) {
				t.Errorf("%s: LoadPlan = %v, want a *PlanModifiedError recording %s", name, err, p.Hash)
			}
			if err == nil || !strings.Contains(err.Error(), sqldb.Redact(dsn)) {
				t.Errorf("%s: LoadPlan = %v, want an error naming the database", name, err)
			}
			if err := s.SavePlan(t.Context(), storePlan(1, "user:1")); !errors.Is(err, provision.ErrPlanHashInUse) {
				t.Errorf("%s: SavePlan of the real plan = %v, want ErrPlanHashInUse", name, err)
			}
		}
	})
}

// TestStoreJournal journals through a Store's journal, next to its plans:
// the journal's Close leaves the Store open, and the Store's Close closes
// the journal.
func TestStoreJournal(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		s, err := provision.OpenStore(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		js := s.Journal()
		if again := s.Journal(); again != js {
			t.Error("Journal returns a new store on each call")
		}
		j := newJournal(t, js)
		begin(t, j, "plan-1/a", grantOp("group:10:member", "user:1"))
		if err := s.Journal().Close(); err != nil {
			t.Errorf("the journal's Close: %v", err)
		}
		finish(t, j, "plan-1/a", provision.JournalOutcome{Status: "granted"})
		if err := s.SavePlan(t.Context(), storePlan(1, "user:1")); err != nil {
			t.Errorf("SavePlan after the journal's Close: %v", err)
		}
		if rep, err := j.Verify(t.Context()); err != nil || rep.Entries != 2 {
			t.Errorf("Verify = %+v, %v; want 2 entries", rep, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Journal().Head(t.Context()); err == nil {
			t.Error("the journal answers after the Store's Close")
		}
	})
}

// TestOpenStoreWrongPassword opens a PostgreSQL database with a wrong
// password: ErrConnect, naming the DSN without the password.
func TestOpenStoreWrongPassword(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(sqldbtest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "s3cret-wrong")
	dsn := u.String()
	for name, open := range map[string]func() error{
		"OpenStore":           func() error { _, err := provision.OpenStore(t.Context(), dsn); return err },
		"OpenSQLJournalStore": func() error { _, err := provision.OpenSQLJournalStore(t.Context(), dsn); return err },
	} {
		err := open()
		if !errors.Is(err, provision.ErrConnect) || !strings.Contains(err.Error(), sqldb.Redact(dsn)) {
			t.Errorf("%s with a wrong password = %v, want ErrConnect naming %s", name, err, sqldb.Redact(dsn))
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s = %q shows the password", name, err)
		}
	}
}
