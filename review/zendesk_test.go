package review_test

import (
	"testing"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/review"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// fast lets tests send requests as fast as the machine allows.
const fast = 1_000_000

// zendeskSystem starts a simulator with spec and returns it, a System
// over it (all users in scope) and a snapshot of it.
func zendeskSystem(t testing.TB, spec zendesktest.AccountSpec, opts ...zendeskaccess.Option) (*zendesktest.Server, *access.System, *access.Snapshot) {
	t.Helper()
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(spec), zendesktest.WithRateLimit(fast), zendesktest.WithRequestLog(0),
		zendesktest.WithUserUpdateLimit(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cr := srv.Credentials()
	client, err := zendesk.NewClient(cr.Subdomain, zendesk.WithBaseURL(srv.URL), zendesk.WithAPIToken(cr.AdminEmail, cr.APIToken),
		zendesk.WithRateLimit(fast), zendesk.WithUserUpdateLimit(0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := zendeskaccess.New(client, append([]zendeskaccess.Option{zendeskaccess.WithAccountOwner(srv.OwnerID())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	sys, err := access.NewSystem(b)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := sys.Sync(t.Context(), &access.SyncOptions{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	return srv, sys, snap
}

// revokeFirst revokes the first n items of c, in batches.
func revokeFirst(t testing.TB, c *review.Campaign, n int) {
	t.Helper()
	var ds []review.Decision
	for it, err := range c.Items(t.Context(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == n {
			break
		}
		ds = append(ds, review.Decision{ItemID: it.ID, Reviewer: active(it)[0], Verdict: review.Revoke, Justification: "not needed"})
	}
	for i := 0; i < len(ds); i += 500 {
		if err := c.DecideMany(t.Context(), ds[i:min(i+500, len(ds))]); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRemediateZendeskBulk: 1,000 group-membership revokes on Zendesk go
// through the bulk endpoint, 100 a job, and are verified by one re-read
// of the account, which costs less than reading each person; the requests
// are the jobs, their polls, one read of the memberships to find their
// ids, the re-read and a few fixed reads: 85 for 1,000 revokes.
func TestRemediateZendeskBulk(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		srv, sys, snap := zendeskSystem(t, zendesktest.AccountSpec{Seed: 3, EndUsers: 100, Agents: 1200, Admins: 10, Groups: 12,
			Organizations: 5, GroupMemberships: 3000, OrganizationMemberships: 60})
		j := openJournal(t, dsn)
		r := &review.Remediator{System: sys, Journal: j, Guards: provision.Guards{MaxDestructive: 5000, MaxTeamShare: 1}, Snapshot: snap}
		st := openStore(t, dsn, review.WithRemediator(r))
		spec := review.CampaignSpec{ID: "groups", Name: "Group memberships", Scope: review.Scope{ResourceTypes: []string{"group"}},
			Reviewers: []review.ReviewerRule{{Kind: review.RuleNamed, Reviewers: []string{"auditor@example.com"}}}, Default: review.DefaultKeep}
		c, err := st.Create(ctx, snap, spec)
		if err != nil {
			t.Fatal(err)
		}
		const n = 1000
		revokeFirst(t, c, n)
		srv.ResetStats()
		rep, err := c.Close(ctx, "auditor@example.com")
		if err != nil {
			t.Fatal(err)
		}
		rr := rep.Remediation
		stats := srv.Stats()
		jobs := stats.Requests["DELETE /api/v2/group_memberships/destroy_many"]
		polls := stats.Requests["GET /api/v2/job_statuses/show_many"]
		t.Logf("remediation %+v; %d requests: %v", rr, stats.Total, stats.Requests)
		if rr.Items != n || rr.Done+rr.Manual != n || rr.Failed != 0 || rr.Verify != review.VerifySync {
			t.Errorf("report %+v", rr)
		}
		if want := (rr.Done + 99) / 100; jobs != want {
			t.Errorf("%d destroy_many jobs for %d revokes, want %d", jobs, rr.Done, want)
		}
		if single := stats.Requests["DELETE /api/v2/group_memberships/{id}"] + stats.Requests["DELETE /api/v2/users/{id}/group_memberships/{id}"]; single != 0 {
			t.Errorf("%d single deletes", single)
		}
		// The re-read costs what a sync costs (less: the backend knows the
		// account's settings by then), far less than reading each person.
		syncCost := snap.Provenance().Requests
		if rr.VerifyRequests > syncCost {
			t.Errorf("verification sent %d requests, a sync costs %d", rr.VerifyRequests, syncCost)
		}
		// The membership ids come from one read of the account's
		// memberships (zendeskaccess's RevokeMany: cheaper than a read per
		// user), the rest is the jobs, their polls, the re-read and a few
		// fixed reads (account checks, guard facts).
		if perUser := stats.Requests["GET /api/v2/users/{id}/group_memberships"]; perUser != 0 {
			t.Errorf("%d per-user membership reads", perUser)
		}
		lookup := int64(snap.Counts().Grants) // more than the memberships: a bound on their pages
		lookup = (lookup + 99) / 100
		if limit := int64(jobs+polls) + lookup + rr.VerifyRequests + 10; int64(stats.Total) > limit {
			t.Errorf("%d requests, want at most jobs %d + polls %d + lookup %d + re-read %d + 10", stats.Total, jobs, polls, lookup, rr.VerifyRequests)
		}
		if int64(stats.Total) != rr.Requests {
			t.Errorf("the report counts %d requests, the server %d", rr.Requests, stats.Total)
		}
		// What was revoked is gone.
		after, err := sys.Sync(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for it, err := range c.Items(ctx, &review.ItemFilter{Outcome: review.Revoked}) {
			if err != nil {
				t.Fatal(err)
			}
			_, held := after.Grant(it.Grants[0].GrantID)
			switch it.Remediation.Status {
			case review.RemediationDone:
				if held || it.Remediation.Verification == nil || !it.Remediation.Verification.Verified {
					t.Errorf("item %d done, but held %v, verification %+v", it.ID, held, it.Remediation.Verification)
				}
			case review.RemediationManual:
				if !held || it.Remediation.Guard == "" {
					t.Errorf("item %d manual: held %v, %+v", it.ID, held, it.Remediation)
				}
			default:
				t.Errorf("item %d: %+v", it.ID, it.Remediation)
			}
		}
	})
}

// TestRemediateZendeskReadPrincipals: revokes of what a user record holds
// (organizations, on an account without multiple organizations) are
// verified by reading the users back, 100 a request.
func TestRemediateZendeskReadPrincipals(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv, sys, snap := zendeskSystem(t, zendesktest.AccountSpec{Seed: 4, EndUsers: 400, Agents: 20, Admins: 2, Groups: 3,
		Organizations: 10, GroupMemberships: 30, OrganizationMemberships: 300}, zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers))
	j := openJournal(t, sqldbtest.Memory)
	st := openStore(t, sqldbtest.Memory)
	spec := review.CampaignSpec{ID: "orgs", Name: "Organizations", Scope: review.Scope{ResourceTypes: []string{"organization"}},
		Fallback: []string{"auditor@example.com"}}
	c, err := st.Create(ctx, snap, spec)
	if err != nil {
		t.Fatal(err)
	}
	const n = 150
	revokeFirst(t, c, n)
	srv.ResetStats()
	rep, err := c.Remediate(ctx, &review.Remediator{System: sys, Journal: j, Guards: provision.Guards{MaxDestructive: n}})
	if err != nil {
		t.Fatal(err)
	}
	stats := srv.Stats()
	t.Logf("remediation %+v; %d requests: %v", rep, stats.Total, stats.Requests)
	if rep.Done != n || rep.Verify != review.VerifyReadPrincipals {
		t.Errorf("report %+v", rep)
	}
	if got, want := stats.Requests["GET /api/v2/users/show_many"], 2; got > want+1 || rep.VerifyRequests > 2 {
		t.Errorf("%d show_many requests (%d to verify) for %d principals, want about %d", got, rep.VerifyRequests, n, want)
	}
}

// TestRemediateZendesk10k carries out 10,000 group-membership revokes on
// the simulator and logs the requests by endpoint (go test -run
// TestRemediateZendesk10k -v).
func TestRemediateZendesk10k(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("10,000 revokes, timed: not with -short or -race")
	}
	ctx := t.Context()
	srv, sys, snap := zendeskSystem(t, zendesktest.AccountSpec{Seed: 5, Agents: 10_500, Admins: 20, EndUsers: 100, Groups: 30,
		Organizations: 5, GroupMemberships: 25_000})
	j := openJournal(t, sqldbtest.Memory)
	st := openStore(t, sqldbtest.Memory)
	c, err := st.Create(ctx, snap, review.CampaignSpec{ID: "big", Name: "Groups", Scope: review.Scope{ResourceTypes: []string{"group"}},
		Fallback: []string{"auditor@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 10_000
	revokeFirst(t, c, n)
	srv.ResetStats()
	start := time.Now()
	rep, err := c.Remediate(ctx, &review.Remediator{System: sys, Journal: j, Guards: provision.Guards{MaxDestructive: n, MaxTeamShare: 1}, Snapshot: snap})
	if err != nil {
		t.Fatal(err)
	}
	stats := srv.Stats()
	t.Logf("%d revokes in %v: %+v", n, time.Since(start), rep)
	t.Logf("%d requests (sync of the account: %d): %v", stats.Total, snap.Provenance().Requests, stats.Requests)
	if rep.Done+rep.Manual != n || rep.Failed != 0 {
		t.Errorf("report %+v", rep)
	}
	if jobs := stats.Requests["DELETE /api/v2/group_memberships/destroy_many"]; jobs != (rep.Done+99)/100 {
		t.Errorf("%d jobs for %d revokes", jobs, rep.Done)
	}
}
