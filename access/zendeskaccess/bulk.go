package zendeskaccess

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/zendesk"
)

var _ access.BulkChanger = (*Backend)(nil)

// Bulk jobs: Zendesk takes 100 items a job and lets an account run 30 jobs
// at once.
const (
	bulkItems = zendesk.MaxBulkItems
	bulkJobs  = 30
)

// Polling of bulk jobs: every outstanding job is polled with one request
// (GET /job_statuses/show_many), first after jobPollFirst, then at doubling
// intervals up to jobPollMax.
const (
	jobPollFirst = 100 * time.Millisecond
	jobPollMax   = 2 * time.Second
)

// bulkAttempts is how often a bulk request whose outcome is unknown is sent.
const bulkAttempts = 3

// bulkRun collects the results of one GrantMany or RevokeMany.
type bulkRun struct {
	out      []access.BulkResult
	progress func(int)
	mu       sync.Mutex
	done     int
}

func newBulkRun(n int, progress func(int)) *bulkRun {
	return &bulkRun{out: make([]access.BulkResult, n), progress: progress}
}

// set records request i's outcome and reports progress.
func (r *bulkRun) set(i int, res access.Result, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.out[i] = access.BulkResult{Result: res, Err: err}
	r.done++
	if r.progress != nil {
		r.progress(r.done)
	}
}

// one carries requests out one by one, WithConcurrency at a time: those of
// kinds Zendesk has no bulk endpoint for, and bulk items that failed in
// ways only a single call explains with a typed error.
func (b *Backend) one(ctx context.Context, r *bulkRun, idx []int, do func(i int) (access.Result, error)) {
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(b.cfg.concurrency)
	for _, i := range idx {
		g.Go(func() error {
			res, err := do(i) // a call that returned nil succeeded, whatever ctx does next
			r.set(i, res, err)
			return nil
		})
	}
	_ = g.Wait()
}

// GrantMany implements access.BulkChanger. Group memberships go through
// POST /group_memberships/create_many, 100 a job, at most 30 jobs at once,
// polled together with GET /job_statuses/show_many; an item Zendesk answers
// as a duplicate is StatusAlreadyGranted (it existed when the job ran), and
// an item that fails otherwise (an end user, a group deleted meanwhile) is
// retried as a single Grant, which explains it with a typed error. Other
// entitlements are granted one by one. Unlike Grant, the bulk path does
// not read each user first, so it does not promote end users: their items
// fall back to Grant, which does.
func (b *Backend) GrantMany(ctx context.Context, reqs []access.GrantRequest, progress func(int)) []access.BulkResult {
	r := newBulkRun(len(reqs), progress)
	var bulk, single []int
	targets := make([]target, len(reqs))
	for i, req := range reqs {
		t, err := b.parseTarget(req.EntitlementID, req.PrincipalID)
		switch {
		case err != nil:
			r.set(i, access.Result{}, fmt.Errorf("zendeskaccess: grant: %w", err))
		case t.kind == TypeGroup:
			targets[i] = t
			bulk = append(bulk, i)
		default:
			single = append(single, i)
		}
	}
	grant := func(i int) (access.Result, error) { return b.Grant(ctx, reqs[i]) }
	var retry []int
	b.jobs(ctx, bulk, func(chunk []int) (*zendesk.JobStatus, error) {
		pairs := make([]zendesk.GroupMembershipPair, len(chunk))
		for k, i := range chunk {
			pairs[k] = zendesk.GroupMembershipPair{UserID: targets[i].userID, GroupID: targets[i].id}
		}
		job, _, err := b.client.GroupMemberships.CreateMany(ctx, pairs)
		return job, err
	}, func(i int, res zendesk.JobResult, ok bool) {
		t := targets[i]
		switch {
		case ok && !failed(res):
			r.set(i, access.Result{Status: access.StatusGranted, Grant: b.attrs.membershipGrant(t.eid, t.userID, res.ID, false, false)}, nil)
		case ok && res.Error == "DuplicateValue":
			r.set(i, access.Result{Status: access.StatusAlreadyGranted, Grant: b.attrs.membershipGrant(t.eid, t.userID, 0, false, false),
				Note: "Zendesk's bulk job answered that the membership exists"}, nil)
		default:
			retry = append(retry, i)
		}
	})
	b.one(ctx, r, append(single, retry...), grant)
	return r.out
}

// RevokeMany implements access.BulkChanger. Group memberships are deleted
// with DELETE /group_memberships/destroy_many, 100 a job, after being found
// in one of two ways, chosen per group for the fewer requests:
//
//   - per user, GET /users/{id}/group_memberships, as Revoke reads them: one
//     request for each affected user (a user in several groups is read once);
//   - per group, GET /groups/{id}/memberships: ceil(n/100) requests for a
//     group of n members, fewer if every affected user is found before the
//     end of the list.
//
// n comes from the last sync if it was under a minute ago (its
// group_memberships stream counts every group's members at no extra cost),
// and otherwise from GET /groups/{id}/users/count, one request whatever the
// size (approximate above 100,000 members, which is precise enough to
// compare costs). The count is asked for only where listing could pay for
// it: for k affected users, when 1 + 1 < k. Listing then costs
// max(1, ceil(n/100)) + max(0, k-n) requests (a user the list does not show,
// and at least k-n are not members, is read as Revoke would read them, to
// tell a user who is not a member from one who does not exist), against k
// one by one, and is chosen only when strictly cheaper; users read one by
// one for another group count for nothing against a list. A count or list
// that fails leaves its users to the per-user reads. The choice changes only
// what is read, not the results. For example, revoking a group of 1,000
// members from all of them costs 1 count, 10 pages, 10 destroy_many jobs
// and their polls instead of 1,000 reads and the jobs; revoking it from 3 of
// them costs the count and 3 reads.
//
// A user who is not a member of a group the backend knows is
// StatusAlreadyRevoked. Other entitlements, users whose read fails, unknown
// groups and items that fail go through Revoke one by one.
func (b *Backend) RevokeMany(ctx context.Context, reqs []access.RevokeRequest, progress func(int)) []access.BulkResult {
	r := newBulkRun(len(reqs), progress)
	f := &membershipFinder{b: b, targets: make([]target, len(reqs)), byGroup: map[int64][]int{}, found: map[int]*Grant{}}
	var single, groupReqs []int
	for i, req := range reqs {
		t, err := b.parseTarget(req.EntitlementID, req.PrincipalID)
		switch {
		case err != nil:
			r.set(i, access.Result{}, fmt.Errorf("zendeskaccess: revoke: %w", err))
		case t.kind == TypeGroup:
			f.targets[i] = t
			f.byGroup[t.id] = append(f.byGroup[t.id], i)
			groupReqs = append(groupReqs, i)
		default:
			single = append(single, i)
		}
	}
	f.listGroups(ctx)
	var unread []int
	for _, i := range groupReqs {
		if f.found[i] == nil {
			unread = append(unread, i)
		}
	}
	single = append(single, f.readUsers(ctx, r, unread)...)
	found := f.found
	var bulk []int
	for _, i := range groupReqs {
		if found[i] != nil {
			bulk = append(bulk, i)
		}
	}
	var retry []int
	b.jobs(ctx, bulk, func(chunk []int) (*zendesk.JobStatus, error) {
		ids := make([]int64, len(chunk))
		for k, i := range chunk {
			ids[k] = found[i].MembershipID
		}
		job, _, err := b.client.GroupMemberships.DestroyMany(ctx, ids)
		return job, err
	}, func(i int, res zendesk.JobResult, ok bool) {
		switch {
		case ok && (!failed(res) || res.Error == "RecordNotFound"):
			// Deleted, or gone since it was read (a retried job, a
			// concurrent delete): this call saw it and it is gone.
			r.set(i, access.Result{Status: access.StatusRevoked, Grant: found[i]}, nil)
		default:
			retry = append(retry, i)
		}
	})
	b.one(ctx, r, append(single, retry...), func(i int) (access.Result, error) { return b.Revoke(ctx, reqs[i]) })
	return r.out
}

func failed(res zendesk.JobResult) bool {
	return (res.Success != nil && !*res.Success) || res.Error != ""
}

// jobs runs items in bulk jobs of at most 100, at most 30 jobs at once:
// submit starts the job for a chunk, and each item's result is passed to
// result (ok false when its job failed as a whole or its result is missing,
// so that the caller falls back to a single call). Create results are
// matched by index; delete results, which have none, by position.
func (b *Backend) jobs(ctx context.Context, items []int, submit func(chunk []int) (*zendesk.JobStatus, error), result func(i int, res zendesk.JobResult, ok bool)) {
	b.jobsIn(ctx, items, bulkJobs, submit, result)
}

// jobsIn is jobs with at most inFlight submissions at once (the jobs still
// run together). CreateAccounts submits one at a time, so that Zendesk
// numbers the new users in request order: the same plan gives the same ids.
func (b *Backend) jobsIn(ctx context.Context, items []int, inFlight int, submit func(chunk []int) (*zendesk.JobStatus, error), result func(i int, res zendesk.JobResult, ok bool)) {
	chunks := slices.Collect(slices.Chunk(items, bulkItems))
	for wave := range slices.Chunk(chunks, bulkJobs) {
		jobIDs := make([]string, len(wave))
		var mu sync.Mutex
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(inFlight)
		for w, chunk := range wave {
			g.Go(func() error {
				// A bulk request whose outcome is unknown (a 5xx, a lost
				// answer: the client retries only what it knows is safe) is
				// sent again: a repeated item is detectable (a duplicate
				// membership, an e-mail address taken) and its result says
				// so. Only then do its items fall back to single calls.
				var job *zendesk.JobStatus
				var err error
				for attempt := 0; attempt < bulkAttempts; attempt++ {
					if job, err = submit(chunk); err == nil || errors.Is(err, zendesk.ErrForbidden) || errors.Is(err, zendesk.ErrInvalid) || gctx.Err() != nil {
						break
					}
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil || job == nil || gctx.Err() != nil {
					for _, i := range chunk {
						result(i, zendesk.JobResult{}, false)
					}
					return nil
				}
				jobIDs[w] = job.ID
				return nil
			})
		}
		_ = g.Wait()
		finished := b.pollJobs(ctx, jobIDs)
		for w, chunk := range wave {
			if jobIDs[w] == "" {
				continue
			}
			job, ok := finished[jobIDs[w]]
			for k, i := range chunk {
				res, found := jobItem(job, k)
				result(i, res, ok && found)
			}
		}
	}
}

// jobItem returns the result of the k-th item of a finished job.
func jobItem(job *zendesk.JobStatus, k int) (zendesk.JobResult, bool) {
	if job == nil || job.Status != zendesk.JobStatusCompleted {
		return zendesk.JobResult{}, false
	}
	for _, res := range job.Results {
		if res.Index != nil && *res.Index == k {
			return res, true
		}
	}
	if k < len(job.Results) && job.Results[k].Index == nil {
		return job.Results[k], true
	}
	return zendesk.JobResult{}, false
}

// pollJobs polls the jobs until each is done, with one request for all of
// them (up to 100 ids), and returns them by id. Jobs not done when ctx ends,
// that Zendesk no longer knows, or whose polls keep failing are missing from
// the result, and their items fall back to single calls.
func (b *Backend) pollJobs(ctx context.Context, ids []string) map[string]*zendesk.JobStatus {
	const maxFailures = 5
	done := map[string]*zendesk.JobStatus{}
	pending := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == "" })
	wait, failures := jobPollFirst, 0
	for len(pending) > 0 && failures < maxFailures {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return done
		case <-t.C:
		}
		wait = min(2*wait, jobPollMax)
		jobs, err := b.client.JobStatuses.GetMany(ctx, pending)
		if err != nil {
			if ctx.Err() != nil {
				return done
			}
			failures++ // the client has retried already; poll again later
			continue
		}
		failures = 0
		known := map[string]bool{}
		for k := range jobs {
			known[jobs[k].ID] = true
			if jobs[k].Done() {
				done[jobs[k].ID] = &jobs[k]
			}
		}
		pending = slices.DeleteFunc(pending, func(id string) bool { return done[id] != nil || !known[id] })
	}
	return done
}

var _ access.BulkAccountCreator = (*Backend)(nil)

// CreateAccounts implements access.BulkAccountCreator with POST
// /users/create_many, 100 a job, submitted one at a time. Unlike
// CreateAccount, a bulk-created account's result lists only its role in
// Added, not the default group Zendesk puts a new agent in: reading it back
// would cost a request per account (a sync shows it). An item Zendesk refuses
// (most often because the e-mail address is taken: the person has an
// account) is retried as a single CreateAccount, which reports the account
// it finds as AccountExists. Where Zendesk has not enabled bulk imports it
// answers create_many with 403, and every request goes through
// CreateAccount, WithConcurrency at a time.
func (b *Backend) CreateAccounts(ctx context.Context, reqs []access.AccountRequest, progress func(int)) []access.AccountBulkResult {
	out := make([]access.AccountBulkResult, len(reqs))
	var mu sync.Mutex
	done := 0
	set := func(i int, res access.AccountResult, err error) {
		mu.Lock()
		defer mu.Unlock()
		out[i] = access.AccountBulkResult{Result: res, Err: err}
		done++
		if progress != nil {
			progress(done)
		}
	}
	var bulk, single []int
	create := make([]zendesk.CreateUserRequest, len(reqs))
	for i, req := range reqs {
		p := req.Person
		role := zendesk.RoleAgent
		if req.Role != "" {
			role = zendesk.Role(req.Role)
		}
		if p.Validate() != nil || !isBuiltIn(role) {
			single = append(single, i) // CreateAccount says what is wrong
			continue
		}
		create[i] = zendesk.CreateUserRequest{Name: cmpOr(p.Name, p.Email), Email: p.Email, Role: role, SkipVerifyEmail: zendesk.Ptr(true)}
		if p.ExternalID != "" {
			create[i].ExternalID = zendesk.Ptr(p.ExternalID)
		}
		bulk = append(bulk, i)
	}
	forbidden := false
	submit := func(chunk []int) (*zendesk.JobStatus, error) {
		users := make([]zendesk.CreateUserRequest, len(chunk))
		for k, i := range chunk {
			users[k] = create[i]
		}
		job, _, err := b.client.Users.CreateMany(ctx, users)
		if errors.Is(err, zendesk.ErrForbidden) {
			mu.Lock()
			forbidden = true // bulk imports are off
			mu.Unlock()
		}
		return job, err
	}
	result := func(i int, res zendesk.JobResult, ok bool) {
		if ok && !failed(res) && res.ID > 0 {
			u := &zendesk.User{ID: res.ID, Role: create[i].Role}
			set(i, access.AccountResult{Status: access.AccountCreated, PrincipalID: userRID(res.ID), Added: b.roleGrantOf(u, u.Role)}, nil)
			return
		}
		mu.Lock()
		single = append(single, i)
		mu.Unlock()
	}
	// One job first: where bulk imports are off it is the only 403.
	first := bulk[:min(len(bulk), bulkItems)]
	b.jobsIn(ctx, first, 1, submit, result)
	if rest := bulk[len(first):]; forbidden {
		single = append(single, rest...)
	} else {
		b.jobsIn(ctx, rest, 1, submit, result)
	}
	slices.Sort(single)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.cfg.concurrency)
	for _, i := range single {
		g.Go(func() error {
			res, err := b.CreateAccount(gctx, reqs[i])
			set(i, res, err)
			return nil
		})
	}
	_ = g.Wait()
	return out
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
