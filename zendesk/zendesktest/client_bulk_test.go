package zendesktest_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// The tests of this file run in testing/synctest bubbles: jobs run after their
// delay on the fake clock, so they take no real time and do not depend on the
// machine.

// TestClientUsersBulkJobs: the users' bulk calls queue jobs whose results say
// what happened to each user, as the single-user calls would have.
func TestClientUsersBulkJobs(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, hc := startPipedSim(t, zendesktest.WithBulkUserImports(true), zendesktest.WithJobDelay(time.Second))
		c := newClient(t, srv, zendesk.WithHTTPClient(hc))
		old := addEndUser(t, srv, "Old", "old@example.com")

		job, _, err := c.Users.CreateOrUpdateMany(ctx(t), []zendesk.CreateUserRequest{
			{Name: "Old, now an agent", Email: "old@example.com", Role: zendesk.RoleAgent},
			{Name: "New", Email: "new@example.com", ExternalID: zendesk.Ptr("hr-1")},
		})
		must(t, err, "create_or_update_many")
		done, err := c.JobStatuses.Wait(ctx(t), job.ID, nil)
		must(t, err, "wait for create_or_update_many")
		fresh, ok := srv.UserByEmail("new@example.com")
		if !ok || len(done.Results) != 2 {
			t.Fatalf("job %+v; new user created: %v", done, ok)
		}
		if r := done.Results[0]; r.ID != old || r.Status != zendesk.JobResultUpdated || r.Failed() {
			t.Errorf("result 0: %+v, want user %d updated", r, old)
		}
		if r := done.Results[1]; r.ID != fresh.ID || r.Status != zendesk.JobResultCreated || r.Failed() {
			t.Errorf("result 1: %+v, want user %d created", r, fresh.ID)
		}
		if u, _ := srv.User(old); u.Role != zendesktest.RoleAgent {
			t.Errorf("matched user: %+v", u)
		}

		// A duplicate email fails its item only; Wait reports it in a *JobError.
		job, _, err = c.Users.CreateMany(ctx(t), []zendesk.CreateUserRequest{
			{Name: "Third", Email: "third@example.com"},
			{Name: "Copy", Email: "new@example.com"},
		})
		must(t, err, "create_many")
		done, err = c.JobStatuses.Wait(ctx(t), job.ID, nil)
		var je *zendesk.JobError
		if !errors.As(err, &je) || len(je.Failed) != 1 || je.Failed[0].Index == nil || *je.Failed[0].Index != 1 ||
			je.Failed[0].Error != "DuplicateValue" {
			t.Fatalf("create_many with a duplicate: %v, want a *JobError for item 1", err)
		}
		third, _ := srv.UserByEmail("third@example.com")
		if r := done.Results[0]; r.ID != third.ID || r.Index == nil || *r.Index != 0 || r.Failed() {
			t.Errorf("result 0: %+v, want user %d created", r, third.ID)
		}

		job, _, err = c.Users.UpdateMany(ctx(t), []zendesk.UserUpdate{
			{ID: old, UpdateUserRequest: zendesk.UpdateUserRequest{Suspended: zendesk.Ptr(true)}},
			{ID: third.ID, UpdateUserRequest: zendesk.UpdateUserRequest{Tags: []string{"vip"}}},
		})
		must(t, err, "update_many")
		_, err = c.JobStatuses.Wait(ctx(t), job.ID, nil)
		must(t, err, "wait for update_many")
		job, _, err = c.Users.UpdateManyByIDs(ctx(t), []int64{fresh.ID, third.ID}, &zendesk.UpdateUserRequest{Name: zendesk.Ptr("Renamed")})
		must(t, err, "update_many by ids")
		_, err = c.JobStatuses.Wait(ctx(t), job.ID, nil)
		must(t, err, "wait for update_many by ids")
		u1, _ := srv.User(old)
		u2, _ := srv.User(third.ID)
		u3, _ := srv.User(fresh.ID)
		if !u1.Suspended || len(u2.Tags) != 1 || u2.Name != "Renamed" || u3.Name != "Renamed" {
			t.Errorf("after the updates: %+v, %+v, %+v", u1, u2, u3)
		}
	})
}

// TestClientUsersBulkImportsOff: on an account where bulk imports are not
// enabled (the simulator's default, as Zendesk's), the imports fail with
// ErrForbidden and change nothing.
func TestClientUsersBulkImportsOff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		srv, hc := startPipedSim(t)
		c := newClient(t, srv, zendesk.WithHTTPClient(hc))
		_, _, err := c.Users.CreateOrUpdateMany(ctx(t), []zendesk.CreateUserRequest{{Name: "Ann", Email: "ann@example.com"}})
		wantIs(t, err, zendesk.ErrForbidden)
		if _, ok := srv.UserByEmail("ann@example.com"); ok {
			t.Error("a refused import created a user")
		}
	})
}
