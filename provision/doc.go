// Package provision governs access and accounts on top of package access:
// it creates the accounts people lack, takes them away safely when access
// ends, gives day-one access from identity-provider groups by plan and
// apply, grants access for a while and takes it back at expiry, checks
// every change against guards first, and journals every change,
// tamper-evidently. It talks to Zendesk only through access.System
// and the optional backend capabilities (access.AccountManager,
// access.BulkChanger, access.BulkAccountCreator, access.PrincipalReader,
// access.HolderLister, access.GuardFactsProvider), never through package
// zendesk.
//
// # Accounts
//
// access.System.CreateAccount gives a person (e-mail, name, external id) an
// account, agent by default, idempotently: a person matched by e-mail, then
// external id, is reported as existing, and concurrent creates make one
// account. Deprovision takes one step of the ladder none < suspend <
// downgrade < soft delete < permanent delete and reports what each removes;
// access.DefaultLadder is Zendesk's own guidance for leavers, downgrade (frees
// the seat, removes group memberships and custom role, keeps the account and
// its tickets) then suspend (blocks sign-in). Reactivate undoes a mistake.
//
// # Guards
//
// Guards run before any write and refuse with a *GuardError naming the
// guard: never the account owner (zendeskaccess.WithAccountOwner), never
// the last active admin, never the user zgov's credential acts as
// (/users/me), never a principal on Guards.Protected; and a run that would
// make more than Guards.MaxDestructive destructive changes, or touch more
// than Guards.MaxTeamShare of the team members, is refused as a whole
// unless the caller raises the cap. Guards.Check reports what the caps
// would block, for a dry run.
//
// # Plan and apply
//
// A Policy (YAML or JSON, with errors naming file, line and field; or Go)
// maps the groups of a Directory to access: a built-in role, a custom role,
// groups, organizations. NewPlan compares them with a Snapshot and lists,
// deterministically, every Change: accounts to create, grants, revokes of
// managed access, the ladder steps of leavers; each with its side effects
// (Change.Removes, Change.SideEffects), the guard that blocks it, and each
// principal's Basis (what the plan saw). Plans are saved as JSON with a
// content hash (an edited plan is refused) and printed as a table. A grant
// the snapshot marks as time-bound (access.SyncOptions.TimeBound) is held
// until it ends: a plan never revokes it, never grants it again as standing
// access, never replaces it, and does not count it to make its holder a
// leaver.
//
// Apply carries a plan out through access.System: bulk jobs where Zendesk
// has them (100 items a job, 30 jobs at once), each principal checked first
// against the plan's Basis with one batched read per 100 principals (a
// drifted principal's changes are skipped as stale, or done if already in
// effect), every change journaled before and after it runs. Apply is
// resumable: killed at any point and run again, it converges with no change
// done twice and none lost.
//
// Do carries out changes that come from no plan (a time-bound grant and its
// revoke at expiry, a review's revoke decision) through the same machinery:
// validated first, guarded on what the backend says now, journaled under
// the caller's journal IDs (idempotency keys: a change the journal shows
// finished is not done again, one begun and never finished is done again
// and finished), in bulk where the backend has bulk endpoints. It has no
// plan to detect drift against; the backend's idempotent answers make a
// change already in effect done.
//
// # Time-bound grants
//
// TimeBound grants access for a while (TimeBoundRequest.For, or Until) and
// takes it back when the time is up, even if the process that granted it
// died in between. Grant writes the record (who gets what, who asked and
// why, until when) and the expiry job in one transaction in the Store's
// database, and only then grants, through Do: guards first, journaled as
// "timebound/<id>/grant". A process that dies before the grant is made
// leaves a pending record whose expiry still ends it; Grant again with the
// same request and TimeBoundRequest.ID finishes it. The jobs run on River
// (riverqueue/river), whose tables NewTimeBound creates in the same
// database, SQLite or PostgreSQL: Run works them until its context ends,
// in the process that grants or in any number of others on the database
// (examples/jit-worker is such a process), and each expiry runs once.
//
// A principal who held the entitlement before the time-bound grant keeps
// it: Grant records such a grant as Standing, and its end changes nothing,
// journals that the access was kept ("timebound/<id>/keep", status kept)
// and leaves the grant TimeBoundKept. Any other grant is revoked at expiry
// through Do ("timebound/<id>/revoke"), checked against
// TimeBoundOptions.Guards but not their blast-radius caps: an expiry takes
// back only what a time-bound grant gave, and a cap would leave the access
// in place. The grants expiring in one second are ended by one job,
// together, in bulk where the backend has bulk endpoints (the job starts
// early and waits, so that the revokes start at the end of that second). A
// revoke that fails is tried again (MaxAttempts, Backoff); when every
// attempt has failed, or a guard refused it, the grant is TimeBoundFailed,
// the journal holds each attempt, and OnFailure is called, for a platform
// to page someone: the access is still there, and End tries again.
//
// Every worker sweeps, every SweepInterval, for open grants past their
// expiry that no job ended (a lost job, a worker that died, a database
// restored from a backup) and schedules an expiry for them; Sweep does it
// once. Notices (TimeBoundOptions.Notices, such as 24h and 1h before the
// expiry) are scheduled with the grant, in the same transaction, by the
// process that grants or extends it, and OnNotice is called by the worker
// whose Run picks the notice up: a platform offers an extension. (So the
// granting process's Notices decide which notices there are, and the
// workers' OnNotice what is done with them; a worker without OnNotice
// logs the notice.) Extend moves the end of an open grant, later or earlier, scheduling the new
// expiry and notices in one transaction; End ends a grant now, in the
// calling process, and returns it as it ended. Get and List read the
// records.
//
// Plans treat time-bound grants as held: Marks returns the open grants
// that are not standing, with their expiries, to pass as
// access.SyncOptions.TimeBound, so that the snapshot marks them
// (access.GrantRecord.ExpiresAt) and a plan neither revokes them nor grants
// them again as standing access.
//
// # Journal
//
// A Journal is the tamper-evident record of changes: who changed what, when
// and why, and how it ended. A change is journaled in two entries appended
// to a JournalStore, one before it runs and one after it ends (from the
// package's Journal example):
//
//	e, err := j.Begin(ctx, "", actor, provision.JournalGrantOp(req))
//	if err != nil {
//		log.Fatal(err) // not journaled: do not make the change
//	}
//	res, err := sys.Grant(ctx, req)
//	if _, ferr := j.Finish(ctx, e.ChangeID, provision.JournalOutcomeOf(res, err)); ferr != nil {
//		log.Fatal(ferr)
//	}
//
// The started entry holds the time, the actor (who asked, the reason, and
// the source that authorised it: "ticket:JIRA-1", "review:...", "plan:...")
// and the operation (grant, revoke, create_account, deprovision, reactivate,
// with its ids). The finished entry repeats them and adds the outcome: the
// status, the grant, the grants added and replaced on the way, a note, the
// Zendesk request ids, or the error and its class. A change that was
// interrupted (a crash, a lost connection) stays started and never
// finished: Unfinished lists such changes, so that a resuming caller checks
// the system and finishes them.
//
// Change IDs tie the two entries together. Begin generates one, or takes the
// caller's as an idempotency key: a change ID the journal already holds is
// refused with ErrJournalDuplicateChange, even when several processes begin
// it at once, so a plan item keyed by its ID is journaled once. Change
// answers "was change X finished?"; finishing an unknown change is
// ErrJournalUnknownChange, finishing twice ErrJournalChangeFinished. Bad
// input (no actor, an unknown operation, a malformed id) is a
// *JournalInputError naming the field.
//
// The journal records ids, statuses and messages, never credentials; the
// caller must not put secrets (tokens, passwords) in reasons or params.
//
// # Stores and concurrency
//
// JournalStore is small (Head, Append, Entries, ChangeEntries, Unfinished)
// so that SQL databases fit behind it: Append is a compare-and-swap on the
// head, failing with ErrJournalConflict when another writer appended first.
// Journal then reads the head again and retries, so many goroutines and
// many processes can append to one store and the chain stays one line,
// 1, 2, 3, ... without gaps, every entry linked to the one before it.
// MemoryJournalStore is the in-memory store; the journaltest package is the
// conformance suite every store passes.
//
// # Stores
//
// SQLJournalStore keeps the journal in a SQL database, so that it outlives
// the process: OpenSQLJournalStore(ctx, "sqlite:///var/lib/zgov/zgov.db")
// opens a SQLite file (pure Go, no cgo) that many processes may share, in
// WAL mode with every commit synced to disk; "sqlite::memory:" is a
// database in memory, for tests and demos; and
// "postgres://user:password@host:5432/zgov?sslmode=verify-full" a
// PostgreSQL database (through pgx), which many workers on many machines
// may share. The store applies provision's migrations on open, once
// however many processes open a new database together, and refuses a file
// that is not a SQLite database (ErrNotADatabase) or a database that a
// newer zgov migrated (ErrSchemaTooNew) before writing anything; a
// PostgreSQL server it cannot reach or log in to fails the open at once
// with ErrConnect. Each entry is a row holding its canonical JSON, which an
// export writes as it is. An Apply cut short by a crash, or by the end of
// its process, resumes from the journal in the database. A platform with a
// database of its own implements JournalStore and runs journaltest against
// it.
//
// Store holds all of provision's state in one database: OpenStore(ctx,
// dsn) opens it once, Store.Journal is its SQLJournalStore, and
// Store.SavePlan, Store.LoadPlan and Store.Plans keep plans in it, byte for
// byte as Plan.Save writes them and checked on load as LoadPlan checks a
// file; NewTimeBound keeps its grants and their jobs in it too. PlanStore is the small interface of saved plans; the plantest
// package is its conformance suite.
//
// # Shared rate limit
//
// Zendesk's rate limit is the account's, however many processes spend it:
// four workers whose clients each pace themselves to the whole limit send
// four times it, and meet 429s. Store.Limiter(account, requestsPerMinute)
// returns a SharedLimiter, one token bucket per account key (the
// subdomain) kept in the store's database, for zendesk.WithLimiter: every
// process that opens the database and passes the same key and rate paces
// to one budget. A token is taken in one atomic statement; a taker that
// finds none sleeps until the next is due. The bucket holds the client's
// own burst (a twentieth of the rate, 1 to 25) and refills at the rate; on
// PostgreSQL the server's clock times it, so hosts whose clocks differ
// share one time. Four processes of TestSharedLimiterProcesses, sharing
// 300 requests a minute for 5 s, send no more than the burst and 5 a
// second and get no 429; each with its own bucket they do.
//
// # Hash chain
//
// Each entry holds the hash of the entry before it (PrevHash; empty for
// entry 1) and its own Hash: the lowercase hex SHA-256 of the entry's
// canonical encoding without its "hash" member. The canonical encoding of
// an entry is JSON in which:
//
//   - object members are sorted by key (all keys are ASCII; byte order);
//   - there is no white space outside strings;
//   - members whose value is empty are left out: the empty string, the
//     number 0, an empty array, an empty object (so a started entry has no
//     "outcome", entry 1 no "prev_hash");
//   - strings escape '"' and '\' as \" and \\, U+0008, U+0009, U+000A,
//     U+000C and U+000D as \b, \t, \n, \f and \r, and every other character
//     outside U+0020 to U+007E as \u and four lowercase hex digits
//     (characters above U+FFFF as a UTF-16 surrogate pair), so the
//     encoding is ASCII;
//   - "seq" is a decimal integer, the only number;
//   - "time" is the string YYYY-MM-DDThh:mm:ss.ffffffZ (UTC, six
//     fractional digits);
//   - arrays keep their order.
//
// The members are seq, time, kind ("started" or "finished"), change_id,
// actor {who, reason, source}, op {name, entitlement_id, principal_id,
// email, role, step, params}, outcome {status, grant_id, principal_id,
// added, replaced, note, request_ids, error, error_class, params},
// prev_hash and hash; params are objects of strings.
//
// This is what Python's json.dumps(entry, sort_keys=True,
// separators=(",", ":")) writes. An export (ExportJSONL) has one entry per
// line, each line the canonical encoding of the entry with its hash member,
// so an auditor verifies it with any tool: for each line, parse it, remove
// "hash", encode the rest canonically, and compare its SHA-256 with the
// hash; then check that seq counts 1, 2, 3, ... and that each prev_hash is
// the hash of the line before (entry 1 has none). In Python:
//
//	import hashlib, json
//	seq, prev = 0, ""
//	for line in open("journal.jsonl", encoding="ascii"):
//	    e = json.loads(line)
//	    h = e.pop("hash")
//	    body = json.dumps(e, sort_keys=True, separators=(",", ":"))
//	    assert hashlib.sha256(body.encode()).hexdigest() == h
//	    assert e["seq"] == seq + 1 and e.get("prev_hash", "") == prev
//	    seq, prev = e["seq"], h
//	print(seq, prev)  # keep as an anchor
//
// Future fields will be left out when empty, so entries written before
// them keep their hash.
//
// # Verification
//
// Verify (on a store) and VerifyJSONL (on an export, without a store) walk
// the chain and report the first break as a *JournalTamperError
// (ErrJournalTampered) with its sequence number and kind: an entry edited
// (any field), entries deleted, reordered or swapped, an entry rewritten and
// re-hashed so that the next no longer links to it (forged), a store head
// that disagrees with the entries, or entries a Journal would not write (a
// change started again while open, a finish without a start).
//
// What the chain cannot show alone: a tail cut off leaves a valid, shorter
// chain, and a whole chain (or its tail from some entry on) replaced and
// re-hashed consistently is valid too. Detecting those needs an anchor kept
// outside the store: the head (seq and hash) from an earlier verification
// or export, kept by the auditor. Passed to Verify or VerifyJSONL, each
// anchor's entry must still be there with that hash; otherwise the journal
// was truncated or rewritten. Time is not proof of order (clocks differ
// between processes); seq is.
package provision
