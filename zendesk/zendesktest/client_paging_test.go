package zendesktest_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// TestClientCursorPagination lists 1,050 users, 100 a page: 11 requests,
// every user once, in id order.
func TestClientCursorPagination(t *testing.T) {
	t.Parallel()
	srv := startSim(t, zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 11, EndUsers: 1000, Agents: 40, Admins: 9, Groups: 3}))
	c := newClient(t, srv)
	users, err := zendesk.Collect(c.Users.List(ctx(t), nil))
	must(t, err, "list users")
	if len(users) != 1050 {
		t.Fatalf("listed %d users, want 1050", len(users))
	}
	if !sortedIDs(ids(users, userID)) {
		t.Error("users are not in ascending id order (or repeat)")
	}
	if n := requestsTo(srv, "GET /api/v2/users"); n != 11 {
		t.Errorf("simulator saw %d list requests, want 11", n)
	}
	if n := c.RequestCount(); n != 11 {
		t.Errorf("client sent %d requests, want 11", n)
	}
	for i, r := range srv.RequestLog() {
		if !strings.Contains(r.Query, "page%5Bsize%5D=100") && !strings.Contains(r.Query, "page[size]=100") {
			t.Errorf("request %d query %q has no page[size]=100", i, r.Query)
		}
		if i > 0 && !strings.Contains(r.Query, "page%5Bafter%5D") {
			t.Errorf("request %d query %q does not follow the after cursor", i, r.Query)
		}
	}

	// Filters travel with the cursor links.
	agents, err := zendesk.Collect(newClient(t, srv, zendesk.WithPageSize(7)).Users.List(ctx(t), &zendesk.UserListOptions{Roles: []zendesk.Role{zendesk.RoleAgent}}))
	must(t, err, "list agents")
	if len(agents) != 40 {
		t.Errorf("listed %d agents, want 40", len(agents))
	}
	for _, u := range agents {
		if u.Role != zendesk.RoleAgent {
			t.Fatalf("user %d has role %s in a role=agent list", u.ID, u.Role)
		}
	}

	// Stopping early sends no further request.
	srv.ResetStats()
	n := 0
	for _, err := range c.Users.List(ctx(t), nil) {
		must(t, err, "list")
		if n++; n == 150 {
			break
		}
	}
	if got := srv.Stats().Total; got != 2 {
		t.Errorf("stopping after 150 users sent %d requests, want 2", got)
	}
}

// TestClientSearchOffsetLimit: user search is offset-paginated and the
// simulator refuses pages past 10,000 records with a 400; the client yields
// the first 10,000 users and then the typed error, never a silent end.
func TestClientSearchOffsetLimit(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("generates 10,050 users")
	}
	srv := startSim(t, zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 12, EndUsers: 10_050}))
	c := newClient(t, srv)
	var got int
	var last error
	for _, err := range c.Users.Search(ctx(t), "role:end-user") {
		if err != nil {
			last = err
			break
		}
		got++
	}
	if got != 10_000 {
		t.Errorf("search yielded %d users before the error, want 10000", got)
	}
	ae := apiError(t, last, http.StatusBadRequest)
	if ae.Code != "InvalidPaginationParameter" {
		t.Errorf("code %q, want InvalidPaginationParameter", ae.Code)
	}
	if n := requestsTo(srv, "GET /api/v2/users/search"); n != 101 {
		t.Errorf("simulator saw %d search requests, want 101 (a 400 is not retried)", n)
	}

	// An exact search is a single small page.
	u, ok := srv.User(10000000042)
	if !ok {
		t.Fatal("no user 10000000042")
	}
	found, err := c.Users.SearchByEmail(ctx(t), strings.ToUpper(u.Email))
	must(t, err, "SearchByEmail")
	if len(found) != 1 || found[0].ID != u.ID {
		t.Errorf("SearchByEmail(%s) = %v, want user %d", u.Email, ids(found, userID), u.ID)
	}
}

// TestClientIncrementalExport reads a two-page incremental export (1,000
// users a page) within the export's own 10-a-minute budget.
// The simulator's clock is fixed, so that "a start time less than a minute
// old" does not depend on how long the test takes.
func TestClientIncrementalExport(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	srv := startSim(t, zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 13, EndUsers: 1400, Agents: 10, Deleted: 5, Groups: 2}),
		zendesktest.WithClock(func() time.Time { return now }))
	// The client's own incremental budget (10 a minute, burst 1) would space
	// the two requests six seconds apart; the simulator's bucket is what is
	// under test here.
	c := newClient(t, srv, zendesk.WithIncrementalRateLimit(600))
	users, err := zendesk.Collect(c.Users.IncrementalExport(ctx(t), time.Unix(0, 0)))
	must(t, err, "incremental export")
	if len(users) != 1411 {
		t.Errorf("exported %d users, want 1411 (deleted users included)", len(users))
	}
	inactive := 0
	seen := map[int64]bool{}
	for _, u := range users {
		if seen[u.ID] {
			t.Fatalf("user %d exported twice", u.ID)
		}
		seen[u.ID] = true
		if !u.Active {
			inactive++
		}
	}
	if inactive != 5 {
		t.Errorf("%d inactive users exported, want 5", inactive)
	}
	if n := requestsTo(srv, "GET /api/v2/incremental/users/cursor"); n != 2 {
		t.Errorf("%d export requests, want 2", n)
	}
	if st := srv.Stats(); st.Throttled != 0 {
		t.Errorf("%d requests throttled", st.Throttled)
	}

	// A start time less than a minute old is refused with a typed 400.
	_, err = zendesk.Collect(c.Users.IncrementalExport(ctx(t), now.Add(-59*time.Second)))
	apiError(t, err, http.StatusBadRequest)
}

// TestClientIncrementalBudget: the export has its own bucket of 10 a
// minute. Spending it does not touch the account budget, and the eleventh
// export request within the minute is throttled while other calls go on. It
// runs in a synctest bubble: no token refills while the test sends.
func TestClientIncrementalBudget(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, hc := startPipedSim(t, zendesktest.WithAccount(zendesktest.AccountSpec{Seed: 14, EndUsers: 20}))
		// No retries: the 429 surfaces as a *RateLimitError instead of a wait.
		c := newClient(t, srv, zendesk.WithHTTPClient(hc), zendesk.WithIncrementalRateLimit(6000), zendesk.WithMaxRetries(0))
		start := time.Unix(0, 0)
		for i := range 10 {
			_, err := zendesk.Collect(c.Users.IncrementalExport(ctx(t), start))
			must(t, err, fmt.Sprintf("export %d", i+1))
		}
		_, err := zendesk.Collect(c.Users.IncrementalExport(ctx(t), start))
		var rle *zendesk.RateLimitError
		if !errors.As(err, &rle) || rle.RetryAfter != 6*time.Second {
			t.Fatalf("11th export: %v, want a *RateLimitError asking for 6s (a token of 10 a minute)", err)
		}
		// The account budget is untouched by the export's.
		_, _, err = c.Users.Me(ctx(t))
		must(t, err, "Me after the export budget is spent")
		if rl := c.RateLimit(); rl.Limit != fastLimit {
			t.Errorf("account limit seen %d, want %d (the export budget is separate)", rl.Limit, fastLimit)
		}
	})
}
