// Package accesstest is the conformance suite every access.Backend passes.
//
// A backend's tests call Run with a Harness that creates a fresh backend for
// each subtest:
//
//	func TestConformance(t *testing.T) {
//		accesstest.Run(t, accesstest.Harness{
//			NewBackend: func(t *testing.T) access.Backend {
//				return newBackendAgainstSimulator(t)
//			},
//		})
//	}
//
// The suite syncs the backend and checks the snapshot (well-formed, unique
// IDs; grants that reference existing entitlements and principals of a
// grantable type; byte-identical snapshots from two syncs; Save/Load round
// trips; progress counts; cancellation), then grants and revokes (status
// and idempotency, the change visible in a new sync, typed errors for
// unknown, malformed and ungrantable requests; aliased spellings of real
// IDs, such as "user:042" for "user:42" or a needless percent escape, refused
// through the backend and through access.System and changing nothing) and
// exercises the optional capabilities the backend implements, comparing
// GrantsFor and ReadPrincipals with the full sync for every principal, and
// Holders with it for every entitlement the backend lists the holders of.
// A revoke's Result must say what else it changed (Added, Replaced), as a
// new sync shows it.
package accesstest
