// Package zendesktest is a faithful, stateful, in-memory Zendesk Support API
// server for tests, demos and benchmarks, in the manner of net/http/httptest.
//
// It is not a set of canned responses: it keeps an account (users, groups,
// organizations, custom roles, group and organization memberships, bulk jobs)
// and applies Zendesk's rules to every request:
//
//   - the /api/v2 paths of those areas, with and without ".json", and
//     POST /oauth/tokens; unknown paths answer 404 InvalidEndpoint, a known
//     path with another method 405, unknown ids 404 RecordNotFound;
//   - authentication with API tokens (Basic "email/token:TOKEN"; the email
//     names the caller, who must be a live, unsuspended agent or admin) and
//     OAuth bearer tokens (client_credentials and refresh_token grants,
//     expiring after WithTokenTTL);
//   - permissions by role: agents read, may create and update end-users and
//     manage end-users' organization memberships; everything else needs an
//     admin (403 Forbidden); OAuth tokens without a write scope cannot write;
//   - cursor pagination (page[size] up to 100, page[after], page[before];
//     meta and links with absolute URLs built from the request's Host) and
//     offset pagination (page, per_page, count) that answers 400 past 10,000
//     records; /users/search is offset-only;
//   - the lists under a parent, each with both paginations and 404
//     RecordNotFound for an unknown parent: /groups/{id}/users,
//     /groups/{id}/memberships, /groups/{id}/memberships/assignable,
//     /organizations/{id}/users, /organizations/{id}/organization_memberships,
//     /users/{id}/group_memberships, /users/{id}/organization_memberships,
//     /users/{id}/groups and /users/{id}/organizations (and the account-wide
//     /group_memberships/assignable). The user lists
//     take the filters of GET /users (role, role[], permission_set,
//     external_id), and /organizations/{id}/users its sort_by (id, name,
//     created_at, updated_at) and sort_order; a user's organization
//     memberships come default first, then by organization name;
//   - the counts clients size their work with, {"count":{"value":N,
//     "refreshed_at":...}}: /users/count (role, role[], permission_set),
//     /groups/count, /organizations/count, /deleted_users/count,
//     /groups/{id}/users/count and /organizations/{id}/users/count (role,
//     role[], permission_set), /users/{id}/groups/count and
//     /users/{id}/organizations/count; each value is the number of records
//     the matching list returns;
//   - agents-only group membership, duplicate-membership 422s, default
//     group and default organization promotion, the multiple-organizations
//     setting (at most 300 per user), soft then permanent user deletion,
//     account-owner protection, agent seats, plan gating of custom roles;
//   - bulk create/destroy of memberships, and the users' create_many,
//     create_or_update_many and update_many (by ids=, external_ids= or one
//     update per user), as asynchronous job_statuses whose items follow the
//     rules of the single calls; the users' imports (create_many,
//     create_or_update_many) answer 403 Forbidden unless
//     WithBulkUserImports(true), as on a Zendesk account where nobody asked
//     Zendesk to enable them;
//   - the incremental user export (cursor based) with its own budget;
//   - rate limits with the real headers and 429 + Retry-After, and the limit
//     of five updates a minute per user;
//   - fault injection (see Faults), deterministic from a seed.
//
// Start a server with NewServer, seed it with WithAccount (see AccountSpec and
// DemoAccount) and point a client at Server.URL with Server.Credentials.
// Millions of users take seconds to generate: WithGenerateProgress reports
// how far generation has come, and GenerateNotes says where the account
// differs from the AccountSpec (memberships it could not place) and why.
// Stats, RequestLog and the state helpers (User, AddUser, Counts...) let tests
// assert on what the client did.
//
// # Tests that wait on time
//
// Latency, job delays, token expiry and rate-limit refills follow the time
// package, so a simulator created inside a testing/synctest bubble runs on
// the bubble's fake clock (WithClock sets another clock for what it
// covers). Serve it there with New and Handler over an in-memory connection
// (net.Pipe, for example through an http.Transport's DialContext): a
// goroutine blocked on a loopback socket keeps the bubble's clock from
// advancing.
//
// # Rate limits
//
// Each budget is a token bucket whose capacity is the per-minute limit and
// which refills continuously at limit/60 tokens per second. A client that
// paces itself at limit/60 requests per second is never throttled, and an
// idle client may burst up to the full limit. Every response carries
// X-Rate-Limit, X-Rate-Limit-Remaining, ratelimit-limit, ratelimit-remaining
// and ratelimit-reset (seconds until the bucket is full) unless
// WithAdvertiseRateLimit(false); incremental export responses also carry
// Zendesk-RateLimit-incremental-exports. A refused request costs nothing.
// Every other request to /api/v2 spends a token, including unauthenticated
// and unknown-path requests; injected faults are decided before the budget
// and spend nothing. POST /oauth/tokens is not rate limited.
//
// Updates of one user (PUT /users/{id}) are also limited per user, to
// WithUserUpdateLimit (default 5, Zendesk's limit as third parties transcribe
// it) in any window of a minute on the simulator's clock: a sliding window,
// the strictest reading, so that a client that keeps to it also keeps to a
// fixed window or a token bucket of that size. The update over the limit
// answers 429 with a Retry-After of the seconds until the user's oldest
// update in the window leaves it, the account's rate-limit headers, and the
// body Zendesk documents for its other per-record update limits,
// {"errors":[{"code":"TooManyRequests","title":"Too many requests to
// update"}]}. Every authenticated PUT /users/{id} counts, whatever its
// outcome; a refused one counts neither there nor in the account's budget.
// The updates made by update_many and create_or_update_many jobs, and POST
// /users/create_or_update, do not count: Zendesk documents the limit on
// Update User only. WithUserUpdateLimit(0) and WithoutRateLimit lift it.
//
// # Fault injection
//
// WithFaults makes a fraction of requests fail before they reach the
// account, so a faulted request has no effect (see FaultKind). Whether the
// n-th eligible request fails, and how, depends only on (Faults.Seed, n).
//
// # Query parameters
//
// Each endpoint applies the query parameters listed above for it. Like
// Zendesk, which ignores a parameter an endpoint does not take (a group
// filter on /users lists every user), the simulator ignores the others and
// answers as if they were absent. In particular GET /group_memberships and
// /organization_memberships take no group_id, user_id or organization_id:
// with one they list the whole account; the lists under a parent
// (/groups/{id}/memberships, /users/{id}/group_memberships,
// /organizations/{id}/organization_memberships...) are the way to filter.
// So that a test can catch a client that believes it filtered, the answer to
// a GET that carries any of include, sort, include_boundary_indicators,
// include_item_cursors, brand_id, group_id, user_id or organization_id, none
// of which the simulator applies anywhere, names them in the
// Zendesk-Sim-Ignored-Params header (IgnoredParamsHeader) and in
// RequestRecord.Ignored.
//
// # Not modelled
//
// Tickets and every other API area; sideloads (include=...), sort and
// brands; custom-role permissions of agents (an agent is an agent, whatever
// its role's manage_* flags); user identities, photos, user and
// organization fields; the users' destroy_many; search beyond users; the
// time-based incremental export; updates of last_login_at by requests.
//
// # Choices where Zendesk's behaviour is undocumented
//
// The simulator follows the official OpenAPI document and real payloads.
// Where they are silent it does the following (verify against a tenant):
//
//   - Deleting the account owner answers 403 Forbidden; suspending or
//     downgrading the owner answers 422 RecordInvalid on suspended or role.
//   - Creating or promoting an agent past the seats answers 422
//     RecordInvalid with details.role ("Subscription limit reached").
//     Admins, agents and suspended agents take seats; agents whose custom
//     role is a light agent (role_type 1) or contributor (3) do not.
//   - custom_role_id is refused with 422 on plans below Enterprise, and
//     GET /custom_roles answers 403 Forbidden there. Plain agents have
//     custom_role_id and role_type null; admins have role_type 4.
//   - New agents join the account's default group (the first generated
//     group, "Support") when they are given no group; downgrading to end-user
//     removes the user's group memberships and custom role.
//   - Adding a second organization while multiple organizations are off
//     replaces the first (WithSingleOrganizationMode(RefuseMembership) answers
//     422 instead). Turning the setting off keeps existing memberships.
//   - Ids in a membership body that name no live user, group or organization
//     answer 422 RecordInvalid; unknown ids in the path answer 404.
//   - /groups/{id}/users and /organizations/{id}/users list the members in
//     the order they joined (membership ids) unless sort_by is given; names
//     sort ignoring ASCII case. A deleted group lists no users; a deleted
//     organization is not found.
//   - Counts are exact and refreshed_at is the simulator's clock (Zendesk
//     refreshes counts above 100,000 once a day and may then answer a
//     capped value with refreshed_at null). /groups/count counts deleted
//     groups, as GET /groups lists them.
//   - An "assignable" group membership is one whose user may be assigned
//     tickets: live, not suspended, and an admin or an agent that is not a
//     light agent (role_type 1) or a contributor (3).
//   - A soft-deleted user is still shown by GET /users/{id} (active:false)
//     but not listed; its email and external_id are freed. DELETE
//     /deleted_users/{id} of a live user answers 404; a second permanent
//     delete answers 422. A purged user stays in /deleted_users as
//     "Permanently Deleted User" with no email.
//   - Deleting a group marks it deleted (GET /groups lists it unless
//     exclude_deleted=true) and removes its memberships; the default group
//     cannot be deleted (422).
//   - Updating a user's email is validated but does not change the primary
//     email (Zendesk adds a secondary identity).
//   - The ids of show_many and destroy_many are separated by commas
//     (ids=1,2,3), as Zendesk documents. A repeated ids parameter (ids=1&ids=2,
//     which the spec describes for DELETE /organization_memberships/
//     destroy_many) answers 400 InvalidValue rather than act on one of them.
//   - Malformed JSON bodies answer 400 {"error":"InvalidJSON"}; values of
//     the wrong type answer 422 RecordInvalid; bad pagination parameters 400
//     InvalidPaginationParameter.
//   - Job results, one per item in the order of the items: create_many
//     {id,index}; delete {id,action:"delete",status:"Deleted",success};
//     update_many {id,action:"update",status:"Updated",success};
//     create_or_update_many the same with action "create" and status
//     "Created" for a user it created; failures {id or index, action (but in
//     create_many), success:false, error, details}, with index where no
//     record is involved (a failed creation, an unknown external id). Results
//     carry no email or external_id. job_type values are the simulator's own.
//     At most 30 jobs may be queued or running (429 TooManyJobs), jobs are
//     kept an hour, the list shows the last 100.
//   - A bulk request of the wrong shape is refused whole, with no job: more
//     than 100 items 400 TooManyValues, none 400 InvalidValue, a value of the
//     wrong type 422 as for single calls; update_many takes either a "user"
//     body with ids= or external_ids= or a "users" body whose items name
//     their user by id or external_id (400 otherwise). Within a job each item
//     is checked when the job runs, as its single call would be: a duplicate
//     email (of an existing user or of an earlier item), the seats, the
//     owner's protection and an agent's right to write end-users only are
//     failures of that item.
//   - With bulk imports disabled, create_many and create_or_update_many
//     answer 403 {"error":"Forbidden","description":"Bulk user imports are
//     not enabled for this account. ..."}; update_many is not an import and
//     works either way.
//   - The incremental export refuses a start_time less than a minute old
//     (400) and includes deleted users (active:false).
//   - last_login_at is generated, not updated by requests, so responses stay
//     deterministic.
//   - An end-user's API token or a suspended user's credentials answer 401
//     "Couldn't authenticate you".
//
// Record ids are dense per type and use distinct ranges (users 10000000001..,
// groups 20000000001.., organizations 30.., group memberships 40..,
// organization memberships 50.., custom roles 60..), so passing the id of
// one type where another is expected yields 404, as it would on Zendesk.
package zendesktest
