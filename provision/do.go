package provision

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/zgov-io/zgov/access"
)

// ErrInvalidChange means a change given to Do is malformed (an unknown
// kind, an id the System refuses, a change without what it needs) or
// clashes with another of the same call (one journal ID or change ID for
// two changes). Do refuses the call before writing anything.
var ErrInvalidChange = errors.New("invalid change")

// DoOptions configures Do. Actor.Source, and one of JournalIDs and IDPrefix,
// are required.
type DoOptions struct {
	// Actor is who asks for the changes and why; it is journaled with
	// every change. Actor.Source is required: what authorised the changes
	// ("timebound:<id>", "review:<campaign>", "ticket:JIRA-1").
	Actor JournalActor
	// JournalIDs, if set, gives each change (by index) its journal ID,
	// which is the change's idempotency key: printable ASCII without
	// spaces, at most 128 bytes, no two alike. The journal holds one
	// change per ID, once: a change made again later (a grant revoked and
	// given again) or retried after it failed needs a new ID (a job's
	// attempt number, say).
	JournalIDs []string
	// IDPrefix, when JournalIDs is not set, makes each change's journal ID
	// IDPrefix followed by the change's ID with spaces as '/' (a digest
	// if it is not printable ASCII or too long), as Apply derives its IDs
	// from the plan's hash.
	IDPrefix string
	// Guards are the guards' settings. Protected and the count cap
	// MaxDestructive apply to the changes of the call. The share cap
	// MaxTeamShare counts the team in Snapshot: without one, it does not
	// apply.
	Guards Guards
	// Snapshot, if set, is the account's access as read last (it must be
	// of the System's account: ErrWrongAccount otherwise): the share cap
	// counts its team members, and the last-admin guard takes its admins,
	// each read again now, as Apply reads a plan's. Without it, the
	// last-admin guard lists the admins now through the backend
	// (access.HolderLister; Zendesk: GET /users?role=admin, one request for
	// up to 100 admins) and reads them with the principals; a backend that
	// cannot list them gets every change that takes the admin entitlement
	// from an active admin blocked (GuardLastAdmin), since Do cannot tell
	// whether another remains.
	Snapshot *access.Snapshot
	// Progress, if set, is called as changes finish, from one goroutine
	// at a time, with Apply's phases but "check".
	Progress func(ApplyProgress)
}

// Do carries out changes that are not from a plan (a time-bound grant, its
// revoke at expiry, a review's revoke decision) through the machinery of
// Apply: the guards, the journal (each change begun before it runs and
// finished after, under its journal ID), the backend's bulk capabilities
// (a thousand revokes of one group go as ten bulk jobs of 100, after the
// reads that find the memberships: on Zendesk the cheaper of a read per
// user and a read of the group's memberships, 100 a page) and
// resumability. The report has a result per change, in the
// order given.
//
// Do checks its input before it journals or changes anything, and refuses bad
// input with an error and nothing journaled: nil arguments, an actor
// without a source, a negative cap, a malformed protected ID, journal IDs
// missing, malformed or given twice, and changes that are malformed: of an
// unknown kind; a grant or revoke whose ids the System refuses
// (access.ErrMalformedID) or with no principal; a deprovisioning step
// without a principal or a valid step; a create without a valid Person, or
// with a principal. A change with no PrincipalID must be a create: Do does
// not create an account and grant to it in one call (create it, then grant
// to the principal the create's outcome names). Two changes with one ID,
// or a grant and a revoke of one grant, are refused too. Such errors wrap
// ErrInvalidChange. An empty Change.ID is filled in as NewPlan names
// changes ("grant group:1:member@user:7").
//
// Then Do reads the journal. A change it shows finished is not done
// again: StateDone, or StateFailed if it finished with an error (a retry
// needs a new journal ID); no request is sent for it, so a call whose
// changes all finished sends none. A change begun and never finished (the
// process died) is carried out again, idempotently, and finished.
//
// The guards run on the backend's guard facts read now
// (access.GuardFactsProvider), as Apply's do: a change that takes access
// or the account from the account owner, the credential's own user, a
// principal on Guards.Protected, or the last active admin, is StateBlocked
// with its *GuardError, and is not journaled (one an earlier call began is
// finished as blocked). A grant of an exclusive type (access.GuardFacts:
// a built-in role, a custom role) takes away what it replaces: Do reads
// what the principal holds of that type (access.PrincipalReader, or
// System.GrantsFor) and sets Change.Removes to it. The last-admin guard
// blocks only a change that would leave no active admin (one who exists, is
// not suspended and holds GuardFacts.AdminEntitlementID, as the backend reads
// them now; an owner counts only as such), as Apply's does: the admins are
// those of DoOptions.Snapshot or, without one, those the backend lists now
// (access.HolderLister), listed at most once per call and only for a change
// that may take the admin entitlement: a revoke of it (one request more on
// Zendesk), or a grant of another entitlement of its type or a
// deprovisioning step of a principal who is an active admin (two: the
// admins are read after the principals). A
// backend that cannot read principals' roles (no access.PrincipalReader)
// gets every change that may take the admin entitlement blocked, and one
// that cannot list the admins, without a snapshot, every such change to an
// active admin, since Do cannot verify that an admin remains. More
// destructive changes (revokes, deprovisioning steps, grants that replace)
// than Guards.MaxDestructive refuse the whole call with a *GuardError
// (GuardBlastRadius), and nothing is written.
//
// Do has no plan to compare with, so it does not detect drift; nor does it
// read a principal's access to skip a change already in effect: the
// backend answers idempotently, so a grant held or a revoke gone is
// StateDone, journaled with the backend's status (already_granted,
// already_revoked, unchanged), for the cost of its request or of its share
// of a bulk job.
//
// Changes run in Apply's phases, not in the order given: account creations,
// grants (built-in roles first, then custom roles, organizations, groups),
// revokes, then deprovisioning steps (a principal's in the order given).
// Do does not verify the journal's hash chain first, as Apply does: it is
// called often for a few changes, and verifying reads the whole journal
// (verify on a schedule instead). Two calls through one Journal do not
// carry out one journal ID at once: the later one's change is StateStale.
// The error return is for a call refused (with no report: bad input, a
// cap, a snapshot of another account, guard facts, principals or admins
// that could not be read) or cut short (ctx, a journal failure: with the report so
// far); changes that failed are in the report, StateFailed with their
// error, and journaled as failed.
func Do(ctx context.Context, sys *access.System, j *Journal, changes []Change, opts *DoOptions) (*ApplyReport, error) {
	if sys == nil || j == nil {
		return nil, errors.New("provision: do: nil System or Journal")
	}
	if opts == nil {
		return nil, errors.New("provision: do: nil DoOptions: Actor (with a Source) and JournalIDs or IDPrefix are required")
	}
	o := *opts
	if o.Actor.Source == "" {
		return nil, fmt.Errorf("provision: do: %w", inputErr("actor.source", `empty: Do records what authorised each change ("timebound:<id>", "review:<id>")`))
	}
	if err := o.Actor.validate(); err != nil {
		return nil, fmt.Errorf("provision: do: %w", err)
	}
	if err := o.Guards.Validate(); err != nil {
		return nil, fmt.Errorf("provision: do: %w", err)
	}
	switch {
	case o.JournalIDs != nil && len(o.JournalIDs) != len(changes):
		return nil, fmt.Errorf("provision: do: %d JournalIDs for %d changes: %w", len(o.JournalIDs), len(changes), ErrInvalidChange)
	case o.JournalIDs == nil && o.IDPrefix == "":
		return nil, fmt.Errorf("provision: do: neither JournalIDs nor IDPrefix: each change needs a journal ID of its own: %w", ErrInvalidChange)
	}
	for _, id := range o.Guards.Protected {
		if err := sys.CheckResource(ctx, id); err != nil {
			return nil, fmt.Errorf("provision: do: guards: protected principal: %w", err)
		}
	}
	a := &applier{sys: sys, j: j, actor: o.Actor, progress: o.Progress, prefix: o.IDPrefix,
		plan: &Plan{Changes: make([]Change, len(changes))}, report: &ApplyReport{Results: make([]ChangeResult, len(changes))}}
	if err := a.prepare(ctx, changes, o.JournalIDs); err != nil {
		return nil, err
	}
	a.index()
	if len(changes) == 0 {
		return a.report, nil
	}

	// Claim the journal IDs in this process: a change another call is
	// carrying out is its to finish.
	pending := map[int]bool{}
	var mine []string
	j.mu.Lock()
	if j.doing == nil {
		j.doing = map[string]bool{}
	}
	for i, r := range a.report.Results {
		if j.doing[r.JournalID] {
			a.set(i, StateStale, nil, fmt.Errorf("provision: %s (journal %s) is being carried out by another call through this Journal", r.Change.ID, r.JournalID))
			continue
		}
		j.doing[r.JournalID] = true
		mine = append(mine, r.JournalID)
		pending[i] = true
	}
	j.mu.Unlock()
	defer func() {
		j.mu.Lock()
		for _, id := range mine {
			delete(j.doing, id)
		}
		j.mu.Unlock()
	}()

	err := a.readJournal(ctx, pending)
	if err == nil && len(pending) > 0 {
		if err := a.guardDo(ctx, pending, o); err != nil {
			return nil, err // refused before any write
		}
		if err = a.finishBlocked(ctx); err == nil {
			err = a.carryOut(ctx, pending)
		}
	}
	a.tally()
	return a.report, err
}

// prepare copies the changes into the applier's plan, names those without
// an ID, validates them, and gives each its journal ID; bad input is an
// error wrapping ErrInvalidChange.
func (a *applier) prepare(ctx context.Context, changes []Change, journalIDs []string) error {
	ids := map[string]int{}
	grants := map[string]int{}
	journal := map[string]int{}
	for k, c := range changes {
		c.Removes = slices.Clone(c.Removes)
		c.SideEffects = slices.Clone(c.SideEffects)
		c.Blocked = nil // Do's guards decide
		if c.Person != nil {
			p := *c.Person
			c.Person = &p
		}
		if c.ID == "" {
			c.ID = defaultChangeID(c)
		}
		if err := checkDoChange(ctx, a.sys, k, c); err != nil {
			return err
		}
		if first, dup := ids[c.ID]; dup {
			return fmt.Errorf("provision: do: changes[%d] and changes[%d] have one ID %q: %w", first, k, c.ID, ErrInvalidChange)
		}
		ids[c.ID] = k
		if c.Kind == ChangeGrant || c.Kind == ChangeRevoke {
			gid := access.GrantID(c.EntitlementID, c.PrincipalID)
			if first, dup := grants[gid]; dup {
				return fmt.Errorf("provision: do: changes[%d] and changes[%d] both change %s (Do runs grants before revokes, not in the order given): %w",
					first, k, gid, ErrInvalidChange)
			}
			grants[gid] = k
		}
		var jid string
		if journalIDs != nil {
			jid = journalIDs[k]
			if err := checkChangeID(jid); err != nil {
				return fmt.Errorf("provision: do: JournalIDs[%d]: %w: %w", k, err, ErrInvalidChange)
			}
		} else {
			jid = a.journalID(c)
			if err := checkChangeID(jid); err != nil {
				return fmt.Errorf("provision: do: changes[%d] %q: journal ID from IDPrefix: %w: %w", k, c.ID, err, ErrInvalidChange)
			}
		}
		if first, dup := journal[jid]; dup {
			return fmt.Errorf("provision: do: changes[%d] and changes[%d] have one journal ID %q: %w", first, k, jid, ErrInvalidChange)
		}
		journal[jid] = k
		a.plan.Changes[k] = c
		a.report.Results[k] = ChangeResult{Change: c, JournalID: jid}
	}
	return nil
}

// defaultChangeID names a change as NewPlan does.
func defaultChangeID(c Change) string {
	switch c.Kind {
	case ChangeCreateAccount:
		if c.Person != nil {
			return "create_account " + strings.ToLower(c.Person.Email)
		}
	case ChangeGrant, ChangeRevoke:
		return string(c.Kind) + " " + access.GrantID(c.EntitlementID, c.PrincipalID)
	case ChangeDeprovision:
		return "deprovision " + c.PrincipalID + " " + string(c.Step)
	}
	return string(c.Kind)
}

// checkDoChange checks change k of a Do call.
func checkDoChange(ctx context.Context, sys *access.System, k int, c Change) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("provision: do: changes[%d] %q: %s: %w", k, c.ID, fmt.Sprintf(format, args...), ErrInvalidChange)
	}
	bad := func(err error) error {
		if !errors.Is(err, access.ErrMalformedID) {
			return fmt.Errorf("provision: do: check changes[%d] %q: %w", k, c.ID, err) // the System could not read its types
		}
		return fmt.Errorf("provision: do: changes[%d] %q: %w: %w", k, c.ID, err, ErrInvalidChange)
	}
	switch c.Kind {
	case ChangeCreateAccount:
		if c.Person == nil {
			return fail("a create names no person")
		}
		if c.PrincipalID != "" {
			return fail("a create names principal %s: it makes one", c.PrincipalID)
		}
		if err := c.Person.Validate(); err != nil {
			return fmt.Errorf("provision: do: changes[%d] %q: %w: %w", k, c.ID, err, ErrInvalidChange)
		}
	case ChangeGrant, ChangeRevoke:
		if c.PrincipalID == "" {
			return fail("a %s names no principal (Do does not grant to an account it creates in the same call: create it first)", c.Kind)
		}
		if _, err := sys.CheckRequest(ctx, c.EntitlementID, c.PrincipalID); err != nil {
			return bad(err)
		}
	case ChangeDeprovision:
		if c.PrincipalID == "" || !c.Step.Valid() {
			return fail("a deprovisioning step needs a principal and a valid step")
		}
		if err := sys.CheckResource(ctx, c.PrincipalID); err != nil {
			return bad(err)
		}
	default:
		return fail("unknown kind %q", c.Kind)
	}
	return nil
}

// guardDo runs the guards over the pending changes of a Do call, on what
// the backend says now, and blocks (or refuses the call over a cap) as
// Apply's guards do. It only reads: an error is a refusal, with nothing
// written.
func (a *applier) guardDo(ctx context.Context, pending map[int]bool, o DoOptions) error {
	if o.Snapshot != nil {
		info, err := a.sys.Info(ctx)
		if err != nil {
			return fmt.Errorf("provision: do: %w", err)
		}
		if prov := o.Snapshot.Provenance(); prov.Backend != info.Name || prov.Account != info.Account {
			return fmt.Errorf("provision: do: DoOptions.Snapshot: %w", &AccountMismatchError{
				PlanBackend: prov.Backend, PlanAccount: prov.Account, Backend: info.Name, Account: info.Account})
		}
	}
	if fp, ok := a.sys.Backend().(access.GuardFactsProvider); ok {
		var err error
		if a.facts, err = fp.GuardFacts(ctx); err != nil {
			return fmt.Errorf("provision: do: %w", err)
		}
	}
	facts := a.facts
	adminEID := facts.AdminEntitlementID
	exclusive := func(eid string) bool { return slices.Contains(facts.ExclusiveTypes, typeOfID(eid)) }
	mayTakeAdmin := func(c Change) bool {
		switch {
		case adminEID == "":
			return false
		case c.Kind == ChangeRevoke:
			return c.EntitlementID == adminEID
		case c.Kind == ChangeDeprovision:
			return c.Step.Destructive()
		case c.Kind == ChangeGrant:
			return exclusive(c.EntitlementID) && typeOfID(c.EntitlementID) == typeOfID(adminEID) && c.EntitlementID != adminEID
		}
		return false
	}
	idx := slices.Sorted(maps.Keys(pending))

	// Read what the guards need: the principals that an exclusive grant
	// or a loss of the admin entitlement concerns, and the admins (the
	// snapshot's, or those the backend lists now).
	reader, _ := a.sys.Backend().(access.PrincipalReader)
	var objectTypes []string
	if reader != nil {
		var err error
		if objectTypes, err = reader.ObjectTypes(ctx); err != nil {
			return fmt.Errorf("provision: do: %w", err)
		}
	}
	need := map[string]bool{}
	var candidates []int // changes that may take the admin entitlement
	for _, i := range idx {
		c := a.plan.Changes[i]
		if c.Kind == ChangeGrant && exclusive(c.EntitlementID) {
			need[c.PrincipalID] = true
		}
		if mayTakeAdmin(c) {
			need[c.PrincipalID] = true
			candidates = append(candidates, i)
		}
	}
	readsAdmins := reader != nil && slices.Contains(objectTypes, typeOfID(adminEID))
	var admins []string
	if len(candidates) > 0 && o.Snapshot != nil {
		admins = slices.Collect(maps.Keys(activeHolders(o.Snapshot, adminEID)))
	}
	// Without a snapshot the admins are listed now (access.HolderLister:
	// Zendesk's GET /users?role=admin, one request for most accounts) and
	// read with the principals, when a change may take the admin
	// entitlement from an active admin: at once for a revoke of it, whose
	// principal is an admin but by a race, so that one read serves both;
	// for a grant of another role or a deprovisioning step (most often of
	// someone who is no admin) only once the read shows an active admin
	// among their principals, and then the admins are read after.
	adminsUnknown := error(nil) // why the admins cannot be listed
	listed := false
	listAdmins := func() error {
		listed = true
		hs, err := a.sys.Holders(ctx, adminEID)
		switch {
		case errors.Is(err, access.ErrUnsupported):
			adminsUnknown = err
		case err != nil:
			return fmt.Errorf("provision: do: list the admins: %w", err)
		}
		admins = hs
		return nil
	}
	mayList := len(candidates) > 0 && o.Snapshot == nil && readsAdmins
	if mayList && slices.ContainsFunc(candidates, func(i int) bool { return a.plan.Changes[i].Kind == ChangeRevoke }) {
		if err := listAdmins(); err != nil {
			return err
		}
	}
	states := map[string]access.PrincipalState{}
	read := func(ids []string) error {
		if len(ids) == 0 {
			return nil
		}
		got, err := reader.ReadPrincipals(ctx, ids)
		if err != nil {
			return fmt.Errorf("provision: do: read principals: %w", err)
		}
		maps.Copy(states, got)
		return nil
	}
	unread := func(ids []string) []string {
		var out []string
		seen := map[string]bool{}
		for _, p := range ids {
			if _, ok := states[p]; !ok && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
		return out
	}
	if reader != nil && len(need) > 0 {
		if err := read(unread(append(slices.Sorted(maps.Keys(need)), admins...))); err != nil {
			return err
		}
	}
	if mayList && !listed && slices.ContainsFunc(candidates, func(i int) bool {
		p := a.plan.Changes[i].PrincipalID
		return activeAdmin(states[p], adminEID, p)
	}) {
		if err := listAdmins(); err != nil {
			return err
		}
		if err := read(unread(admins)); err != nil {
			return err
		}
	}
	if err := a.setRemoves(ctx, idx, states, reader != nil, objectTypes, exclusive); err != nil {
		return err
	}

	// The owner, self and protected guards, and the caps.
	sub := make([]Change, len(idx))
	for k, i := range idx {
		sub[k] = a.plan.Changes[i]
	}
	rep, err := o.Guards.Check(o.Snapshot, facts, sub)
	if err != nil {
		return fmt.Errorf("provision: do: %w", err)
	}
	if rep.Run != nil {
		return fmt.Errorf("provision: do: %w", rep.Run)
	}
	for k, i := range idx {
		if sub[k].Blocked != nil {
			a.set(i, StateBlocked, nil, sub[k].Blocked)
			delete(pending, i)
		}
	}

	// The last admin, on the admins as they are now.
	var left []int
	for _, i := range candidates {
		if pending[i] {
			left = append(left, i)
		}
	}
	if len(left) > 0 {
		switch {
		case !readsAdmins:
			for _, i := range left {
				a.blockLastAdmin(i, pending, "Do cannot verify that an active admin would remain: the backend does not read principals' roles (access.PrincipalReader)")
			}
		case adminsUnknown != nil:
			for _, i := range left {
				if p := a.plan.Changes[i].PrincipalID; activeAdmin(states[p], adminEID, p) {
					a.blockLastAdmin(i, pending, p+" is an active admin, and Do cannot verify that another remains: the backend does not list the admins (access.HolderLister) and DoOptions.Snapshot is not set")
				}
			}
		default:
			a.plan.AdminEntitlementID = adminEID
			for _, i := range left {
				admins = append(admins, a.plan.Changes[i].PrincipalID)
			}
			slices.Sort(admins)
			a.plan.Admins = slices.Compact(admins)
			a.guardLastAdmin(states, pending)
		}
	}
	return nil
}

// finishBlocked finishes in the journal, as blocked, the changes an earlier
// call began and a guard now blocks, so that they do not stay open.
func (a *applier) finishBlocked(ctx context.Context) error {
	for i, r := range a.report.Results {
		if r.State == StateBlocked && a.resumed[i] {
			out := JournalOutcome{Status: "blocked", Error: r.Err.Error(), ErrorClass: "guard"}
			if err := a.settle(ctx, i, StateBlocked, out, r.Err); err != nil {
				return err
			}
		}
	}
	return nil
}

// setRemoves sets the Removes of the pending grants of an exclusive type:
// the grants of that type the principal holds now, which the grant
// replaces.
func (a *applier) setRemoves(ctx context.Context, idx []int, states map[string]access.PrincipalState, read bool, objectTypes []string, exclusive func(string) bool) error {
	listed := map[string][]access.Grant{} // System.GrantsFor, by principal
	for _, i := range idx {
		c := &a.plan.Changes[i]
		if c.Kind != ChangeGrant || !exclusive(c.EntitlementID) {
			continue
		}
		typ := typeOfID(c.EntitlementID)
		held := states[c.PrincipalID].Grants
		if !read || !slices.Contains(objectTypes, typ) {
			gs, ok := listed[c.PrincipalID]
			if !ok {
				var err error
				gs, err = a.sys.GrantsFor(ctx, c.PrincipalID)
				if err != nil && !errors.Is(err, access.ErrUnknownPrincipal) {
					return fmt.Errorf("provision: do: read %s's access for %s: %w", c.PrincipalID, c.ID, err)
				}
				listed[c.PrincipalID] = gs
			}
			held = gs
		}
		c.Removes = nil
		for _, g := range held {
			if eid, _, _ := cutGrant(g.ID()); typeOfID(eid) == typ && eid != c.EntitlementID {
				c.Removes = append(c.Removes, g.ID())
			}
		}
		slices.Sort(c.Removes)
		a.report.Results[i].Change.Removes = slices.Clone(c.Removes)
	}
	return nil
}

// activeAdmin reports whether st shows principal p active and holding the
// admin entitlement.
func activeAdmin(st access.PrincipalState, adminEID, p string) bool {
	if !st.Exists || st.Suspended {
		return false
	}
	return slices.ContainsFunc(st.Grants, func(g access.Grant) bool { return g.ID() == access.GrantID(adminEID, p) })
}

// blockLastAdmin blocks change i with a last-admin GuardError.
func (a *applier) blockLastAdmin(i int, pending map[int]bool, detail string) {
	c := a.plan.Changes[i]
	a.set(i, StateBlocked, nil, &GuardError{Guard: GuardLastAdmin, PrincipalID: c.PrincipalID, ChangeID: c.ID, Detail: detail})
	delete(pending, i)
}
