// Package zendeskaccess is the Zendesk access.Backend: it reads who has which
// access in a Zendesk account into the portable model of package access, and
// grants and revokes that access, through a zendesk.Client.
//
//	client, err := zendesk.NewClient("acme", zendesk.WithOAuthToken(token))
//	...
//	b, err := zendeskaccess.New(client, zendeskaccess.WithCustomRoleFallback(staffRoleID))
//	snap, err := access.Sync(ctx, b, nil)
//
// # Model
//
// Resource types and their entitlements:
//
//	user           user:<id>                    the principal of every grant
//	group          group:<id>                   group:<id>:member
//	organization   organization:<id>            organization:<id>:member
//	custom_role    custom_role:<id>             custom_role:<id>:assigned
//	role           role:end-user|agent|admin    role:<name>:assigned
//
// custom_role is present only on plans with custom roles (Enterprise and
// above; GET /custom_roles answers 403 on others, which is not an error).
// Users carry email, role, role_type, suspended, active, last_login_at,
// external_id and, with WithAccountOwner, owner: Zendesk's API does not say
// who owns the account, so the caller names the owner. Grants carry
// principal_suspended, and memberships default (the user's default group or
// organization). Streams emit *User, *Group, *Organization, *CustomRole,
// BuiltInRole and *Grant values (or access records with the same content),
// and Grant, Revoke and GrantsFor return *Grant values.
//
// Options choose the scope: team members (agents and admins, the default) or
// all users; the resource types read; and organizations by name or id.
//
// # Sync cost
//
// Each collection is read by one cursor stream, 100 records a request, and
// never by one request per group or per user where an account-wide list
// exists:
//
//	users                    GET /users?role[]=agent&role[]=admin (team members; one list serves both roles)
//	                         or GET /users (all users)
//	groups                   GET /groups
//	group_memberships        GET /group_memberships
//	organizations            GET /organizations
//	organization_memberships only with multiple organizations; see below
//	custom_roles, roles      no request of their own
//
// Info adds GET /account/settings (when organizations are read) and GET
// /custom_roles (when custom roles are), which tell the streams whether the
// account allows multiple organizations and has custom roles; Streams reuses
// what the last Info read if it is under a minute old, so a sync pays for
// them once. Built-in roles and custom-role holders come from the user
// objects. Without multiple organizations a user's only organization is
// organization_id on the user object, so no membership is read at all.
// For example, an account of 1,000 users (80 of them team members), 50
// groups, 200 organizations and 1,850 group memberships syncs in 25 requests
// with team members in scope (1 of them for users) and 34 with all users
// (see TestSyncCost).
//
// # Multiple organizations
//
// With the account setting user.multiple_organizations on, memberships are
// read with one of two strategies (WithMembershipStrategy):
//
//   - account-wide, GET /organization_memberships: ceil(M/100) requests for
//     the M memberships of the account, end users' included;
//   - per user, GET /users/{id}/organization_memberships for each user in
//     scope whose organization_id is set (a user without one has no
//     membership): k requests for k such users, more only for users in over
//     100 organizations.
//
// StrategyAuto decides with what it knows. With all users in scope the
// account-wide list is never dearer (the sum over users of ceil(m_i/100) is
// at least ceil(M/100)), so it is used. With team members only, k is known
// once the users are read but M is not (Zendesk gives no count with cursor
// pagination), so Auto reads the account-wide list for up to k pages: if it
// ends by then it cost no more than the per-user lists would, and it is
// used; if not, M exceeds 100k, the per-user lists are cheaper, and Auto
// switches to them. That is the rent-or-buy rule: at worst k+1 requests
// more than the cheaper choice, at best none, whatever M is. In a typical
// account, where agents seldom belong to organizations and end users often
// do, it switches after a few pages.
//
// The OrgMode (WithOrganizationMode) says what a grant does on an account
// without the setting, where adding an organization moves the user:
// OrgModeRefuse (the default) refuses with an *OrganizationMoveError before
// any change, OrgModeReplace moves the user and reports the membership it
// removed in Result.Replaced, and OrgModeMultiple fails whenever the setting
// is off. (OrgModeDetect, the old default, was the same as OrgModeRefuse and
// remains as a deprecated alias.)
//
// Zendesk does not document what becomes of the extra memberships of users in
// several organizations when the setting is turned off. If they are kept, the
// free single-organization sync (organization_id only) does not see them; an
// explicit WithMembershipStrategy makes the sync read the membership lists on
// such an account too.
//
// # Concurrency and rate limits
//
// The streams are independent cursor lists that access.Sync runs
// concurrently, so when latency rather than the rate limit is the bottleneck
// several requests are in flight. The membership streams start at once and
// filter by the users in scope when the users stream is done, so that a
// user created during the sync never leaves a dangling grant; whichever
// stream needs a collection first reads it, so Sync may run the streams in
// any order and at any concurrency, one at a time included. Per-user lists
// run WithConcurrency at a time. The client's rate limiter paces every
// request, so the sync never exceeds the limit Zendesk advertises (or the one
// the client was given).
//
// # Grants and revokes
//
// Grant and Revoke are idempotent: granting what exists reports
// access.StatusAlreadyGranted and revoking what is gone
// access.StatusAlreadyRevoked. Each first reads the user (GET /users/{id});
// then see Backend.Grant and Backend.Revoke. Errors wrap
// access.ErrUnknownEntitlement, access.ErrUnknownPrincipal (a 404 from
// Zendesk), access.ErrNotGrantable or access.ErrMalformedID, and the typed
// errors of this package, which callers inspect with errors.As:
//
//	var move *zendeskaccess.OrganizationMoveError
//	if errors.As(err, &move) {
//		log.Printf("user %d stays in organization %d", move.UserID, move.From)
//	}
//
// GrantMany and RevokeMany (access.BulkChanger) change group memberships
// with bulk jobs, 100 items a job, polled together. GrantMany reads nothing
// first: Zendesk's answer says which memberships existed. RevokeMany must
// find each membership's id, and does so per group with whichever costs
// fewer requests: reading each affected user's memberships (k requests for
// k users) or listing the group's memberships (ceil(n/100) for n members,
// n from the last sync if it is under a minute old, otherwise from GET
// /groups/{id}/users/count, asked for only when 1 + 1 < k). Revoking a
// group of 1,000 members from all of them costs 1 count, 10 pages and 10
// jobs with their polls, where reading each user cost 1,000 reads; see
// Backend.RevokeMany. Other entitlements go one by one.
//
// A group grant to an end user fails with a *NotAgentError unless
// WithPromoteEndUsers allows promoting them to agent. Revoking a custom role
// gives the agent the role named by WithCustomRoleFallback (without one it
// fails with ErrNoFallbackRole); revoking admin demotes to agent, and
// revoking agent demotes to end user.
package zendeskaccess
