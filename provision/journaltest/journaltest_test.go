package journaltest_test

import (
	"testing"

	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/provision/journaltest"
)

// The suite runs against the in-memory store here too, so that a change to
// the suite is checked in its own package.
func TestRunMemory(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) provision.JournalStore {
		return provision.NewMemoryJournalStore()
	})
}
