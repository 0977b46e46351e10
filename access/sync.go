package access

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// SyncOptions configures Sync. The zero value (and a nil *SyncOptions) means
// the defaults.
type SyncOptions struct {
	// Now returns the time recorded as Provenance.TakenAt. The default is
	// time.Now. Tests set it to make snapshots byte-for-byte reproducible.
	Now func() time.Time

	// Concurrency is the maximum number of streams run at once. The default
	// runs every stream at once: backends declare a handful of streams and
	// bound their own request rate, and a stream held back waits for nothing
	// but adds its whole length to the sync when latency, not the rate
	// limit, is what bounds it.
	Concurrency int

	// Progress, if set, is called with the counts so far: by each stream
	// every ProgressEvery items and when it ends, and once more when the
	// snapshot is complete (Progress.Done). Calls are serialized; the
	// callback should return quickly, as it holds up the calling stream.
	Progress func(Progress)

	// ProgressEvery is how many items a stream emits between Progress calls.
	// The default is 1000.
	ProgressEvery int

	// DropDangling makes Sync leave out, and count in Provenance.Dropped,
	// entitlements whose resource is absent and grants whose entitlement or
	// principal is absent, instead of failing. Use it for live systems that
	// change during a sync (a user created after the users stream passed
	// it, but before the memberships stream did). Duplicates, undeclared
	// types and ungrantable principals are errors either way.
	DropDangling bool

	// TimeBound marks time-bound grants: grant ID -> the time its access
	// ends (provision's time-bound grants know which they are; the system
	// does not). Sync sets each such grant's AttrExpiresAt attribute, which
	// the snapshot's hash covers and which Save and Load keep, so that
	// GrantRecord.ExpiresAt reports it and a plan leaves the grant alone
	// until it ends. A grant named here but not in the snapshot (revoked
	// since, or outside the backend's scope) is ignored: a mark describes a
	// grant, it does not make one. A key that is not a grant ID, or a zero
	// time, is an error before the sync starts.
	TimeBound map[string]time.Time
}

// Progress reports how far a sync has come.
type Progress struct {
	// Streams holds the counts of every stream, sorted by name. Streams not
	// started yet have zero counts.
	Streams []StreamProgress
	// Done is set on the final call, after the snapshot was assembled.
	Done bool
}

// StreamProgress counts the items a stream has emitted so far.
type StreamProgress struct {
	Name         string // the stream's name
	Resources    int    // resources emitted so far
	Entitlements int    // entitlements emitted so far
	Grants       int    // grants emitted so far
	// Done is set once the stream has returned.
	Done bool
	// Elapsed is the wall time the stream has run so far.
	Elapsed time.Duration
}

// Items returns the number of items of all kinds.
func (p StreamProgress) Items() int { return p.Resources + p.Entitlements + p.Grants }

// errNilRecord is returned by emit for a nil *ResourceRecord (or
// *EntitlementRecord, *GrantRecord) in an Item.
var errNilRecord = fmt.Errorf("access: item holds a nil record pointer: %w", ErrInvalidItem)

// errStreamClosed is returned by emit after its stream's Run has returned.
var errStreamClosed = errors.New("emit called after Run returned")

// Sync reads everything a backend holds into a Snapshot. It runs the
// backend's streams concurrently (at most opts.Concurrency at once), merges
// and sorts their items, checks them (see ConsistencyError) and hashes the
// result. A nil opts means the defaults.
//
// Syncing the same content twice with the same Now yields snapshots whose
// canonical encodings are identical (provenance included, provided the
// backend sends the same number of requests).
//
// If ctx is cancelled, every stream's emit fails, Sync waits for the streams
// to return and returns an error wrapping ctx.Err().
func Sync(ctx context.Context, b Backend, opts *SyncOptions) (*Snapshot, error) {
	var o SyncOptions
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}

	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 1000
	}
	if b == nil {
		return nil, errors.New("access: sync: nil backend")
	}
	if err := checkTimeBound(o.TimeBound); err != nil {
		return nil, fmt.Errorf("access: sync: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("access: sync: %w", err)
	}

	rc, counting := b.(RequestCounter)
	var requestsBefore int64
	if counting {
		requestsBefore = rc.Requests()
	}
	info, err := b.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("access: sync: info: %w", err)
	}
	where := info.Name + "/" + info.Account
	fail := func(err error) (*Snapshot, error) {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		}
		return nil, fmt.Errorf("access: sync %s: %w", where, err)
	}
	takenAt := o.Now().UTC().Round(0)

	streams, err := b.Streams(ctx)
	if err != nil {
		return fail(fmt.Errorf("streams: %w", err))
	}
	streams = slices.Clone(streams)
	slices.SortFunc(streams, func(a, b Stream) int { return strings.Compare(a.Name, b.Name) })
	for i, st := range streams {
		if st.Run == nil {
			return fail(fmt.Errorf("stream %q has no Run function", st.Name))
		}
		if i > 0 && st.Name == streams[i-1].Name {
			return fail(fmt.Errorf("two streams are named %q", st.Name))
		}
	}

	rep := &reporter{fn: o.Progress, every: o.ProgressEvery}
	cs := make([]*collector, len(streams))
	for i, st := range streams {
		cs[i] = &collector{stream: st, rep: rep}
	}
	rep.collectors = cs

	g, gctx := errgroup.WithContext(ctx)
	if o.Concurrency > 0 {
		g.SetLimit(o.Concurrency)
	}
	for _, c := range cs {
		g.Go(func() error { return c.run(gctx) })
	}
	if err := g.Wait(); err != nil {
		return fail(err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}

	// Merge the streams' items, releasing each stream's buffers as they are
	// copied so peak memory stays near one copy of the items.
	var nr, ne, ng int
	for _, c := range cs {
		nr += c.resources.n
		ne += c.entitlements.n
		ng += c.grants.n
	}
	res := make([]ResourceRecord, 0, nr)
	ents := make([]EntitlementRecord, 0, ne)
	grants := make([]GrantRecord, 0, ng)
	counts := make([]StreamCount, len(cs))
	for i, c := range cs {
		counts[i] = StreamCount{Name: c.stream.Name, Resources: c.resources.n, Entitlements: c.entitlements.n, Grants: c.grants.n}
		res = c.resources.moveTo(res)
		ents = c.entitlements.moveTo(ents)
		grants = c.grants.moveTo(grants)
	}

	markTimeBound(grants, o.TimeBound)
	s, dropped, err := assemble(info.ResourceTypes, res, ents, grants, o.DropDangling)
	if err != nil {
		return fail(err)
	}
	s.prov = Provenance{
		Backend: info.Name,
		Account: info.Account,
		TakenAt: takenAt,
		Scope:   maps.Clone(info.Scope),
		Streams: counts,
		Dropped: dropped,
	}
	if len(s.prov.Scope) == 0 {
		s.prov.Scope = nil
	}
	if counting {
		s.prov.Requests = rc.Requests() - requestsBefore
	}
	s.hash = s.computeHash()
	rep.final()
	return s, nil
}

// collector receives one stream's items.
type collector struct {
	stream Stream
	rep    *reporter

	mu           sync.Mutex
	closed       bool
	err          error // sticky: once emit fails, it keeps failing
	done         <-chan struct{}
	ctxErr       func() error
	resources    chunks[ResourceRecord]
	entitlements chunks[EntitlementRecord]
	grants       chunks[GrantRecord]
	sinceReport  int

	// Read by the reporter without mu.
	nr, ne, ng atomic.Int64
	started    atomic.Int64 // UnixNano
	elapsed    atomic.Int64 // nanoseconds, once finished
	finished   atomic.Bool
}

func (c *collector) run(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.done, c.ctxErr = ctx.Done(), ctx.Err
	c.mu.Unlock()
	c.started.Store(time.Now().UnixNano())
	err := c.stream.Run(ctx, c.emit)
	c.mu.Lock()
	c.closed = true
	if err == nil {
		err = c.err // a stream that ignored emit's error still fails
	}
	c.mu.Unlock()
	c.elapsed.Store(time.Now().UnixNano() - c.started.Load())
	c.finished.Store(true)
	if err != nil {
		return fmt.Errorf("stream %q: %w", c.stream.Name, err)
	}
	c.rep.report()
	return nil
}

func (c *collector) emit(it Item) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errStreamClosed
	}
	if c.err != nil {
		return c.err
	}
	select {
	case <-c.done:
		c.err = c.ctxErr()
		return c.err
	default:
	}
	if err := c.add(it); err != nil {
		c.err = err
		return err
	}
	c.sinceReport++
	if c.sinceReport >= c.rep.every {
		c.sinceReport = 0
		c.rep.report()
	}
	return nil
}

func (c *collector) add(it Item) error {
	n := 0
	if it.Resource != nil {
		n++
	}
	if it.Entitlement != nil {
		n++
	}
	if it.Grant != nil {
		n++
	}
	if n != 1 {
		return fmt.Errorf("access: item with %d of Resource, Entitlement and Grant set, want 1: %w", n, ErrInvalidItem)
	}
	// Records, and pointers to them, are copied without calling methods
	// through the interface.
	switch {
	case it.Resource != nil:
		var r ResourceRecord
		switch x := it.Resource.(type) {
		case ResourceRecord:
			r = x
		case *ResourceRecord:
			if x == nil {
				return errNilRecord
			}
			r = *x
		default:
			r = NewResource(x.ID(), x.DisplayName(), x.Attributes())
		}
		if err := checkResource(r); err != nil {
			return err
		}
		c.resources.add(r)
		c.nr.Add(1)
	case it.Entitlement != nil:
		var e EntitlementRecord
		switch x := it.Entitlement.(type) {
		case EntitlementRecord:
			e = x
		case *EntitlementRecord:
			if x == nil {
				return errNilRecord
			}
			e = *x
		default:
			e = NewEntitlement(x.ID(), x.DisplayName(), x.Purpose(), x.GrantableTo(), x.Attributes())
		}
		if err := checkEntitlement(e); err != nil {
			return err
		}
		c.entitlements.add(e)
		c.ne.Add(1)
	default:
		var g GrantRecord
		switch x := it.Grant.(type) {
		case GrantRecord:
			g = x
		case *GrantRecord:
			if x == nil {
				return errNilRecord
			}
			g = *x
		default:
			g = GrantRecord{id: x.ID(), name: x.DisplayName(), attrs: normAttrs(x.Attributes())}
		}
		if err := checkGrant(g); err != nil {
			return err
		}
		c.grants.add(g)
		c.ng.Add(1)
	}
	return nil
}

// chunks is an append-only list stored in chunks of growing size, so that
// collecting n items allocates about n items, where a slice grown by append
// allocates several times that.
type chunks[T any] struct {
	full [][]T
	cur  []T
	n    int
}

const maxChunk = 8192

func (c *chunks[T]) add(x T) {
	if len(c.cur) == cap(c.cur) {
		size := 64
		if c.cur != nil {
			c.full = append(c.full, c.cur)
			size = min(2*cap(c.cur), maxChunk)
		}
		c.cur = make([]T, 0, size)
	}
	c.cur = append(c.cur, x)
	c.n++
}

// moveTo appends the items to dst and releases the chunks.
func (c *chunks[T]) moveTo(dst []T) []T {
	for _, f := range c.full {
		dst = append(dst, f...)
	}
	dst = append(dst, c.cur...)
	c.full, c.cur = nil, nil
	return dst
}

// reporter serializes Progress calls.
type reporter struct {
	fn         func(Progress)
	every      int
	collectors []*collector
	mu         sync.Mutex
}

func (r *reporter) progress(done bool) Progress {
	p := Progress{Streams: make([]StreamProgress, len(r.collectors)), Done: done}
	now := time.Now().UnixNano()
	for i, c := range r.collectors {
		sp := StreamProgress{
			Name:         c.stream.Name,
			Resources:    int(c.nr.Load()),
			Entitlements: int(c.ne.Load()),
			Grants:       int(c.ng.Load()),
			Done:         c.finished.Load(),
		}
		if sp.Done {
			sp.Elapsed = time.Duration(c.elapsed.Load())
		} else if st := c.started.Load(); st != 0 {
			sp.Elapsed = time.Duration(now - st)
		}
		p.Streams[i] = sp
	}
	return p
}

func (r *reporter) report() {
	if r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fn(r.progress(false))
}

func (r *reporter) final() {
	if r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fn(r.progress(true))
}
