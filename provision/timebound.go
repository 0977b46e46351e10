package provision

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/internal/jobs"
	"github.com/zgov-io/zgov/internal/sqldb"
)

// Errors of TimeBound, for errors.Is.
var (
	// ErrTimeBoundInput means a time-bound request was malformed: no or
	// two ends given, a duration of zero or less, an end in the past, no
	// actor. Nothing was recorded or granted.
	ErrTimeBoundInput = errors.New("invalid time-bound request")
	// ErrTimeBoundOpen means the principal already has an open time-bound
	// grant of the entitlement: extend that one (the error names it).
	ErrTimeBoundOpen = errors.New("an open time-bound grant of this entitlement exists")
	// ErrTimeBoundUnknown means no time-bound grant has the ID.
	ErrTimeBoundUnknown = errors.New("no such time-bound grant")
	// ErrTimeBoundClosed means the grant has ended (or is ending) and can
	// no longer be extended or shortened.
	ErrTimeBoundClosed = errors.New("the time-bound grant has ended")
	// ErrTimeBoundConflict means a request reused the ID of a different
	// time-bound grant.
	ErrTimeBoundConflict = errors.New("the time-bound grant ID is taken by another request")
)

// TimeBoundState is where a time-bound grant is in its life.
type TimeBoundState string

// The states of a time-bound grant.
const (
	// TimeBoundPending: recorded, with its expiry scheduled; the grant is
	// being made (or the process making it died: the expiry still ends
	// it, and Grant with the same ID finishes it).
	TimeBoundPending TimeBoundState = "pending"
	// TimeBoundActive: granted; it ends at ExpiresAt.
	TimeBoundActive TimeBoundState = "active"
	// TimeBoundEnding: an expiry is revoking it now, or retrying a revoke
	// that failed.
	TimeBoundEnding TimeBoundState = "ending"
	// TimeBoundEnded: revoked at expiry or ended early.
	TimeBoundEnded TimeBoundState = "ended"
	// TimeBoundKept: ended, and the access was left in place because the
	// principal held it before the time-bound grant (standing access).
	TimeBoundKept TimeBoundState = "kept"
	// TimeBoundFailed: the revoke failed on every attempt, or a guard
	// refused it; Error says why and OnFailure was called. End tries again.
	TimeBoundFailed TimeBoundState = "failed"
	// TimeBoundGrantFailed: the grant itself failed; nothing is held and
	// nothing will be revoked. Error says why.
	TimeBoundGrantFailed TimeBoundState = "grant_failed"
)

// open reports whether a grant in state s may still be revoked by expiry.
func (s TimeBoundState) open() bool {
	return s == TimeBoundPending || s == TimeBoundActive || s == TimeBoundEnding
}

// TimeBoundRequest asks for an entitlement for a while. Give exactly one of
// For and Until.
type TimeBoundRequest struct {
	// ID, if set, identifies the grant and makes Grant idempotent: a
	// second Grant with the same ID and request returns the first grant
	// (finishing it if its process died). At most 64 bytes of letters,
	// digits, '-', '_' and '.'. Empty: Grant makes one up.
	ID string
	// PrincipalID and EntitlementID say who gets what, as for
	// access.System.Grant.
	PrincipalID   string
	EntitlementID string
	// For is how long the access lasts, from now.
	For time.Duration
	// Until is when the access ends.
	Until time.Time
	// Actor is who asked and why (Who is required). Source defaults to
	// "timebound:" and the grant's ID.
	Actor JournalActor
}

// TimeBoundGrant is a time-bound grant as recorded.
type TimeBoundGrant struct {
	ID            string
	PrincipalID   string
	EntitlementID string
	// Actor is who asked for it and why.
	Actor JournalActor
	// Standing is true when the principal held the entitlement before the
	// time-bound grant: its expiry then leaves the access in place.
	Standing bool
	State    TimeBoundState
	// CreatedAt and ExpiresAt are when it was asked for and when it ends
	// (as extended or shortened since).
	CreatedAt time.Time
	ExpiresAt time.Time
	// EndedAt and EndedBy say when and how it ended: "expiry", or "end:"
	// and who ended it early.
	EndedAt time.Time
	EndedBy string
	// Replaced lists the entitlements the grant took away (an exclusive
	// organization or custom role, another built-in role), which the
	// expiry gives back.
	Replaced []string
	// Failures counts the grant and revoke attempts that failed; Error is
	// the last failure.
	Failures int
	Error    string

	asked      string    // the end as asked: "for:<ms>" or "until:<ms>"
	claimUntil time.Time // until when a call or job holds the grant
}

// GrantID returns the access grant ID, "entitlementID@principalID".
func (g TimeBoundGrant) GrantID() string { return access.GrantID(g.EntitlementID, g.PrincipalID) }

// TimeBoundOptions configures TimeBound. The zero value is valid.
type TimeBoundOptions struct {
	// Notices are how long before expiry OnNotice is called for each open
	// grant (e.g. 24h and 1h: a platform offers an extension). They are
	// scheduled by the process that grants or extends (its Notices count);
	// a notice whose time has passed by then is not sent.
	Notices []time.Duration
	// OnNotice is called once per grant and notice, by the worker (Run)
	// that runs the notice's job: set it on the workers. An error makes the
	// worker try again later. A worker without it logs the notice.
	OnNotice func(ctx context.Context, g TimeBoundGrant, before time.Duration) error
	// OnFailure is called, by a worker, when a revoke has failed on every
	// attempt or a guard refused it (the grant is then TimeBoundFailed,
	// and the journal holds every failed attempt): an IGA platform pages
	// someone.
	OnFailure func(ctx context.Context, g TimeBoundGrant, err error)
	// MaxAttempts is how many times an expiry's revoke is tried before it
	// is reported failed; 0 means 8.
	MaxAttempts int
	// Backoff is how long to wait before attempt n+1 after attempt n
	// failed; nil means River's default (n⁴ seconds, with jitter).
	Backoff func(attempt int) time.Duration
	// SweepInterval is how often each worker (Run) looks for grants past
	// their expiry that no expiry job ended (a lost job, a worker that
	// died, a database restored from a backup) and schedules an expiry for
	// them; 0 means one minute. Every worker sweeps, so the sweep goes on
	// while any worker lives.
	SweepInterval time.Duration
	// Workers is how many expiry and notice jobs a process runs at once; 0
	// means 10.
	Workers int
	// Guards are checked before every grant and revoke (see Do): the
	// owner, the last admin, zgov's own user and Protected are never
	// touched. The blast-radius caps apply to grants (one that replaces
	// another access), never to expiries: an expiry takes back what a
	// time-bound grant gave, and a cap would leave the access in place.
	Guards Guards
	// Logger receives the worker's and River's logs; nil discards them.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now. (River schedules
	// by the database's clock.)
	Now func() time.Time
}

// TimeBound grants access for a while and ends it when the time is up,
// even if the process that granted it died in between. Its records and
// their expiry jobs are in a Store's database (SQLite or PostgreSQL), and
// the jobs run on River: Run works them, in this process or in any number
// of others sharing the database, and each expiry runs once.
//
// Grants and revokes go through Do: guards first, every change journaled,
// bulk endpoints where the backend has them.
type TimeBound struct {
	db    *sqldb.DB
	sys   *access.System
	j     *Journal
	opts  TimeBoundOptions
	now   func() time.Time
	log   *slog.Logger
	queue *jobs.Queue
}

// The timing of expiry jobs.
const (
	// expiryLead is how long before a grant's expiry its job is scheduled:
	// River makes scheduled jobs available every 5 s, and the job waits
	// out the rest, so that it runs at the expiry, not up to 5 s after.
	expiryLead = 5 * time.Second
	// expiryTimeout bounds one run of an expiry job; a job cut short is
	// retried, and goes on with the grants it claimed.
	expiryTimeout = 30 * time.Minute
	// claimLease is how long a claim on a grant holds (an expiry job's, or
	// the granting call's): past it, the sweep gives the grant to another
	// job (its job died). One batch of claimBatch revokes, one at a time
	// where Zendesk has no bulk endpoint, takes 5 minutes at 200 requests
	// a minute.
	claimLease = 10 * time.Minute
	// claimBatch is how many grants one expiry claims and revokes at once.
	claimBatch = 500
	// timeBoundQueue is the River queue of time-bound jobs.
	timeBoundQueue = "zgov_timebound"
)

// NewTimeBound returns a TimeBound keeping its records in store, changing
// access through sys and journaling in j. It sets up River's tables in the
// store's database if they are missing.
func NewTimeBound(ctx context.Context, store *Store, sys *access.System, j *Journal, opts *TimeBoundOptions) (*TimeBound, error) {
	if store == nil || sys == nil || j == nil {
		return nil, errors.New("provision: time-bound: nil Store, System or Journal")
	}
	tb := &TimeBound{db: store.db, sys: sys, j: j}
	if opts != nil {
		tb.opts = *opts
	}
	o := &tb.opts
	switch {
	case o.MaxAttempts < 0, o.SweepInterval < 0, o.Workers < 0:
		return nil, fmt.Errorf("provision: time-bound: negative MaxAttempts, SweepInterval or Workers: %w", ErrTimeBoundInput)
	}
	for _, d := range o.Notices {
		if d <= 0 {
			return nil, fmt.Errorf("provision: time-bound: notice %v before expiry: want a positive duration: %w", d, ErrTimeBoundInput)
		}
	}
	if err := o.Guards.Validate(); err != nil {
		return nil, fmt.Errorf("provision: time-bound: %w", err)
	}
	o.MaxAttempts = cmp.Or(o.MaxAttempts, 8)
	o.SweepInterval = cmp.Or(o.SweepInterval, time.Minute)
	o.Workers = cmp.Or(o.Workers, 10)
	tb.now = o.Now
	if tb.now == nil {
		tb.now = time.Now
	}
	tb.log = o.Logger
	if tb.log == nil {
		tb.log = slog.New(slog.DiscardHandler)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &expireWorker{tb: tb})
	river.AddWorker(workers, &noticeWorker{tb: tb})
	cfg := &river.Config{
		Logger:               tb.log,
		MaxAttempts:          o.MaxAttempts,
		Queues:               map[string]river.QueueConfig{timeBoundQueue: {MaxWorkers: o.Workers}},
		Workers:              workers,
		JobTimeout:           time.Minute, // notices; expiries set their own
		RescueStuckJobsAfter: expiryTimeout + time.Minute,
		FetchPollInterval:    500 * time.Millisecond,
	}
	if o.Backoff != nil {
		cfg.RetryPolicy = backoffPolicy(o.Backoff)
	}
	q, err := jobs.New(ctx, tb.db, cfg)
	if err != nil {
		return nil, fmt.Errorf("provision: time-bound: %w", err)
	}
	tb.queue = q
	return tb, nil
}

// backoffPolicy is a River retry policy from a backoff function.
type backoffPolicy func(attempt int) time.Duration

func (b backoffPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(b(job.Attempt))
}

// Grant records a time-bound grant with its expiry job, in one
// transaction, and then grants the entitlement through Do (guards, journal
// under the ID "timebound/<id>/grant"). If the principal already holds the
// entitlement, the grant is recorded as Standing and expiry will leave the
// access in place.
//
// The record comes first: if the grant fails, the record says so
// (TimeBoundGrantFailed, which no expiry touches) and the error is returned
// with it. While the grant is being made (TimeBoundPending) no expiry
// revokes it, for up to ten minutes: a revoke sent before the grant lands
// would leave the access in place. If the process dies before the grant is
// made, the expiry ends the grant once those minutes are up, and Grant
// again with the same ID finishes it (after them).
func (tb *TimeBound) Grant(ctx context.Context, req TimeBoundRequest) (TimeBoundGrant, error) {
	now := tb.now()
	g, err := tb.checkRequest(ctx, req, now)
	if err != nil {
		return TimeBoundGrant{}, err
	}
	for {
		existing, err := tb.Get(ctx, g.ID)
		if err == nil {
			return tb.again(ctx, existing, g)
		}
		if !errors.Is(err, ErrTimeBoundUnknown) {
			return TimeBoundGrant{}, err
		}
		if g.Standing, err = tb.standing(ctx, g); err != nil {
			return TimeBoundGrant{}, err
		}
		err = tb.insert(ctx, g)
		if errors.Is(err, errIDTaken) {
			continue // a Grant with the same ID, at the same time, recorded it first
		}
		if err != nil {
			return TimeBoundGrant{}, err
		}
		return tb.carryGrant(ctx, g, true)
	}
}

// standing reports whether g's principal holds its entitlement as standing
// access: held now, and not left behind by an earlier time-bound grant whose
// revoke failed.
func (tb *TimeBound) standing(ctx context.Context, g TimeBoundGrant) (bool, error) {
	held, err := tb.holds(ctx, g)
	if err != nil || !held {
		return false, err
	}
	failed, err := tb.query(ctx, tb.db.SQL, `WHERE grant_id = ? AND state = 'failed' LIMIT 1`, g.GrantID())
	if err != nil {
		return false, err
	}
	return len(failed) == 0, nil
}

// holds reports whether g's principal holds g's entitlement now.
func (tb *TimeBound) holds(ctx context.Context, g TimeBoundGrant) (bool, error) {
	held, err := tb.sys.GrantsFor(ctx, g.PrincipalID)
	if err != nil {
		return false, fmt.Errorf("provision: time-bound grant: %w", err)
	}
	return slices.ContainsFunc(held, func(h access.Grant) bool { return h.ID() == g.GrantID() }), nil
}

// again answers a Grant whose ID is recorded as existing: a different
// request is a conflict; the same request gets the grant, once it is made.
func (tb *TimeBound) again(ctx context.Context, existing, g TimeBoundGrant) (TimeBoundGrant, error) {
	if existing.PrincipalID != g.PrincipalID || existing.EntitlementID != g.EntitlementID || existing.Actor != g.Actor || existing.asked != g.asked {
		return existing, fmt.Errorf("provision: time-bound grant %s: %w", g.ID, ErrTimeBoundConflict)
	}
	waitUntil := time.Now().Add(30 * time.Second)
	for existing.State == TimeBoundPending {
		// Another call is making the grant: wait for it (for 30 s at most),
		// or take over once its lease has run out (it died).
		if !existing.claimUntil.After(tb.now()) {
			return tb.carryGrant(ctx, existing, false)
		}
		if time.Now().After(waitUntil) {
			return existing, fmt.Errorf("provision: time-bound grant %s is being granted by another call, whose claim runs out at %s: ask again then: %w",
				g.ID, existing.claimUntil.Format(time.RFC3339), ErrTimeBoundConflict)
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return existing, fmt.Errorf("provision: time-bound grant %s: %w", g.ID, err)
		}
		var err error
		if existing, err = tb.Get(ctx, g.ID); err != nil {
			return existing, err
		}
	}
	if existing.State != TimeBoundGrantFailed {
		return existing, nil
	}
	// The grant failed: try again while the time asked for lasts.
	now := tb.now()
	if !existing.ExpiresAt.After(now) {
		return existing, fmt.Errorf("provision: time-bound grant %s failed (%s) and its time is over: %w", g.ID, existing.Error, ErrTimeBoundClosed)
	}
	res, err := tb.db.SQL.ExecContext(ctx, tb.db.Rebind(`UPDATE zgov_timebound SET state = 'pending', claim_until_ms = ?
		WHERE id = ? AND state = 'grant_failed'`), now.Add(claimLease).UnixMilli(), g.ID)
	if err != nil {
		return existing, fmt.Errorf("provision: time-bound grant %s: %w", g.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Another call is retrying it: wait for that one.
		if existing, err = tb.Get(ctx, g.ID); err != nil {
			return existing, err
		}
		return tb.again(ctx, existing, g)
	}
	existing.State = TimeBoundPending
	return tb.carryGrant(ctx, existing, true)
}

// checkRequest validates req and returns the grant it asks for.
func (tb *TimeBound) checkRequest(ctx context.Context, req TimeBoundRequest, now time.Time) (TimeBoundGrant, error) {
	bad := func(format string, args ...any) (TimeBoundGrant, error) {
		return TimeBoundGrant{}, fmt.Errorf("provision: time-bound grant: "+format+": %w", append(args, ErrTimeBoundInput)...)
	}
	var expires time.Time
	switch {
	case req.For != 0 && !req.Until.IsZero():
		return bad("give For or Until, not both")
	case req.For < 0 || req.For == 0 && req.Until.IsZero():
		if req.For < 0 {
			return bad("a duration of %v: want a positive duration", req.For)
		}
		return bad("no duration: give For (a positive duration) or Until")
	case req.For > 0:
		expires = now.Add(req.For)
	default:
		if !req.Until.After(now) {
			return bad("the end %s is not in the future", req.Until.UTC().Format(time.RFC3339))
		}
		expires = req.Until
	}
	if expires.Sub(now) > maxTimeBound {
		return bad("an end more than ten years away is not time-bound: grant standing access instead")
	}
	if req.Actor.Who == "" {
		return bad("no actor: say who asked (Actor.Who)")
	}
	id := req.ID
	if id == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = "tb-" + hex.EncodeToString(b[:])
	} else if !validTimeBoundID(id) {
		return bad("ID %q: want at most 64 letters, digits, '-', '_' or '.'", id)
	}
	actor := req.Actor
	if actor.Source == "" {
		actor.Source = "timebound:" + id
	}
	if err := actor.validate(); err != nil {
		return TimeBoundGrant{}, fmt.Errorf("provision: time-bound grant: %w", err)
	}
	if _, err := tb.sys.CheckRequest(ctx, req.EntitlementID, req.PrincipalID); err != nil {
		return TimeBoundGrant{}, fmt.Errorf("provision: time-bound grant: %w", err)
	}
	asked := "for:" + strconv.FormatInt(req.For.Milliseconds(), 10)
	if req.For == 0 {
		asked = "until:" + strconv.FormatInt(req.Until.UnixMilli(), 10)
	}
	return TimeBoundGrant{ID: id, PrincipalID: req.PrincipalID, EntitlementID: req.EntitlementID,
		Actor: actor, State: TimeBoundPending, CreatedAt: now.UTC().Truncate(time.Millisecond),
		ExpiresAt: expires.UTC().Truncate(time.Millisecond), asked: asked}, nil
}

func validTimeBoundID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if !('a' <= c|0x20 && c|0x20 <= 'z') && !('0' <= c && c <= '9') && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// maxTimeBound is the longest a time-bound grant may last.
const maxTimeBound = 10 * 365 * 24 * time.Hour

// unknownID is the error for an ID no grant can have.
func unknownID(id string) error {
	return fmt.Errorf("provision: time-bound grant %q: %w", id, ErrTimeBoundUnknown)
}

// errIDTaken: insert found the grant's ID recorded (by a concurrent call).
var errIDTaken = errors.New("the time-bound grant ID is recorded")

// windowOf is the second a grant expiring at t is ended in: t rounded up.
func windowOf(t time.Time) int64 {
	s := t.Unix()
	if t.After(time.Unix(s, 0)) {
		s++
	}
	return s
}

// insert records g and schedules its expiry and notices, in one
// transaction.
func (tb *TimeBound) insert(ctx context.Context, g TimeBoundGrant) error {
	actor, err := json.Marshal(g.Actor)
	if err != nil {
		return err
	}
	err = tb.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, tb.db.Rebind(`INSERT INTO zgov_timebound
			(id, principal_id, entitlement_id, grant_id, actor, standing, state, created_ms, expires_ms, window_s, claim_until_ms, asked)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			g.ID, g.PrincipalID, g.EntitlementID, g.GrantID(), string(actor), boolInt(g.Standing), string(g.State),
			g.CreatedAt.UnixMilli(), g.ExpiresAt.UnixMilli(), windowOf(g.ExpiresAt), g.CreatedAt.Add(claimLease).UnixMilli(), g.asked)
		if err != nil {
			return err
		}
		return tb.schedule(ctx, tx, g)
	})
	if !sqldb.IsUniqueViolation(err) {
		if err != nil {
			return fmt.Errorf("provision: time-bound grant: record: %w", err)
		}
		return nil
	}
	// The ID is taken, or the principal has an open grant of the
	// entitlement: say which (the transaction rolled back whole).
	if _, gerr := tb.Get(ctx, g.ID); gerr == nil {
		return errIDTaken
	}
	open, qerr := tb.query(ctx, tb.db.SQL, `WHERE grant_id = ? AND state IN ('pending', 'active', 'ending')`, g.GrantID())
	if qerr != nil || len(open) == 0 {
		return fmt.Errorf("provision: time-bound grant of %s: %w", g.GrantID(), ErrTimeBoundOpen)
	}
	return fmt.Errorf("provision: time-bound grant of %s: %s, until %s: %w", g.GrantID(), open[0].ID,
		open[0].ExpiresAt.Format(time.RFC3339), ErrTimeBoundOpen)
}

// schedule inserts, in tx, the expiry job of g's window and its notices.
func (tb *TimeBound) schedule(ctx context.Context, tx *sql.Tx, g TimeBoundGrant) error {
	w := windowOf(g.ExpiresAt)
	now := tb.now()
	if _, err := tb.queue.InsertTx(ctx, tx, expireArgs{Window: w}, expireOpts(time.Unix(w, 0).Add(-expiryLead), now)); err != nil {
		return fmt.Errorf("provision: time-bound grant: schedule its expiry: %w", err)
	}
	for _, before := range tb.opts.Notices {
		at := g.ExpiresAt.Add(-before)
		if !at.After(now) {
			continue
		}
		// Like an expiry, a notice is scheduled early and waits.
		args := noticeArgs{ID: g.ID, ExpiresMs: g.ExpiresAt.UnixMilli(), BeforeMs: before.Milliseconds()}
		opts := &river.InsertOpts{Queue: timeBoundQueue, UniqueOpts: river.UniqueOpts{ByArgs: true}}
		if early := at.Add(-expiryLead); early.After(now) {
			opts.ScheduledAt = early
		}
		if _, err := tb.queue.InsertTx(ctx, tx, args, opts); err != nil {
			return fmt.Errorf("provision: time-bound grant: schedule its notice: %w", err)
		}
	}
	return nil
}

// carryGrant makes the grant g records, through Do, and records how it
// went.
func (tb *TimeBound) carryGrant(ctx context.Context, g TimeBoundGrant, inserted bool) (TimeBoundGrant, error) {
	// While the grant is pending, the call granting holds it for
	// claimLease from the insert: an expiry does not revoke it meanwhile
	// (and then see the grant land after its revoke). A Grant again after
	// a crash takes the lease anew, once the old one has run out.
	now := tb.now()
	var n int64 = 1
	if !inserted {
		res, err := tb.db.SQL.ExecContext(ctx, tb.db.Rebind(`UPDATE zgov_timebound SET claim_until_ms = ?
			WHERE id = ? AND state = 'pending' AND claim_until_ms < ?`),
			now.Add(claimLease).UnixMilli(), g.ID, now.UnixMilli())
		if err != nil {
			return g, fmt.Errorf("provision: time-bound grant %s: %w", g.ID, err)
		}
		n, _ = res.RowsAffected()
	}
	if n == 0 {
		got, err := tb.Get(ctx, g.ID)
		if err != nil {
			return g, err
		}
		if got.State == TimeBoundPending {
			return got, fmt.Errorf("provision: time-bound grant %s is being granted by another call: %w", g.ID, ErrTimeBoundConflict)
		}
		return got, nil
	}
	c := Change{ID: "grant " + g.GrantID(), Kind: ChangeGrant, PrincipalID: g.PrincipalID, EntitlementID: g.EntitlementID}
	id := "timebound/" + g.ID + "/grant"
	if g.Failures > 0 {
		id += "/retry-" + strconv.Itoa(g.Failures)
	}
	rep, err := Do(ctx, tb.sys, tb.j, []Change{c}, &DoOptions{Actor: g.Actor, JournalIDs: []string{id}, Guards: tb.opts.Guards})
	if err != nil {
		// Nothing was journaled or changed: the grant failed.
		if _, uerr := tb.db.SQL.ExecContext(ctx, tb.db.Rebind(`UPDATE zgov_timebound SET state = 'grant_failed', failures = failures + 1, error = ? WHERE id = ? AND state = 'pending'`),
			err.Error(), g.ID); uerr != nil {
			return g, fmt.Errorf("provision: time-bound grant %s: %w (and recording it: %w)", g.ID, err, uerr)
		}
		got, _ := tb.Get(ctx, g.ID)
		return got, fmt.Errorf("provision: time-bound grant %s: %w", g.ID, err)
	}
	r := rep.Results[0]
	next, msg, failed := TimeBoundActive, "", 0
	var replaced []string
	if r.Outcome != nil {
		for _, gid := range r.Outcome.Replaced {
			if ref, err := access.ParseGrantID(gid); err == nil && ref.Principal.String() == g.PrincipalID {
				replaced = append(replaced, ref.Entitlement.String())
			}
		}
	}
	if r.State != StateApplied && r.State != StateDone {
		// The grant failed, or its answer was lost: what Zendesk holds now
		// decides. Held, it is active (the expiry revokes it); not held, it
		// failed; unknown, it is active too, since revoking what is not
		// held is harmless and leaving what is held is not.
		msg, failed = errString(r.Err), 1
		if held, herr := tb.holds(ctx, g); herr == nil && !held {
			next = TimeBoundGrantFailed
		}
	}
	rj, _ := json.Marshal(replaced)
	if replaced == nil {
		rj = nil
	}
	// Only a pending grant moves on: an expiry that ended it meanwhile wins.
	_, err = tb.db.SQL.ExecContext(ctx, tb.db.Rebind(`UPDATE zgov_timebound SET state = ?, error = ?, failures = failures + ?, replaced = ?
		WHERE id = ? AND state = 'pending'`), string(next), msg, failed, string(rj), g.ID)
	if err != nil {
		return g, fmt.Errorf("provision: time-bound grant %s: record the grant: %w", g.ID, err)
	}
	got, gerr := tb.Get(ctx, g.ID)
	if gerr != nil {
		return g, gerr
	}
	if next == TimeBoundGrantFailed {
		return got, fmt.Errorf("provision: time-bound grant %s: %w", g.ID, r.Err)
	}
	return got, nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Extend moves the end of an open time-bound grant to until, later or
// earlier (until must be in the future: End ends it now). The new expiry
// job and notices are scheduled in the same transaction; the old job finds
// nothing to do.
func (tb *TimeBound) Extend(ctx context.Context, id string, until time.Time) (TimeBoundGrant, error) {
	if !validTimeBoundID(id) {
		return TimeBoundGrant{}, unknownID(id)
	}
	now := tb.now()
	if !until.After(now) {
		return TimeBoundGrant{}, fmt.Errorf("provision: time-bound grant %s: the new end %s is not in the future (End ends it now): %w",
			id, until.UTC().Format(time.RFC3339), ErrTimeBoundInput)
	}
	if until.Sub(now) > maxTimeBound {
		return TimeBoundGrant{}, fmt.Errorf("provision: time-bound grant %s: an end more than ten years away is not time-bound: %w", id, ErrTimeBoundInput)
	}
	until = until.UTC().Truncate(time.Millisecond)
	err := tb.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, tb.db.Rebind(`UPDATE zgov_timebound SET expires_ms = ?, window_s = ?
			WHERE id = ? AND state IN ('pending', 'active')`), until.UnixMilli(), windowOf(until), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			g, err := tb.getTx(ctx, tx, id)
			if err != nil {
				return err
			}
			return fmt.Errorf("provision: time-bound grant %s is %s: %w", id, g.State, ErrTimeBoundClosed)
		}
		g, err := tb.getTx(ctx, tx, id)
		if err != nil {
			return err
		}
		return tb.schedule(ctx, tx, g)
	})
	if err != nil {
		return TimeBoundGrant{}, err
	}
	return tb.Get(ctx, id)
}

// End ends an open time-bound grant now, in this process, and returns it as
// it ended (TimeBoundEnded, TimeBoundKept, or TimeBoundFailed with the
// error). A grant that failed earlier is tried again.
func (tb *TimeBound) End(ctx context.Context, id string, actor JournalActor) (TimeBoundGrant, error) {
	if !validTimeBoundID(id) {
		return TimeBoundGrant{}, unknownID(id)
	}
	if actor.Who == "" {
		return TimeBoundGrant{}, fmt.Errorf("provision: end time-bound grant %s: no actor: say who ends it: %w", id, ErrTimeBoundInput)
	}
	if actor.Source == "" {
		actor.Source = "timebound:" + id
	}
	if err := actor.validate(); err != nil {
		return TimeBoundGrant{}, fmt.Errorf("provision: end time-bound grant %s: %w", id, err)
	}
	now := tb.now()
	res, err := tb.db.SQL.ExecContext(ctx, tb.db.Rebind(`UPDATE zgov_timebound
		SET state = 'ending', claim_job = -1, claim_until_ms = ?, ended_by = ?
		WHERE id = ? AND (state IN ('active', 'failed') OR (state IN ('pending', 'ending') AND claim_until_ms < ?))`),
		now.Add(claimLease).UnixMilli(), "end:"+actor.Who, id, now.UnixMilli())
	if err != nil {
		return TimeBoundGrant{}, fmt.Errorf("provision: end time-bound grant %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		g, err := tb.Get(ctx, id)
		if err != nil {
			return TimeBoundGrant{}, err
		}
		return g, fmt.Errorf("provision: end time-bound grant %s: it is %s: %w", id, g.State, ErrTimeBoundClosed)
	}
	g, err := tb.Get(ctx, id)
	if err != nil {
		return TimeBoundGrant{}, err
	}
	if err := tb.revoke(ctx, []TimeBoundGrant{g}, actor, 1, 1); err != nil {
		return TimeBoundGrant{}, err
	}
	g, err = tb.Get(ctx, id)
	if err != nil {
		return TimeBoundGrant{}, err
	}
	if g.State == TimeBoundFailed {
		return g, fmt.Errorf("provision: end time-bound grant %s: %s", id, g.Error)
	}
	return g, nil
}

// Get returns the time-bound grant with the ID.
func (tb *TimeBound) Get(ctx context.Context, id string) (TimeBoundGrant, error) {
	if !validTimeBoundID(id) {
		return TimeBoundGrant{}, unknownID(id)
	}
	return tb.getTx(ctx, tb.db.SQL, id)
}

// rowsQuerier is a *sql.DB or a *sql.Tx.
type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (tb *TimeBound) getTx(ctx context.Context, q rowsQuerier, id string) (TimeBoundGrant, error) {
	rows, err := tb.query(ctx, q, `WHERE id = ?`, id)
	if err != nil {
		return TimeBoundGrant{}, err
	}
	if len(rows) == 0 {
		return TimeBoundGrant{}, fmt.Errorf("provision: time-bound grant %q: %w", id, ErrTimeBoundUnknown)
	}
	return rows[0], nil
}

// List returns the time-bound grants in the given states (all if none),
// by expiry.
func (tb *TimeBound) List(ctx context.Context, states ...TimeBoundState) ([]TimeBoundGrant, error) {
	if len(states) == 0 {
		return tb.query(ctx, tb.db.SQL, `ORDER BY expires_ms, id`)
	}
	marks := strings.Repeat("?, ", len(states))
	args := make([]any, len(states))
	for i, s := range states {
		args[i] = string(s)
	}
	return tb.query(ctx, tb.db.SQL, `WHERE state IN (`+marks[:len(marks)-2]+`) ORDER BY expires_ms, id`, args...)
}

// Marks returns, for every open time-bound grant that is not standing, its
// grant ID and expiry: pass it as access.SyncOptions.TimeBound, so that the
// snapshot marks those grants and plans treat them as held until expiry.
func (tb *TimeBound) Marks(ctx context.Context) (map[string]time.Time, error) {
	gs, err := tb.List(ctx, TimeBoundPending, TimeBoundActive, TimeBoundEnding)
	if err != nil {
		return nil, err
	}
	m := make(map[string]time.Time, len(gs))
	for _, g := range gs {
		if !g.Standing {
			m[g.GrantID()] = g.ExpiresAt
		}
	}
	return m, nil
}

const timeBoundColumns = `id, principal_id, entitlement_id, actor, standing, state, created_ms, expires_ms, ended_ms, ended_by, failures, error, asked, claim_until_ms, replaced`

// query reads grants: "SELECT columns FROM zgov_timebound " + where.
func (tb *TimeBound) query(ctx context.Context, q rowsQuerier, where string, args ...any) ([]TimeBoundGrant, error) {
	rows, err := q.QueryContext(ctx, tb.db.Rebind(`SELECT `+timeBoundColumns+` FROM zgov_timebound `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("provision: time-bound grants: %w", err)
	}
	defer rows.Close()
	var out []TimeBoundGrant
	for rows.Next() {
		var g TimeBoundGrant
		var actor, state, replaced string
		var standing, created, expires, ended, failures, claim int64
		if err := rows.Scan(&g.ID, &g.PrincipalID, &g.EntitlementID, &actor, &standing, &state, &created, &expires, &ended, &g.EndedBy,
			&failures, &g.Error, &g.asked, &claim, &replaced); err != nil {
			return nil, fmt.Errorf("provision: time-bound grants: %w", err)
		}
		if replaced != "" {
			if err := json.Unmarshal([]byte(replaced), &g.Replaced); err != nil {
				return nil, fmt.Errorf("provision: time-bound grant %s: what it replaced: %w", g.ID, err)
			}
		}
		g.claimUntil = time.UnixMilli(claim).UTC()
		if err := json.Unmarshal([]byte(actor), &g.Actor); err != nil {
			return nil, fmt.Errorf("provision: time-bound grant %s: its actor: %w", g.ID, err)
		}
		g.Standing, g.State, g.Failures = standing != 0, TimeBoundState(state), int(failures)
		g.CreatedAt, g.ExpiresAt = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
		if ended != 0 {
			g.EndedAt = time.UnixMilli(ended).UTC()
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("provision: time-bound grants: %w", err)
	}
	return out, nil
}

// inTx runs f in a transaction and commits it if f returns nil.
func (tb *TimeBound) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := tb.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("provision: time-bound: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("provision: time-bound: commit: %w", err)
	}
	return nil
}
