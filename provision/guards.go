package provision

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/zgov-io/zgov/access"
)

// GuardName names the guard that refused a change or a run.
type GuardName string

// The guards. Each refusal is a *GuardError naming one.
const (
	// GuardAccountOwner: the change would take access or the account from
	// the account owner.
	GuardAccountOwner GuardName = "account_owner"
	// GuardLastAdmin: the change would leave the account without an active
	// admin.
	GuardLastAdmin GuardName = "last_admin"
	// GuardSelf: the change would take access or the account from the user
	// zgov's credential acts as, locking zgov out.
	GuardSelf GuardName = "self"
	// GuardProtectedList: the principal is on the caller's protected list.
	GuardProtectedList GuardName = "protected_list"
	// GuardBlastRadius: the run would make more destructive changes, or
	// touch a larger share of team members, than its caps allow.
	GuardBlastRadius GuardName = "blast_radius"
)

// ErrGuard matches every *GuardError.
var ErrGuard = errors.New("refused by a guard")

// GuardError is a refusal by a guard, before any write.
type GuardError struct {
	// Guard names the guard.
	Guard GuardName `json:"guard"`
	// PrincipalID is the principal protected, for the per-change guards.
	PrincipalID string `json:"principal_id,omitempty"`
	// ChangeID is the change refused, for the per-change guards.
	ChangeID string `json:"change_id,omitempty"`
	// Detail says why.
	Detail string `json:"detail"`
}

// Error names the guard and says why it refused.
func (e *GuardError) Error() string {
	if e.ChangeID != "" {
		return fmt.Sprintf("provision: guard %s refuses %s: %s", e.Guard, e.ChangeID, e.Detail)
	}
	return fmt.Sprintf("provision: guard %s refuses the run: %s", e.Guard, e.Detail)
}

// Is reports whether target is ErrGuard.
func (e *GuardError) Is(target error) bool { return target == ErrGuard }

// The default caps of Guards.
const (
	// DefaultMaxDestructive is the default number of destructive changes a
	// run may make.
	DefaultMaxDestructive = 25
	// DefaultMaxTeamShare is the default share of team members a run may
	// touch destructively.
	DefaultMaxTeamShare = 0.10
)

// Guards are the checks run before any write. The per-change guards never
// let a change take access or the account from the account owner, the last
// active admin, the user zgov's credential acts as, or a principal on
// Protected. The blast-radius caps refuse a whole run that would make more
// than MaxDestructive destructive changes (revokes, deprovisioning steps,
// grants that replace another), or touch more than MaxTeamShare of the team
// members; the caller raises a cap explicitly. The zero value is the
// defaults.
type Guards struct {
	// Protected lists principal IDs no change may take anything from (a
	// break-glass admin, service accounts).
	Protected []string
	// MaxDestructive caps the destructive changes of one run; 0 means
	// DefaultMaxDestructive. Negative is an error.
	MaxDestructive int
	// MaxTeamShare caps the share (0 to 1) of team members one run may
	// touch destructively; 0 means DefaultMaxTeamShare. Negative, above 1
	// or NaN is an error.
	MaxTeamShare float64
}

// Validate checks the caps and the protected IDs.
func (g Guards) Validate() error {
	if g.MaxDestructive < 0 {
		return fmt.Errorf("provision: guards: MaxDestructive %d is negative", g.MaxDestructive)
	}
	if math.IsNaN(g.MaxTeamShare) || g.MaxTeamShare < 0 || g.MaxTeamShare > 1 {
		return fmt.Errorf("provision: guards: MaxTeamShare %v is not between 0 and 1", g.MaxTeamShare)
	}
	for _, id := range g.Protected {
		if _, err := access.ParseResourceID(id); err != nil {
			return fmt.Errorf("provision: guards: protected principal: %w", err)
		}
	}
	return nil
}

func (g Guards) caps() (int, float64) {
	n, share := g.MaxDestructive, g.MaxTeamShare
	if n == 0 {
		n = DefaultMaxDestructive
	}
	if share == 0 {
		share = DefaultMaxTeamShare
	}
	return n, share
}

// GuardReport is what Check found: the changes it blocked (also marked in
// Change.Blocked) and what the blast-radius caps measured, so that a dry
// run shows what a cap would block.
type GuardReport struct {
	// Blocked counts the changes a per-change guard refused.
	Blocked int `json:"blocked"`
	// Destructive counts the destructive changes not blocked.
	Destructive int `json:"destructive"`
	// MaxDestructive is the cap that applied.
	MaxDestructive int `json:"max_destructive"`
	// TeamMembers counts the team members in the snapshot.
	TeamMembers int `json:"team_members"`
	// TeamTouched counts the team members a destructive change touches.
	TeamTouched int `json:"team_touched"`
	// MaxTeamShare is the cap that applied.
	MaxTeamShare float64 `json:"max_team_share"`
	// Run is the blast-radius refusal of the whole run, if any.
	Run *GuardError `json:"run,omitempty"`
}

// Check runs the guards over changes, in order, against the access snap
// shows and the facts the backend knows. It sets Blocked on each change a
// per-change guard refuses, and returns the report; report.Run is set when
// the run as a whole exceeds a cap (the caller must not start it). Check
// simulates the changes' effect on admins as it goes, so that two changes
// that each leave one admin cannot together leave none. snap may be nil (Do
// without a snapshot): then the last-admin guard and the share cap, which
// need to know the admins and the team, do not run.
func (g Guards) Check(snap *access.Snapshot, facts access.GuardFacts, changes []Change) (GuardReport, error) {
	if err := g.Validate(); err != nil {
		return GuardReport{}, err
	}
	var types []access.ResourceType
	if snap != nil {
		types = snap.ResourceTypes()
	}
	// A protected ID in another spelling than the snapshot's ("user:007")
	// would protect nobody: refuse it.
	for _, id := range g.Protected {
		for _, t := range types {
			if strings.HasPrefix(id, t.ID+":") {
				if err := t.CheckID(id); err != nil {
					return GuardReport{}, fmt.Errorf("provision: guards: protected principal: %w", err)
				}
			}
		}
	}
	maxN, maxShare := g.caps()
	rep := GuardReport{MaxDestructive: maxN, MaxTeamShare: maxShare}

	protected := map[string]GuardName{}
	for _, id := range g.Protected {
		protected[id] = GuardProtectedList
	}
	if facts.Self != "" {
		protected[facts.Self] = GuardSelf
	}
	for _, id := range facts.Owners {
		protected[id] = GuardAccountOwner
	}
	admins := map[string]bool{}
	team := map[string]bool{}
	if snap != nil {
		admins = activeHolders(snap, facts.AdminEntitlementID)
		for _, eid := range facts.TeamEntitlementIDs {
			for _, g := range snap.GrantsOf(eid) {
				team[g.PrincipalID()] = true
			}
		}
	}
	rep.TeamMembers = len(team)
	touched := map[string]bool{}

	for i := range changes {
		c := &changes[i]
		c.Blocked = nil
		if !c.destructive() || c.PrincipalID == "" {
			continue
		}
		if name, ok := protected[c.PrincipalID]; ok {
			c.Blocked = &GuardError{Guard: name, PrincipalID: c.PrincipalID, ChangeID: c.ID,
				Detail: fmt.Sprintf("%s is %s", c.PrincipalID, protectedWhy(name))}
		} else if admins[c.PrincipalID] && removesAdmin(*c, facts.AdminEntitlementID) {
			if len(admins) == 1 {
				c.Blocked = &GuardError{Guard: GuardLastAdmin, PrincipalID: c.PrincipalID, ChangeID: c.ID,
					Detail: fmt.Sprintf("%s is the last active admin", c.PrincipalID)}
			} else {
				delete(admins, c.PrincipalID)
			}
		}
		if c.Blocked != nil {
			rep.Blocked++
			continue
		}
		rep.Destructive++
		if team[c.PrincipalID] {
			touched[c.PrincipalID] = true
		}
	}
	rep.TeamTouched = len(touched)
	switch {
	case rep.Destructive > maxN:
		rep.Run = &GuardError{Guard: GuardBlastRadius,
			Detail: fmt.Sprintf("%d destructive changes, more than the cap of %d (raise Guards.MaxDestructive to allow it)", rep.Destructive, maxN)}
	case rep.TeamMembers > 0 && float64(rep.TeamTouched) > maxShare*float64(rep.TeamMembers):
		rep.Run = &GuardError{Guard: GuardBlastRadius,
			Detail: fmt.Sprintf("touches %d of %d team members, more than the cap of %.0f%% (raise Guards.MaxTeamShare to allow it)",
				rep.TeamTouched, rep.TeamMembers, 100*maxShare)}
	}
	return rep, nil
}

func protectedWhy(name GuardName) string {
	switch name {
	case GuardAccountOwner:
		return "the account owner"
	case GuardSelf:
		return "the user zgov's credential acts as"
	}
	return "on the protected list"
}

// activeHolders returns the principals holding entitlementID who are not
// suspended (by the grant's principal_suspended attribute or the resource's
// suspended attribute).
func activeHolders(snap *access.Snapshot, entitlementID string) map[string]bool {
	out := map[string]bool{}
	if entitlementID == "" {
		return out
	}
	for _, g := range snap.GrantsOf(entitlementID) {
		if g.Attributes()["principal_suspended"] == "true" {
			continue
		}
		if r, ok := snap.Resource(g.PrincipalID()); ok && r.Attributes()["suspended"] == "true" {
			continue
		}
		out[g.PrincipalID()] = true
	}
	return out
}

// removesAdmin reports whether c takes the admin entitlement away, or makes
// its holder inactive: a revoke of it, any deprovisioning step, a grant that
// replaces it.
func removesAdmin(c Change, adminEID string) bool {
	switch c.Kind {
	case ChangeRevoke:
		return c.EntitlementID == adminEID
	case ChangeDeprovision:
		return c.Step.Destructive()
	case ChangeGrant:
		return slices.Contains(c.Removes, access.GrantID(adminEID, c.PrincipalID))
	}
	return false
}
