package provision

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/zgov-io/zgov/access"
)

// ErrApplyRunning means a plan is being applied through the same Journal
// already: a second run would take the first's changes in flight for
// interrupted ones and carry them out again. Runs in several processes must
// be kept apart by the caller: apply a plan from one process at a time (a
// job queue's unique jobs do that).
var ErrApplyRunning = errors.New("the plan is being applied already")

// journalGrace is how long Apply may take to journal a change that
// happened after its context was cancelled.
const journalGrace = 10 * time.Second

// ChangeState says how Apply (or Do) left a change.
type ChangeState string

// The states of a ChangeResult.
const (
	// StateApplied: Apply (or Do) carried the change out.
	StateApplied ChangeState = "applied"
	// StateDone: the change needed no work: the journal shows it finished
	// by an earlier run, or the principal already was in the planned end
	// state (Zendesk answered "already granted", "already revoked", "exists",
	// "unchanged").
	StateDone ChangeState = "done"
	// StateStale: the principal's access changed since the plan was made
	// (by someone else) and the change is not already in effect: it was
	// skipped. Plan again. (Also a change another run, of Apply or Do, is
	// carrying out at the same time: that run finishes it.)
	StateStale ChangeState = "stale"
	// StateBlocked: a guard refused the change, when it was planned or
	// when Apply or Do checked it.
	StateBlocked ChangeState = "blocked"
	// StateFailed: the change was attempted and failed; Err says why.
	StateFailed ChangeState = "failed"
)

// ChangeResult is how Apply left one change of a plan, or Do one change
// given to it.
type ChangeResult struct {
	// Change is the planned change (for Do, the change given, with its ID
	// and Removes filled in).
	Change Change
	// JournalID is the change's ID in the journal.
	JournalID string
	// State says what Apply did with it.
	State ChangeState
	// Outcome is what the journal recorded as the change's outcome (for
	// StateApplied, StateDone and StateFailed when the change ran).
	Outcome *JournalOutcome
	// Err is why the change failed, or why it was skipped.
	Err error
}

// ApplyReport is the outcome of Apply or Do: a result per change, in plan
// order (or the order given to Do), and their counts.
type ApplyReport struct {
	Results []ChangeResult
	// Counts by state.
	Applied, Done, Stale, Blocked, Failed int
}

// ApplyProgress reports how far Apply has come.
type ApplyProgress struct {
	// Phase is "check", "create", "grant", "revoke" or "deprovision".
	Phase string
	// Done and Total count the changes of the phase.
	Done, Total int
}

// ApplyOptions configures Apply.
type ApplyOptions struct {
	// Actor is who applies the plan and why; it is journaled with every
	// change. Actor.Source defaults to "plan:" and the plan's hash.
	Actor JournalActor
	// Progress, if set, is called as changes finish, from one goroutine
	// at a time.
	Progress func(ApplyProgress)
}

// Apply carries out a plan through sys, journaling every change in j
// before it runs (Begin) and when it ends (Finish). It refuses to start, with
// an error and nothing written, if the plan is for another account
// (Plan.CheckAccount) or a blast-radius cap refused it (Plan.Guards.Run: plan
// again with the caps raised). Changes a guard blocked are skipped.
//
// Before changing a principal, Apply checks that its access is still what
// the plan saw: the Basis of each principal, read for all of them at once
// through the backend's access.PrincipalReader (Zendesk: 100 users a
// request), must equal the plan's. A principal that drifted has its changes
// compared one by one with its access now (GrantsFor). If exactly a prefix
// of them is in effect, including one that moves the basis (a role change, a
// deprovisioning step), the drift is what an earlier run of this plan did:
// the prefix is StateDone and the rest goes ahead. Otherwise someone else
// changed the principal: a change already in effect is StateDone, any other
// StateStale, skipped.
//
// Apply is resumable: every change has a journal ID derived from the plan's
// hash and the change's ID. A change the journal shows finished is StateDone
// without any request; one the journal shows started but never finished (the
// process died) is carried out again, idempotently, and finished; and a
// principal whose drift is the plan's own doing (the journal holds one of its
// changes) is not stale. So a run killed at any point and run again
// converges, with no change done twice and none lost.
//
// Changes run in phases, each through the backend's bulk capabilities where
// it has them (access.BulkAccountCreator, access.BulkChanger): account
// creations, then grants (built-in roles first, then custom roles,
// organizations, groups: a group needs an agent), then revokes, then
// deprovisioning steps in ladder order. The error return is for a run that
// could not start or was cut short (ctx, a journal failure); the changes
// that failed are in the report.
func Apply(ctx context.Context, sys *access.System, j *Journal, plan *Plan, opts *ApplyOptions) (*ApplyReport, error) {
	if sys == nil || j == nil || plan == nil {
		return nil, errors.New("provision: apply: nil System, Journal or Plan")
	}
	var o ApplyOptions
	if opts != nil {
		o = *opts
	}
	if err := plan.Validate(); err != nil {
		return nil, fmt.Errorf("provision: apply: %w", err)
	}
	hash, err := plan.contentHash()
	if err != nil {
		return nil, fmt.Errorf("provision: apply: %w", err)
	}
	if plan.Hash != "" && plan.Hash != hash {
		return nil, fmt.Errorf("provision: apply: %w", &PlanModifiedError{Recorded: plan.Hash, Computed: hash})
	}
	if o.Actor.Source == "" {
		o.Actor.Source = "plan:" + hash[:16]
	}
	if err := o.Actor.validate(); err != nil {
		return nil, fmt.Errorf("provision: apply: %w", err)
	}
	info, err := sys.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("provision: apply: %w", err)
	}
	if err := plan.CheckAccount(info); err != nil {
		return nil, fmt.Errorf("provision: apply: %w", err)
	}
	if plan.Guards.Run != nil {
		return nil, fmt.Errorf("provision: apply: %w", plan.Guards.Run)
	}
	// The guards that protect zgov's own credential and the owner run
	// again on what the backend says now: a plan made with other facts, or
	// built by hand, cannot take them away.
	var facts access.GuardFacts
	if fp, ok := sys.Backend().(access.GuardFactsProvider); ok {
		if facts, err = fp.GuardFacts(ctx); err != nil {
			return nil, fmt.Errorf("provision: apply: %w", err)
		}
	}
	prefix := "plan-" + hash[:16] + "/"
	j.mu.Lock()
	if j.applying == nil {
		j.applying = map[string]bool{}
	}
	running := j.applying[prefix]
	j.applying[prefix] = true
	j.mu.Unlock()
	if running {
		return nil, fmt.Errorf("provision: apply: %w", ErrApplyRunning)
	}
	defer func() {
		j.mu.Lock()
		delete(j.applying, prefix)
		j.mu.Unlock()
	}()
	// An earlier run's journal entries decide what is done: they must not
	// have been edited.
	if _, err := j.Verify(ctx); err != nil {
		return nil, fmt.Errorf("provision: apply: the journal does not verify, so it cannot say what is done: %w", err)
	}
	a := &applier{facts: facts, sys: sys, j: j, plan: plan, actor: o.Actor, progress: o.Progress,
		prefix: prefix, report: &ApplyReport{Results: make([]ChangeResult, len(plan.Changes))}}
	err = a.run(ctx)
	a.tally()
	return a.report, err
}

// tally counts the results by state, also of a run cut short.
func (a *applier) tally() {
	for _, r := range a.report.Results {
		switch r.State {
		case StateApplied:
			a.report.Applied++
		case StateDone:
			a.report.Done++
		case StateStale:
			a.report.Stale++
		case StateBlocked:
			a.report.Blocked++
		case StateFailed:
			a.report.Failed++
		}
	}
}

// applier is one run of Apply.
type applier struct {
	sys      *access.System
	j        *Journal
	plan     *Plan
	actor    JournalActor
	progress func(ApplyProgress)
	prefix   string
	report   *ApplyReport

	facts     access.GuardFacts // read when the run starts
	creates   map[string]int    // lower-cased e-mail -> index of its create
	changesOf map[string][]int  // principal -> indices of its changes not blocked by the plan

	mu        sync.Mutex
	resumed   map[int]bool      // changes started by an earlier run, never finished
	accountOf map[string]string // lower-cased e-mail -> principal, for new accounts
}

// journalID returns the journal ID of change c: the plan's prefix and the
// change's ID, with spaces as '/'; a change ID that is not printable ASCII
// (an e-mail address with other letters) or too long is replaced by its
// digest.
func (a *applier) journalID(c Change) string {
	id := strings.ReplaceAll(c.ID, " ", "/")
	ok := len(a.prefix)+len(id) <= 128
	for i := 0; ok && i < len(id); i++ {
		ok = id[i] > ' ' && id[i] < 0x7f
	}
	if !ok {
		id = Basis(true, false, []string{c.ID})[:32]
	}
	return a.prefix + id
}

func (a *applier) set(i int, st ChangeState, out *JournalOutcome, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := &a.report.Results[i]
	r.State, r.Outcome, r.Err = st, out, err
}

// index indexes the plan's creates by e-mail address and its changes not
// blocked by principal.
func (a *applier) index() {
	a.creates, a.changesOf = map[string]int{}, map[string][]int{}
	for i, c := range a.plan.Changes {
		if c.Kind == ChangeCreateAccount {
			a.creates[strings.ToLower(c.Person.Email)] = i
		}
		if c.PrincipalID != "" && c.Blocked == nil {
			a.changesOf[c.PrincipalID] = append(a.changesOf[c.PrincipalID], i)
		}
	}
}

func (a *applier) run(ctx context.Context) error {
	pending := map[int]bool{}
	a.index()
	for i, c := range a.plan.Changes {
		a.report.Results[i] = ChangeResult{Change: c, JournalID: a.journalID(c)}
		if c.Blocked == nil && c.destructive() {
			for _, owner := range a.facts.Owners {
				if c.PrincipalID == owner {
					c.Blocked = &GuardError{Guard: GuardAccountOwner, PrincipalID: owner, ChangeID: c.ID, Detail: owner + " is the account owner"}
				}
			}
			if c.PrincipalID != "" && c.PrincipalID == a.facts.Self {
				c.Blocked = &GuardError{Guard: GuardSelf, PrincipalID: c.PrincipalID, ChangeID: c.ID, Detail: c.PrincipalID + " is the user zgov's credential acts as"}
			}
		}
		if c.Blocked != nil {
			a.set(i, StateBlocked, nil, c.Blocked)
			continue
		}
		pending[i] = true
	}
	if err := a.readJournal(ctx, pending); err != nil {
		return err
	}
	if err := a.checkPrincipals(ctx, pending); err != nil {
		return err
	}
	return a.carryOut(ctx, pending)
}

// carryOut carries out the pending changes, phase by phase: creates,
// grants, revokes, deprovisioning steps.
func (a *applier) carryOut(ctx context.Context, pending map[int]bool) error {
	a.accountOf = map[string]string{}
	phases := []struct {
		name string
		run  func(context.Context, []int) error
	}{
		{"create", a.create},
		{"grant", a.grant},
		{"revoke", a.revoke},
		{"deprovision", a.deprovision},
	}
	kinds := map[string]ChangeKind{"create": ChangeCreateAccount, "grant": ChangeGrant, "revoke": ChangeRevoke, "deprovision": ChangeDeprovision}
	for _, ph := range phases {
		var idx []int
		for i, c := range a.plan.Changes {
			if pending[i] && c.Kind == kinds[ph.name] {
				idx = append(idx, i)
			}
		}
		if ph.name == "grant" {
			a.learnAccounts() // creates done by an earlier run
		}
		if len(idx) == 0 {
			continue
		}
		if err := ph.run(ctx, idx); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("provision: apply: %w", err)
		}
	}
	return nil
}

// readJournal marks the changes an earlier run finished as done, and those
// it began but never finished as resumed.
func (a *applier) readJournal(ctx context.Context, pending map[int]bool) error {
	a.resumed = map[int]bool{}
	for i := range a.plan.Changes {
		if !pending[i] {
			continue
		}
		jc, err := a.j.Change(ctx, a.report.Results[i].JournalID)
		switch {
		case errors.Is(err, ErrJournalUnknownChange):
		case err != nil:
			return fmt.Errorf("provision: apply: %w", err)
		case jc.Done():
			out := *jc.Finished.Outcome
			st, err := StateDone, error(nil)
			if out.Error != "" && !isChanged(out.Status) {
				// Finished with an error: left as it was; plan again (or,
				// for Do, give the change a new journal ID).
				st = StateFailed
				err = fmt.Errorf("provision: %s failed in an earlier run (journal %s): %s", a.plan.Changes[i].ID, jc.ID, out.Error)
			}
			a.set(i, st, &out, err)
			delete(pending, i)
		default:
			a.resumed[i] = true
		}
	}
	return nil
}

// isChanged reports whether a journaled status is a change rather than a
// finding that nothing needed doing.
func isChanged(status string) bool {
	switch access.Status(status) {
	case access.StatusGranted, access.StatusRevoked, access.StatusIncomplete:
		return true
	}
	switch access.AccountStatus(status) {
	case access.AccountCreated, access.AccountChanged, access.AccountIncomplete:
		return true
	}
	return false
}

// checkPrincipals compares the access of every principal with pending
// changes with what the plan saw, and settles the changes of those that
// drifted.
func (a *applier) checkPrincipals(ctx context.Context, pending map[int]bool) error {
	byPrincipal := map[string][]int{}
	for i := range a.plan.Changes {
		if p := a.plan.Changes[i].PrincipalID; pending[i] && p != "" {
			byPrincipal[p] = append(byPrincipal[p], i)
		}
	}
	if len(byPrincipal) == 0 {
		return nil
	}
	ids := slices.Sorted(func(yield func(string) bool) {
		for p := range byPrincipal {
			if !yield(p) {
				return
			}
		}
	})
	reader, ok := a.sys.Backend().(access.PrincipalReader)
	if !ok {
		return nil // nothing to check with: every change goes ahead, idempotently
	}
	toRead := slices.Clone(ids)
	for _, admin := range a.plan.Admins {
		if byPrincipal[admin] == nil {
			toRead = append(toRead, admin)
		}
	}
	states, err := reader.ReadPrincipals(ctx, toRead)
	if err != nil {
		return fmt.Errorf("provision: apply: check principals: %w", err)
	}
	a.guardLastAdmin(states, pending)
	done := 0
	for _, p := range ids {
		done++
		a.report1("check", done, len(ids))
		if StateBasis(states[p], a.plan.ObjectTypes) == a.plan.Basis[p] {
			continue
		}
		held := map[string]bool{}
		if states[p].Exists {
			gs, err := a.sys.GrantsFor(ctx, p)
			if err != nil && !errors.Is(err, access.ErrUnknownPrincipal) {
				return fmt.Errorf("provision: apply: check %s: %w", p, err)
			}
			for _, g := range gs {
				held[g.ID()] = true
			}
		}
		// The principal's changes in plan order, with those an earlier run
		// finished (journaled) or that are in effect now. The drift is the
		// plan's own if exactly a prefix of them has happened, including
		// one that moves the basis, and nothing else explains the state (a
		// suspension no change of the prefix made): an earlier run, whose
		// journal may be lost, got that far, so the rest goes ahead.
		// Otherwise someone else changed the principal: what is in effect
		// is done, the rest stale.
		all := a.changesOf[p]
		happened := func(i int) bool {
			return !pending[i] && a.report.Results[i].State == StateDone || inEffect(a.plan.Changes[i], states[p], held, a.facts)
		}
		k := 0
		for k < len(all) && happened(all[k]) {
			k++
		}
		explained, suspends := false, false
		for _, i := range all[:k] {
			c := a.plan.Changes[i]
			explained = explained || a.movesBasis(c)
			suspends = suspends || c.Kind == ChangeDeprovision && c.Step != access.DeprovisionDowngrade
		}
		for _, i := range all[k:] {
			explained = explained && !happened(i)
		}
		if states[p].Suspended && !suspends {
			explained = false
		}
		if explained {
			for _, i := range all[:k] {
				if pending[i] {
					if err := a.settle(ctx, i, StateDone, JournalOutcome{Status: "in_effect", Note: "an earlier run of this plan made this change"}, nil); err != nil {
						return err
					}
					delete(pending, i)
				}
			}
			continue
		}
		for _, i := range byPrincipal[p] {
			if !pending[i] {
				continue // blocked by the last-admin check above
			}
			var err error
			if inEffect(a.plan.Changes[i], states[p], held, a.facts) {
				err = a.settle(ctx, i, StateDone, JournalOutcome{Status: "in_effect", Note: "the principal already was in the planned end state"}, nil)
			} else {
				stale := fmt.Errorf("provision: %s changed since the plan was made: plan again", p)
				err = a.settle(ctx, i, StateStale, JournalOutcome{Status: "stale", Error: stale.Error(), ErrorClass: "stale"}, stale)
			}
			if err != nil {
				return err
			}
			delete(pending, i)
		}
	}
	return nil
}

// guardLastAdmin blocks the pending changes that would leave no active
// admin, on the admins as they are now (the plan's admins, read again:
// someone may have demoted some since the plan was made).
func (a *applier) guardLastAdmin(states map[string]access.PrincipalState, pending map[int]bool) {
	eid := a.plan.AdminEntitlementID
	if eid == "" {
		return
	}
	active := map[string]bool{}
	for _, p := range a.plan.Admins {
		st := states[p]
		if !st.Exists || st.Suspended {
			continue
		}
		for _, g := range st.Grants {
			if g.ID() == access.GrantID(eid, p) {
				active[p] = true
			}
		}
	}
	for i, c := range a.plan.Changes {
		if !pending[i] || !active[c.PrincipalID] || !removesAdmin(c, eid) {
			continue
		}
		if len(active) == 1 {
			a.set(i, StateBlocked, nil, &GuardError{Guard: GuardLastAdmin, PrincipalID: c.PrincipalID, ChangeID: c.ID,
				Detail: c.PrincipalID + " is the last active admin now"})
			delete(pending, i)
			continue
		}
		delete(active, c.PrincipalID)
	}
}

// settle records change i as found by the check, without running it; a
// change an earlier run began is finished in the journal with outcome, so
// that it does not stay open.
func (a *applier) settle(ctx context.Context, i int, st ChangeState, out JournalOutcome, err error) error {
	if a.resumed[i] {
		if _, jerr := a.j.Finish(ctx, a.report.Results[i].JournalID, out); jerr != nil && !errors.Is(jerr, ErrJournalChangeFinished) {
			return fmt.Errorf("provision: apply: journal %s: %w", a.plan.Changes[i].ID, jerr)
		}
	}
	var o *JournalOutcome
	if st == StateDone {
		o = &out
	}
	a.set(i, st, o, err)
	return nil
}

// movesBasis reports whether a change alters what Basis covers: a grant or
// revoke on one of the plan's object types, or a deprovisioning step.
func (a *applier) movesBasis(c Change) bool {
	if c.Kind == ChangeDeprovision {
		return c.Step.Destructive()
	}
	typ, _, _ := strings.Cut(c.EntitlementID, ":")
	return slices.Contains(a.plan.ObjectTypes, typ)
}

// inEffect reports whether a change's end state already holds. A downgrade
// is in effect when the principal holds none of what it removes and no
// team entitlement (the agent or admin role): an admin re-hired since is
// not downgraded.
func inEffect(c Change, st access.PrincipalState, held map[string]bool, facts access.GuardFacts) bool {
	switch c.Kind {
	case ChangeGrant:
		return held[access.GrantID(c.EntitlementID, c.PrincipalID)]
	case ChangeRevoke:
		return !held[access.GrantID(c.EntitlementID, c.PrincipalID)]
	case ChangeDeprovision:
		switch c.Step {
		case access.DeprovisionSuspend:
			return st.Suspended
		case access.DeprovisionSoftDelete, access.DeprovisionPermanentDelete:
			return !st.Exists
		case access.DeprovisionDowngrade:
			for _, r := range c.Removes {
				if held[r] {
					return false
				}
			}
			for _, eid := range facts.TeamEntitlementIDs {
				if held[access.GrantID(eid, c.PrincipalID)] {
					return false
				}
			}
			for _, g := range st.Grants { // the role, read even outside the scope
				if slices.Contains(facts.TeamEntitlementIDs, strings.SplitN(g.ID(), "@", 2)[0]) {
					return false
				}
			}
			return true
		}
	}
	return false
}

func (a *applier) report1(phase string, done, total int) {
	if a.progress != nil {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.progress(ApplyProgress{Phase: phase, Done: done, Total: total})
	}
}

// begin journals the start of the changes idx (but those resumed, whose
// start is journaled already) and returns those whose start it recorded.
func (a *applier) begin(ctx context.Context, idx []int, op func(Change, string) JournalOp) ([]int, error) {
	var ok []int
	for _, i := range idx {
		if a.resumed[i] {
			ok = append(ok, i)
			continue
		}
		c := a.plan.Changes[i]
		if _, err := a.j.Begin(ctx, a.report.Results[i].JournalID, a.actor, op(c, c.PrincipalID)); err != nil {
			if errors.Is(err, ErrJournalDuplicateChange) {
				// Another run began it since this one read the journal.
				a.set(i, StateStale, nil, fmt.Errorf("provision: %s was begun by another run: %w", c.ID, err))
				continue
			}
			return ok, fmt.Errorf("provision: apply: journal %s: %w", c.ID, err)
		}
		ok = append(ok, i)
	}
	return ok, nil
}

// finish journals how change i ended and records it. A change cut short
// because ctx ended is left unfinished in the journal, so that the next run
// resumes it rather than take it for failed. A change another run of the
// plan finished meanwhile is done.
func (a *applier) finish(ctx context.Context, i int, out JournalOutcome, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && (err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) && !isChanged(out.Status) {
		return fmt.Errorf("provision: apply: %w", ctxErr)
	}
	jctx := ctx
	if isChanged(out.Status) {
		// The change happened: its record must be written even though the
		// run is being cancelled.
		var cancel context.CancelFunc
		jctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), journalGrace)
		defer cancel()
	}
	if _, jerr := a.j.Finish(jctx, a.report.Results[i].JournalID, out); jerr != nil {
		if errors.Is(jerr, ErrJournalChangeFinished) {
			a.set(i, StateDone, &out, nil)
			return nil
		}
		return fmt.Errorf("provision: apply: journal %s: %w", a.plan.Changes[i].ID, jerr)
	}
	st := StateDone
	switch {
	case err != nil:
		st = StateFailed
	case isChanged(out.Status):
		st = StateApplied
	}
	a.set(i, st, &out, err)
	return nil
}

func (a *applier) create(ctx context.Context, idx []int) error {
	idx, err := a.begin(ctx, idx, func(c Change, _ string) JournalOp {
		return JournalOp{Name: JournalOpCreateAccount, Email: c.Person.Email, Role: c.Role}
	})
	if err != nil {
		return err
	}
	reqs := make([]access.AccountRequest, len(idx))
	for k, i := range idx {
		c := a.plan.Changes[i]
		reqs[k] = access.AccountRequest{Person: *c.Person, Role: c.Role}
	}
	res := a.sys.CreateAccounts(ctx, reqs, func(n int) { a.report1("create", n, len(idx)) })
	promoted := a.promoteExisting(ctx, reqs, res)
	for k, i := range idx {
		out := accountOutcome(res[k].Result, res[k].Err)
		if pr, ok := promoted[k]; ok {
			// The account existed with a lower role than the plan gives
			// (an end user a sync outside its scope did not see): the create
			// raised it, and says so.
			rout := JournalOutcomeOf(pr.res, pr.err)
			out.Added = append(out.Added, rout.Added...)
			out.Replaced = append(out.Replaced, rout.Replaced...)
			if rout.GrantID != "" && pr.res.Status == access.StatusGranted {
				out.Added = append(out.Added, rout.GrantID)
				out.Status = string(access.AccountChanged)
			}
			out.Note = strings.TrimPrefix(out.Note+"; "+"raised the existing account's role to "+reqs[k].Role, "; ")
			if pr.err != nil {
				res[k].Err = pr.err
				out.Error, out.ErrorClass = pr.err.Error(), JournalErrorClass(pr.err)
			}
		}
		if res[k].Err == nil {
			a.mu.Lock()
			a.accountOf[strings.ToLower(reqs[k].Person.Email)] = res[k].Result.PrincipalID
			a.mu.Unlock()
		}
		if err := a.finish(ctx, i, out, res[k].Err); err != nil {
			return err
		}
	}
	return nil
}

type promotion struct {
	res access.Result
	err error
}

// promoteExisting raises the role of accounts a create found existing with
// a lower built-in role than the create asked for, and returns what it did
// by request index. It never lowers a role.
func (a *applier) promoteExisting(ctx context.Context, reqs []access.AccountRequest, res []access.AccountBulkResult) map[int]promotion {
	var idx []int
	var ids []string
	for k, r := range res {
		if r.Err == nil && r.Result.Status == access.AccountExists && reqs[k].Role != "" {
			idx = append(idx, k)
			ids = append(ids, r.Result.PrincipalID)
		}
	}
	reader, ok := a.sys.Backend().(access.PrincipalReader)
	if len(idx) == 0 || !ok {
		return nil
	}
	out := map[int]promotion{}
	states, err := reader.ReadPrincipals(ctx, ids)
	if err != nil {
		// Without the role the create cannot say it is done: fail it, so
		// that a new plan tries again.
		for _, k := range idx {
			out[k] = promotion{err: fmt.Errorf("provision: read the existing account %s to raise its role: %w", res[k].Result.PrincipalID, err)}
		}
		return out
	}
	for _, k := range idx {
		p, want := res[k].Result.PrincipalID, reqs[k].Role
		if !states[p].Exists {
			out[k] = promotion{err: fmt.Errorf("provision: the existing account %s is gone", p)}
			continue
		}
		current := -1
		for _, g := range states[p].Grants {
			eid, _, _ := strings.Cut(g.ID(), "@")
			if r, ok := strings.CutPrefix(eid, "role:"); ok {
				if role, ok := strings.CutSuffix(r, ":assigned"); ok {
					current = max(current, roleRank(role))
				}
			}
		}
		if r := roleRank(want); r < 0 || current < 0 || current >= r {
			continue
		}
		gr, gerr := a.sys.Grant(ctx, access.GrantRequest{EntitlementID: "role:" + want + ":assigned", PrincipalID: p})
		out[k] = promotion{gr, gerr}
	}
	return out
}

// skipRest gives the steps after step, not attempted, state st: every
// change of the plan has a state in the report.
func (a *applier) skipRest(steps []int, step int, st ChangeState, why string) {
	k := slices.Index(steps, step)
	for _, i := range steps[k+1:] {
		a.set(i, st, nil, fmt.Errorf("provision: %s: not attempted: %s", a.plan.Changes[i].ID, why))
	}
}

// learnAccounts records the principals of accounts created by earlier runs
// (from the journal's outcomes of their create changes).
func (a *applier) learnAccounts() {
	for i, r := range a.report.Results {
		c := a.plan.Changes[i]
		if c.Kind == ChangeCreateAccount && r.Outcome != nil && r.Outcome.PrincipalID != "" && c.Person != nil {
			a.accountOf[strings.ToLower(c.Person.Email)] = r.Outcome.PrincipalID
		}
	}
}

// createOf returns the result of the plan's create of email's account.
func (a *applier) createOf(email string) *ChangeResult {
	i, ok := a.creates[strings.ToLower(email)]
	if !ok {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return &a.report.Results[i]
}

// accountOutcome is the journal outcome of an account operation.
func accountOutcome(res access.AccountResult, err error) JournalOutcome {
	var ae *access.AccountError
	if err != nil && res.Status == "" && errors.As(err, &ae) {
		res = ae.Result
	}
	o := JournalOutcome{Status: string(res.Status), PrincipalID: res.PrincipalID, Note: res.Note}
	for _, g := range res.Added {
		o.Added = append(o.Added, g.ID())
	}
	for _, g := range res.Replaced {
		o.Replaced = append(o.Replaced, g.ID())
	}
	if res.MatchedBy != "" {
		o.Params = map[string]string{"matched_by": res.MatchedBy}
	}
	if err != nil {
		o.Error = err.Error()
		o.ErrorClass = JournalErrorClass(err)
		if id := requestID(err); id != "" {
			o.RequestIDs = []string{id}
		}
	}
	return o
}

// principal returns the principal a change is for: its own, or the account
// created for its person.
func (a *applier) principal(c Change) string {
	if c.PrincipalID != "" || c.Person == nil {
		return c.PrincipalID
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.accountOf[strings.ToLower(c.Person.Email)]
}

func (a *applier) grant(ctx context.Context, idx []int) error {
	return a.change(ctx, idx, "grant", JournalOpGrant, func(reqs []access.GrantRequest, p func(int)) []access.BulkResult {
		return a.sys.GrantMany(ctx, reqs, p)
	})
}

func (a *applier) revoke(ctx context.Context, idx []int) error {
	return a.change(ctx, idx, "revoke", JournalOpRevoke, func(reqs []access.GrantRequest, p func(int)) []access.BulkResult {
		rs := make([]access.RevokeRequest, len(reqs))
		for k, r := range reqs {
			rs[k] = access.RevokeRequest(r)
		}
		return a.sys.RevokeMany(ctx, rs, p)
	})
}

// change carries out grants or revokes in waves by entitlement type, in the
// plan's order (typeRank: the built-in role first, since a group needs an
// agent, then the custom role, organizations, groups), each wave in bulk.
func (a *applier) change(ctx context.Context, idx []int, phase string, name JournalOpName, many func([]access.GrantRequest, func(int)) []access.BulkResult) error {
	waves := map[int][]int{}
	for _, i := range idx {
		c := a.plan.Changes[i]
		if a.principal(c) == "" {
			// The person's account was not made by this run: its creation
			// failed, or another run is making it (then this change is that
			// run's to carry out).
			st, why := StateFailed, "its creation failed"
			if cr := a.createOf(c.Person.Email); cr != nil && cr.State == StateStale {
				st, why = StateStale, "another run of the plan is creating it"
			}
			a.set(i, st, nil, fmt.Errorf("provision: %s: %s has no account yet: %s", c.ID, c.Person.Email, why))
			continue
		}
		r := typeRank(c.EntitlementID)
		waves[r] = append(waves[r], i)
	}
	done := 0
	for _, r := range slices.Sorted(func(yield func(int) bool) {
		for r := range waves {
			if !yield(r) {
				return
			}
		}
	}) {
		wave, err := a.begin(ctx, waves[r], func(c Change, _ string) JournalOp {
			return JournalOp{Name: name, EntitlementID: c.EntitlementID, PrincipalID: a.principal(c)}
		})
		if err != nil {
			return err
		}
		reqs := make([]access.GrantRequest, len(wave))
		for k, i := range wave {
			c := a.plan.Changes[i]
			reqs[k] = access.GrantRequest{EntitlementID: c.EntitlementID, PrincipalID: a.principal(c)}
		}
		base := done
		res := many(reqs, func(n int) { a.report1(phase, base+n, len(idx)) })
		done += len(wave)
		for k, i := range wave {
			if err := a.finish(ctx, i, JournalOutcomeOf(res[k].Result, res[k].Err), res[k].Err); err != nil {
				return err
			}
		}
	}
	return nil
}

// deprovision takes the ladder's steps, in order for each principal, for
// several principals at once.
func (a *applier) deprovision(ctx context.Context, idx []int) error {
	byPrincipal := map[string][]int{}
	var order []string
	for _, i := range idx {
		p := a.plan.Changes[i].PrincipalID
		if byPrincipal[p] == nil {
			order = append(order, p)
		}
		byPrincipal[p] = append(byPrincipal[p], i)
	}
	var mu sync.Mutex
	done := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, p := range order {
		g.Go(func() error {
			for _, i := range byPrincipal[p] {
				// Each step is journaled as it starts: one not reached is
				// not in the journal at all.
				began, err := a.begin(gctx, []int{i}, func(c Change, _ string) JournalOp {
					return JournalOp{Name: JournalOpDeprovision, PrincipalID: c.PrincipalID, Step: string(c.Step)}
				})
				if err != nil {
					return err
				}
				if len(began) == 0 {
					a.skipRest(byPrincipal[p], i, StateStale, "another run of the plan is taking the ladder")
					break
				}
				c := a.plan.Changes[i]
				res, err := a.sys.Deprovision(gctx, c.PrincipalID, c.Step)
				if ferr := a.finish(gctx, i, accountOutcome(res, err), err); ferr != nil {
					return ferr
				}
				mu.Lock()
				done++
				n := done
				mu.Unlock()
				a.report1("deprovision", n, len(idx))
				if err != nil {
					// The later steps of a ladder wait for the earlier.
					a.skipRest(byPrincipal[p], i, StateFailed, "an earlier step of the ladder failed")
					break
				}
			}
			return nil
		})
	}
	return g.Wait()
}
