package provision

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/zgov-io/zgov/access"
)

// PlanVersion is the version of the plan format Save writes and LoadPlan
// reads.
const PlanVersion = 1

// Plan is the list of changes that bring a snapshot's access in line with a
// policy and a directory, with what it was planned against. NewPlan makes
// one; Save and LoadPlan store it.
type Plan struct {
	// Version is PlanVersion.
	Version int `json:"version"`
	// Backend and Account are the snapshot's provenance: the backend's
	// Info.Name and Info.Account. CheckAccount compares them.
	Backend string `json:"backend"`
	Account string `json:"account"`
	// SnapshotHash and SnapshotTakenAt identify the snapshot planned
	// against.
	SnapshotHash    string    `json:"snapshot_hash"`
	SnapshotTakenAt time.Time `json:"snapshot_taken_at"`
	// PolicyDigest is the policy's Digest.
	PolicyDigest string `json:"policy_digest"`
	// CreatedAt is when the plan was made (PlanOptions.Now), in UTC.
	CreatedAt time.Time `json:"created_at"`
	// ObjectTypes are the resource types the Basis values cover
	// (PlanOptions.ObjectTypes, sorted).
	ObjectTypes []string `json:"object_types"`
	// Changes are the changes, sorted: existing accounts by principal ID
	// (numerically where the ids are numbers), then people without an
	// account by e-mail address; each one's changes in the order create,
	// grant, revoke, deprovision; grants of the built-in role first, then
	// the custom role, organizations and groups (the order apply can carry
	// them out in: a group needs an agent); deprovisioning steps in ladder
	// order.
	Changes []Change `json:"changes"`
	// Basis is, for every principal a change names, its Basis in the
	// snapshot: apply compares it with what access.PrincipalReader reads
	// before changing the principal.
	Basis map[string]string `json:"basis"`
	// Labels name, for the table, the principals (their e-mail address)
	// and the entitlements ("group Support") the changes name.
	Labels map[string]string `json:"labels"`
	// Conflicts are the choices the policy's conflict rules made, person
	// by person (see Policy).
	Conflicts []Conflict `json:"conflicts,omitempty"`
	// Guards is the guards' report: what they block, and whether the run
	// as a whole exceeds a blast-radius cap (Guards.Run).
	Guards GuardReport `json:"guards"`
	// AdminEntitlementID and Admins are the entitlement whose last active
	// holder keeps it (access.GuardFacts.AdminEntitlementID) and its active
	// holders when the plan was made: Apply reads them again and blocks a
	// change that would leave none, whoever demoted the others since.
	AdminEntitlementID string   `json:"admin_entitlement_id,omitempty"`
	Admins             []string `json:"admins,omitempty"`
	// Hash is the lower-case hex SHA-256 of the plan's JSON without it. Save
	// sets it; LoadPlan checks it.
	Hash string `json:"hash"`
}

// Conflict records a choice between what several rules give one person.
type Conflict struct {
	// Principal is the account, or the person's e-mail address when they
	// have none yet.
	Principal string `json:"principal"`
	// Type is what was chosen: "custom_role" or "organization".
	Type string `json:"type"`
	// Kept is the entitlement given ("" when none is).
	Kept string `json:"kept,omitempty"`
	// Dropped are the entitlements not given.
	Dropped []string `json:"dropped"`
	// Reason says which rule won and why.
	Reason string `json:"reason"`
}

// PlanOptions are NewPlan's inputs besides the policy, the directory and the
// snapshot. The zero value is valid: no guard facts, no object types, the
// default guards and the real clock.
type PlanOptions struct {
	// Facts are the backend's guard facts (access.GuardFactsProvider):
	// owners and the credential's own user for the guards, and
	// ExclusiveTypes, which say whether a user belongs to one organization
	// at most.
	Facts access.GuardFacts
	// ObjectTypes are the resource types a cheap read of a principal shows
	// (access.PrincipalReader.ObjectTypes), which the plan's Basis values
	// cover.
	ObjectTypes []string
	// Guards are checked over the changes; a negative cap is an error.
	Guards Guards
	// Now returns the time the plan is made; nil means time.Now.
	Now func() time.Time
}

// NewPlan lists the changes that give the people in dir's groups what
// policy gives them, against snap. It validates everything first: the
// guards (a negative cap), the policy on its own and against the snapshot
// (an unknown group, organization or role: *FieldError naming the file,
// line and field), the directory's groups (ErrUnknownDirectoryGroup) and
// people (access.ErrInvalidPerson), and returns an error without a plan if
// any is bad.
//
// People are matched with accounts by e-mail address (case-insensitively),
// then by external id. A person with no account in the snapshot gets a
// ChangeCreateAccount (the role their rules give; end-user if none does),
// followed by their grants, which carry the Person and no PrincipalID:
// apply resolves the principal after the create. (A person whose account
// the snapshot's scope leaves out, such as an end user when only team
// members were read, is planned as a create too, which finds the account.)
//
// An account that holds a group, organization or custom role the policy
// manages, and that no person in a rule's directory group matches, is a
// leaver: it gets one ChangeDeprovision per step of the policy's ladder not
// already taken (a downgrade is taken when the account holds no role but
// end-user and no group or custom role; a suspension when it is suspended).
//
// A grant the snapshot marks as time-bound (access.GrantRecord.ExpiresAt,
// set by access.SyncOptions.TimeBound) is held until it ends, and ending
// it is the time-bound grant's own business: the plan never revokes it,
// even of an entitlement the policy manages that no rule gives the person;
// never grants it again (it is held), so that it never turns into standing
// access; and leaves out, until it ends, a grant that would take it away as
// a side effect (a role replacing a time-bound role, a demotion to end user
// that removes a time-bound group or custom role, a custom role for someone
// a time-bound admin role keeps admin). Time-bound grants do not make their
// holder a leaver; a leaver by standing access is deprovisioned whole,
// time-bound grants included. The plan does not compare an expiry with its
// clock: a mark past its time means that the revoke at expiry is late, and
// the plan still leaves the grant to it.
//
// The guards are checked over the changes (Change.Blocked, Plan.Guards); a
// plan whose run a cap refuses is still returned, for review.
func NewPlan(ctx context.Context, policy *Policy, dir Directory, snap *access.Snapshot, opts *PlanOptions) (*Plan, error) {
	var o PlanOptions
	if opts != nil {
		o = *opts
	}
	switch {
	case policy == nil:
		return nil, errors.New("provision: plan: no policy")
	case dir == nil:
		return nil, errors.New("provision: plan: no directory")
	case snap == nil:
		return nil, errors.New("provision: plan: no snapshot")
	}
	if err := o.Guards.Validate(); err != nil {
		return nil, fmt.Errorf("provision: plan: %w", err)
	}
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	ix := newIndex(snap)
	rp, err := resolve(policy, ix, o.Facts)
	if err != nil {
		return nil, err
	}
	people, err := readPeople(ctx, policy, dir)
	if err != nil {
		return nil, err
	}
	b := &planner{ix: ix, rp: rp, desired: map[string]*desired{}}
	if err := b.plan(ctx, people); err != nil {
		return nil, err
	}

	prov := snap.Provenance()
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	objectTypes := slices.Clone(o.ObjectTypes)
	slices.Sort(objectTypes)
	objectTypes = slices.Compact(objectTypes)
	p := &Plan{
		Version:         PlanVersion,
		Backend:         prov.Backend,
		Account:         prov.Account,
		SnapshotHash:    snap.Hash(),
		SnapshotTakenAt: prov.TakenAt.UTC().Round(0),
		PolicyDigest:    policy.Digest(),
		CreatedAt:       now().UTC().Round(0),
		ObjectTypes:     objectTypes,
		Changes:         b.sorted(),
		Basis:           map[string]string{},
		Labels:          map[string]string{},
		Conflicts:       b.conflicts,
	}
	if p.ObjectTypes == nil {
		p.ObjectTypes = []string{}
	}
	if p.Guards, err = o.Guards.Check(snap, o.Facts, p.Changes); err != nil {
		return nil, fmt.Errorf("provision: plan: %w", err)
	}
	if o.Facts.AdminEntitlementID != "" {
		p.AdminEntitlementID = o.Facts.AdminEntitlementID
		p.Admins = slices.Sorted(maps.Keys(activeHolders(snap, o.Facts.AdminEntitlementID)))
	}
	for _, c := range p.Conflicts {
		if _, ok := snap.Resource(c.Principal); ok {
			p.Labels[c.Principal] = principalLabel(snap, c.Principal)
		}
		for _, eid := range slices.Concat([]string{c.Kept}, c.Dropped) {
			if eid != "" {
				p.Labels[eid] = ix.label(eid)
			}
		}
	}
	h := sha256.New()
	for _, c := range p.Changes {
		if c.PrincipalID != "" {
			if _, ok := p.Basis[c.PrincipalID]; !ok {
				p.Basis[c.PrincipalID] = ix.basis(c.PrincipalID, objectTypes, h)
				p.Labels[c.PrincipalID] = principalLabel(snap, c.PrincipalID)
			}
		}
		for _, id := range slices.Concat([]string{c.EntitlementID}, c.Removes) {
			if eid, _, _ := cutGrant(id); eid != "" {
				p.Labels[eid] = ix.label(eid)
			}
		}
	}
	return p, nil
}

// cutGrant splits a grant ID (or takes an entitlement ID whole).
func cutGrant(id string) (eid, principal string, ok bool) {
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] == '@' {
			return id[:i], id[i+1:], true
		}
	}
	return id, "", false
}

// principalLabel names a principal: its e-mail address, or its name.
func principalLabel(snap *access.Snapshot, id string) string {
	r, _ := snap.Resource(id)
	if e := r.Attributes()["email"]; e != "" {
		return e
	}
	return r.DisplayName()
}

// The errors of plan files.
var (
	// ErrPlanModified means a plan file's content does not match its hash:
	// it was edited after Save wrote it. Errors wrapping it are
	// *PlanModifiedError values.
	ErrPlanModified = errors.New("plan modified after it was saved")
	// ErrWrongAccount means a plan is applied to an account other than
	// the one it was made for. Errors wrapping it are *AccountMismatchError
	// values.
	ErrWrongAccount = errors.New("plan made for another account")
)

// PlanModifiedError reports a plan whose hash does not match its content.
type PlanModifiedError struct {
	// Recorded is the hash the file records ("" if none).
	Recorded string
	// Computed is the hash of its content.
	Computed string
}

// Error says that the plan was modified.
func (e *PlanModifiedError) Error() string {
	if e.Recorded == "" {
		return "provision: load plan: the plan records no hash: " + ErrPlanModified.Error()
	}
	return fmt.Sprintf("provision: load plan: the content hashes to %s, not to the %s recorded: %s (make a new plan instead of editing one)",
		shortHash(e.Computed), shortHash(e.Recorded), ErrPlanModified)
}

// Is reports whether target is ErrPlanModified.
func (e *PlanModifiedError) Is(target error) bool { return target == ErrPlanModified }

// AccountMismatchError reports a plan checked against another account.
type AccountMismatchError struct {
	// PlanBackend and PlanAccount are what the plan was made for.
	PlanBackend, PlanAccount string
	// Backend and Account are what it was checked against.
	Backend, Account string
}

// Error names both accounts.
func (e *AccountMismatchError) Error() string {
	return fmt.Sprintf("provision: the plan was made for %s account %q, not %s account %q: %s",
		e.PlanBackend, e.PlanAccount, e.Backend, e.Account, ErrWrongAccount)
}

// Is reports whether target is ErrWrongAccount.
func (e *AccountMismatchError) Is(target error) bool { return target == ErrWrongAccount }

// shortHash abbreviates a hash to 12 characters for the table.
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// CheckAccount reports whether the plan was made for the account info
// describes (the backend's Info): an *AccountMismatchError if not. Apply
// calls it before anything else.
func (p *Plan) CheckAccount(info access.Info) error {
	if info.Name != p.Backend || info.Account != p.Account {
		return &AccountMismatchError{PlanBackend: p.Backend, PlanAccount: p.Account, Backend: info.Name, Account: info.Account}
	}
	return nil
}

// contentHash is the hash of p's JSON with Hash empty.
func (p *Plan) contentHash() (string, error) {
	c := *p
	c.Hash = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// Save sets p.Hash and writes the plan as indented JSON. The same plan
// always gives the same bytes.
func (p *Plan) Save(w io.Writer) error {
	h, err := p.contentHash()
	if err != nil {
		return fmt.Errorf("provision: save plan: %w", err)
	}
	p.Hash = h
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("provision: save plan: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("provision: save plan: %w", err)
	}
	return nil
}

// maxPlanBytes bounds what LoadPlan reads.
const maxPlanBytes = 1 << 30

// LoadPlan reads a plan Save wrote. It refuses, before anything can be
// applied, a file that is not a plan of this version, that has fields a
// plan does not have, or whose content does not match its hash (a
// *PlanModifiedError: it was edited). The hash detects edits, not forgery:
// whoever can write the file can recompute it, so keep plans where only the
// people who may apply them can write.
func LoadPlan(r io.Reader) (*Plan, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxPlanBytes+1))
	if err != nil {
		return nil, fmt.Errorf("provision: load plan: %w", err)
	}
	return decodePlan(data)
}

// decodePlan reads the bytes of a plan Save wrote, and checks them as
// LoadPlan documents.
func decodePlan(data []byte) (*Plan, error) {
	if len(data) > maxPlanBytes {
		return nil, fmt.Errorf("provision: load plan: larger than %d bytes", maxPlanBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("provision: load plan: line %d: %w", lineOf(data, se.Offset), err)
		}
		return nil, fmt.Errorf("provision: load plan: %w", err)
	}
	if dec.More() {
		return nil, errors.New("provision: load plan: data after the plan")
	}
	if p.Version != PlanVersion {
		return nil, fmt.Errorf("provision: load plan: version %d, want %d", p.Version, PlanVersion)
	}
	got, err := p.contentHash()
	if err != nil {
		return nil, fmt.Errorf("provision: load plan: %w", err)
	}
	if got != p.Hash {
		return nil, &PlanModifiedError{Recorded: p.Hash, Computed: got}
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("provision: load plan: %w", err)
	}
	return &p, nil
}

// ErrInvalidPlan means a plan's changes break the rules NewPlan follows: an
// unknown kind, a change without what it needs, two changes with one ID.
var ErrInvalidPlan = errors.New("invalid plan")

// Validate checks the plan's changes: each of a known kind with what it
// needs (a grant or revoke names a well-formed entitlement and a principal,
// or the person whose account a create in the plan makes; a create names a
// valid person; a deprovisioning step names a principal and a step), and
// change IDs unique. LoadPlan and Apply call it, so that a plan built or
// edited by hand cannot reach the backend half-formed. Errors wrap
// ErrInvalidPlan and name the change.
func (p *Plan) Validate() error {
	seen := make(map[string]bool, len(p.Changes))
	creates := map[string]bool{}
	for _, c := range p.Changes {
		if c.Kind == ChangeCreateAccount && c.Person != nil {
			creates[strings.ToLower(c.Person.Email)] = true
		}
	}
	for i, c := range p.Changes {
		fail := func(format string, args ...any) error {
			return fmt.Errorf("provision: plan: changes[%d] %q: %s: %w", i, c.ID, fmt.Sprintf(format, args...), ErrInvalidPlan)
		}
		if c.ID == "" || seen[c.ID] {
			return fail("the change ID is empty or used twice")
		}
		seen[c.ID] = true
		if c.PrincipalID != "" {
			if _, err := access.ParseResourceID(c.PrincipalID); err != nil {
				return fail("%v", err)
			}
		}
		switch c.Kind {
		case ChangeCreateAccount:
			if c.Person == nil {
				return fail("a create names no person")
			}
			if err := c.Person.Validate(); err != nil {
				return fail("%v", err)
			}
		case ChangeGrant, ChangeRevoke:
			if _, err := access.ParseEntitlementID(c.EntitlementID); err != nil {
				return fail("%v", err)
			}
			if c.PrincipalID == "" && (c.Person == nil || !creates[strings.ToLower(c.Person.Email)]) {
				return fail("names neither a principal nor a person the plan creates an account for")
			}
		case ChangeDeprovision:
			if c.PrincipalID == "" || !c.Step.Valid() {
				return fail("a deprovisioning step needs a principal and a valid step")
			}
		default:
			return fail("unknown kind %q", c.Kind)
		}
	}
	return nil
}
