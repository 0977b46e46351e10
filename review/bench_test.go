package review_test

import (
	"testing"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
	"github.com/zgov-io/zgov/review"
)

// bigSnapshot syncs a generated account of 100,000 users and 300,000
// grants.
func bigSnapshot(tb testing.TB) *access.Snapshot {
	tb.Helper()
	b, err := memaccess.New(memaccess.Generate(100_000, 200, 1_000))
	if err != nil {
		tb.Fatal(err)
	}
	snap, err := access.Sync(tb.Context(), b, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return snap
}

func TestCreateBig(t *testing.T) {
	if testing.Short() {
		t.Skip("big")
	}
	snap := bigSnapshot(t)
	st, err := review.Open(t.Context(), sqldbtest.SQLiteFileDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	c, err := st.Create(t.Context(), snap, review.CampaignSpec{Name: "big", Fallback: []string{"auditor@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("create: %v (%s)", time.Since(start), c.ID())
}
