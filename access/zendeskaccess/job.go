package zendeskaccess

import (
	"context"
	"sync"

	"github.com/zgov-io/zgov/access"
)

// job is the work of one stream that other streams of the same sync depend
// on: the users stream builds the index of users in scope that the
// membership streams filter by, the groups and organizations streams the
// sets of ids they keep.
//
// Whichever stream gets to a job first runs it, in its own goroutine. So no
// stream ever waits for a stream that has not started, and Sync may start
// the streams in any order and as few at a time as it likes (with one at a
// time, waiting would deadlock). When another stream ran the job, the items
// it produced are kept, as access records, and the owning stream emits them
// when it runs: every item is emitted by the same stream whoever did the
// work, so provenance counts stay deterministic.
type job struct {
	work func(ctx context.Context, emit func(access.Item) error) error

	mu      sync.Mutex
	started bool
	done    chan struct{}
	err     error         // set before done is closed
	kept    []access.Item // set before done is closed; taken by the owner
}

func newJob(work func(ctx context.Context, emit func(access.Item) error) error) *job {
	return &job{work: work, done: make(chan struct{})}
}

func (j *job) claim() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.started {
		return false
	}
	j.started = true
	return true
}

// run is the owning stream's Run: it does the work, emitting as it goes, or
// waits for whoever is doing it and emits what they kept.
func (j *job) run(ctx context.Context, emit func(access.Item) error) error {
	if j.claim() {
		j.err = j.work(ctx, emit)
		close(j.done)
		return j.err
	}
	select {
	case <-j.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if j.err != nil {
		return j.err
	}
	kept := j.kept
	j.kept = nil
	for _, it := range kept {
		if err := emit(it); err != nil {
			return err
		}
	}
	return nil
}

// wait returns once the job is done, doing it if nobody has started it.
func (j *job) wait(ctx context.Context) error {
	if j.claim() {
		j.err = j.work(ctx, j.keep)
		close(j.done)
		return j.err
	}
	select {
	case <-j.done:
		return j.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// keep stores an item for the owner, as a record so that it holds only what
// Sync keeps anyway. Work calls emit from one goroutine, so keep needs no lock.
func (j *job) keep(it access.Item) error {
	switch {
	case it.Resource != nil:
		r := it.Resource
		it = access.Item{Resource: access.NewResource(r.ID(), r.DisplayName(), r.Attributes())}
	case it.Grant != nil:
		g := it.Grant
		it = access.Item{Grant: grantRecord(g)}
	}
	j.kept = append(j.kept, it)
	return nil
}

// grantRecord converts a grant to an access.GrantRecord.
func grantRecord(g access.Grant) access.Grant {
	if zg, ok := g.(*Grant); ok {
		return access.NewGrant(zg.EntitlementID, zg.PrincipalID(), zg.attrs)
	}
	return g
}
