// Package plantest is the conformance suite every provision.PlanStore
// passes.
//
// A store's tests call Run with a function that returns a new, empty store
// for each subtest:
//
//	func TestPlanStoreConformance(t *testing.T) {
//		plantest.Run(t, func(t *testing.T) provision.PlanStore {
//			return openEmptyStore(t)
//		})
//	}
//
// The suite checks that a saved plan loads back equal, and saves again to
// the same bytes; that SavePlan sets the plan's hash as Plan.Save does and
// is idempotent, also from many goroutines at once; that a plan the
// function provision.LoadPlan would refuse is not saved; that an unknown or
// malformed hash is provision.ErrPlanNotFound; that neither a saved nor a
// loaded plan is aliased; and that a cancelled context fails.
package plantest
