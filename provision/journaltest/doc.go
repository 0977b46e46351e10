// Package journaltest is the conformance suite every provision.JournalStore
// passes.
//
// A store's tests call Run with a function that returns a new, empty store
// for each subtest:
//
//	func TestConformance(t *testing.T) {
//		journaltest.Run(t, func(t *testing.T) provision.JournalStore {
//			return openEmptyStore(t)
//		})
//	}
//
// The suite checks the store on its own (an empty store; appends that
// follow the head and the compare-and-swap that refuses the others with
// provision.ErrJournalConflict, appending nothing; batches appended all or
// none; ranges in sequence order; lookups by change; unfinished changes;
// every field kept exactly, with no aliasing of what is appended or
// returned; a cancelled context) and under concurrency (many writers
// appending through compare-and-swap loops: the chain stays gapless and
// linked, with every entry once), then through provision.Journal (two
// Journals over one store, as two processes: concurrent changes each
// journaled once, a change ID begun or finished by many at once accepted
// once, Verify and an export clean afterwards).
//
// Subtests run one after another, not in parallel, each with its own store;
// a store backed by a shared database should give each one an empty schema
// or table.
package journaltest
