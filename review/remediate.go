package review

import (
	"errors"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/provision"
)

// Remediator is what carrying out revokes needs: the system, provision's
// journal, and the guards' settings.
type Remediator struct {
	// System is the system the campaign's snapshot was taken of.
	System *access.System
	// Journal is provision's journal: every revoke is journaled under
	// "review/<campaign>/<item>".
	Journal *provision.Journal
	// Who is who carries the revokes out, for the journal (default
	// "zgov-review").
	Who string
	// Guards are provision's guards' settings. Raise MaxDestructive (and
	// give Snapshot, or MaxTeamShare applies to nothing) for campaigns
	// that revoke more than provision.DefaultMaxDestructive grants at
	// once: a cap refuses a whole run, and its items stay pending with
	// the guard named.
	Guards provision.Guards
	// Snapshot, if set, is passed to provision.Do (DoOptions.Snapshot)
	// for the share cap and the last-admin guard.
	Snapshot *access.Snapshot
	// Progress, if set, is called as provision carries the changes out.
	Progress func(provision.ApplyProgress)
}

func (r *Remediator) check() error {
	if r == nil || r.System == nil || r.Journal == nil {
		return errors.New("a Remediator needs a System and a Journal")
	}
	return r.Guards.Validate()
}
