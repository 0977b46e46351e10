package provision_test

import (
	"testing"

	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/provision/journaltest"
)

func TestMemoryJournalStoreConformance(t *testing.T) {
	t.Parallel()
	journaltest.Run(t, func(t *testing.T) provision.JournalStore {
		return provision.NewMemoryJournalStore()
	})
}
