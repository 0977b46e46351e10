package plantest_test

import (
	"testing"

	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/provision/plantest"
)

// The suite runs against a Store in memory here too, so that a change to
// the suite is checked in its own package.
func TestRunStoreInMemory(t *testing.T) {
	plantest.Run(t, func(t *testing.T) provision.PlanStore {
		s, err := provision.OpenStore(t.Context(), "sqlite::memory:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
