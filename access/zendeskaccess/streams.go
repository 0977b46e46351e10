package zendeskaccess

import (
	"context"
	"fmt"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/zendesk"
)

// pageSize is the page size the client asks for (zendesk's default and
// Zendesk's maximum). The membership strategy counts requests in pages of it;
// a client built with a smaller zendesk.WithPageSize makes the account-wide
// list cost more pages than the strategy assumes.
const pageSize = 100

// Stream names.
const (
	StreamUsers                   = "users"
	StreamGroups                  = "groups"
	StreamGroupMemberships        = "group_memberships"
	StreamOrganizations           = "organizations"
	StreamOrganizationMemberships = "organization_memberships"
	StreamCustomRoles             = "custom_roles"
	StreamRoles                   = "roles"
)

// Streams returns one stream per collection read (see the package
// documentation for what each reads and costs). It uses the account state
// the last Info read if that is recent, and reads it otherwise.
func (b *Backend) Streams(ctx context.Context) ([]access.Stream, error) {
	st, err := b.currentState(ctx)
	if err == nil {
		err = b.requireMultiple(st)
	}
	if err != nil {
		return nil, fmt.Errorf("zendeskaccess: streams: %w", err)
	}
	r := &syncRun{b: b, st: st}
	r.users = newJob(r.readUsers)
	streams := []access.Stream{{Name: StreamUsers, Run: r.users.run}}
	if b.cfg.types[TypeGroup] {
		r.groups = newJob(r.readGroups)
		streams = append(streams,
			access.Stream{Name: StreamGroups, Run: r.groups.run},
			access.Stream{Name: StreamGroupMemberships, Run: r.readGroupMemberships})
	}
	if b.cfg.types[TypeOrganization] {
		r.orgs = newJob(r.readOrganizations)
		streams = append(streams, access.Stream{Name: StreamOrganizations, Run: r.orgs.run})
		if b.readsOrgMemberships(st) {
			streams = append(streams, access.Stream{Name: StreamOrganizationMemberships, Run: r.readOrgMemberships})
		}
	}
	if st.customRolesOK {
		streams = append(streams, access.Stream{Name: StreamCustomRoles, Run: r.emitCustomRoles})
	}
	if b.cfg.types[TypeRole] {
		streams = append(streams, access.Stream{Name: StreamRoles, Run: emitRoles})
	}
	return streams, nil
}

// readsOrgMemberships reports whether a sync reads organization memberships
// rather than taking each user's one organization from organization_id: always
// when the account allows multiple organizations, and also without the setting
// when the caller chose a strategy explicitly. Zendesk does not say what
// happens to the memberships of users in several organizations when the
// setting is turned off; if they are kept, only the membership lists show them.
func (b *Backend) readsOrgMemberships(st *accountState) bool {
	return st.multipleOrgs || b.cfg.strategy != StrategyAuto
}

// syncRun is the state shared by the streams of one Streams call.
type syncRun struct {
	b  *Backend
	st *accountState

	users, groups, orgs *job

	// Written by the jobs before they finish; read only after waiting.
	userIdx  map[int64]userFlags // users in scope
	groupIDs map[int64]bool      // live groups
	orgIDs   map[int64]bool      // organizations that pass the filter
}

// userFlags is what the membership streams need to know of a user.
type userFlags uint8

const (
	flagSuspended userFlags = 1 << iota
	flagHasOrg              // organization_id is set: the user has memberships
)

func (f userFlags) suspended() bool { return f&flagSuspended != 0 }

// readUsers is the users stream: one cursor list of the users in scope
// (GET /users?role[]=agent&role[]=admin for team members, which one request
// serves for both roles; GET /users for all users). Built-in and custom role
// grants come from the user objects, and so, without multiple
// organizations, does the one organization membership (organization_id).
func (r *syncRun) readUsers(ctx context.Context, emit func(access.Item) error) error {
	b := r.b
	var opts *zendesk.UserListOptions
	if b.cfg.scope == ScopeTeamMembers {
		opts = &zendesk.UserListOptions{Roles: []zendesk.Role{zendesk.RoleAgent, zendesk.RoleAdmin}}
	}
	singleOrg := b.cfg.types[TypeOrganization] && !b.readsOrgMemberships(r.st)
	idx := map[int64]userFlags{}
	var orgOf [][2]int64 // user id, organization id
	for u, err := range b.client.Users.List(ctx, opts) {
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		if !b.inScope(&u) {
			continue
		}
		var f userFlags
		if u.Suspended {
			f |= flagSuspended
		}
		if u.OrganizationID != nil {
			f |= flagHasOrg
		}
		idx[u.ID] = f
		if err := emit(access.Item{Resource: b.newUser(&u)}); err != nil {
			return err
		}
		for _, g := range b.userObjectGrants(&u, r.st.hasCustomRole) {
			if err := emit(access.Item{Grant: g}); err != nil {
				return err
			}
		}
		if singleOrg && u.OrganizationID != nil {
			orgOf = append(orgOf, [2]int64{u.ID, *u.OrganizationID})
		}
	}
	r.userIdx = idx
	if len(orgOf) == 0 {
		return nil
	}
	// Keep only organizations the organizations stream emits: those that
	// pass the filter, and not one created after that stream passed it.
	if err := r.orgs.wait(ctx); err != nil {
		return err
	}
	for _, p := range orgOf {
		if r.orgIDs[p[1]] {
			g := b.attrs.membershipGrant(orgEID(p[1]), p[0], 0, idx[p[0]].suspended(), true)
			if err := emit(access.Item{Grant: g}); err != nil {
				return err
			}
		}
	}
	return nil
}

// readGroups is the groups stream: GET /groups, deleted groups left out.
func (r *syncRun) readGroups(ctx context.Context, emit func(access.Item) error) error {
	ids := map[int64]bool{}
	at := r.b.now()
	for g, err := range r.b.client.Groups.List(ctx) {
		if err != nil {
			return fmt.Errorf("list groups: %w", err)
		}
		if g.Deleted {
			continue
		}
		ids[g.ID] = true
		if err := emit(access.Item{Resource: &Group{Group: g}}); err != nil {
			return err
		}
		if err := emit(access.Item{Entitlement: groupEntitlement(&g)}); err != nil {
			return err
		}
	}
	r.groupIDs = ids
	r.b.known.setAll(TypeGroup, ids, at)
	return nil
}

// readOrganizations is the organizations stream: GET /organizations, with
// the WithOrganizations filter applied.
func (r *syncRun) readOrganizations(ctx context.Context, emit func(access.Item) error) error {
	ids := map[int64]bool{}
	at := r.b.now()
	for o, err := range r.b.client.Organizations.List(ctx) {
		if err != nil {
			return fmt.Errorf("list organizations: %w", err)
		}
		if !r.b.orgSelected(o.ID, o.Name) {
			continue
		}
		ids[o.ID] = true
		if err := emit(access.Item{Resource: &Organization{Organization: o}}); err != nil {
			return err
		}
		if err := emit(access.Item{Entitlement: orgEntitlement(&o)}); err != nil {
			return err
		}
	}
	r.orgIDs = ids
	r.b.known.setAll(TypeOrganization, ids, at)
	return nil
}

// membership is a group or organization membership as the membership
// streams hold it until the users they filter by are known: 32 bytes, so
// 300,000 of them take 10 MB.
type membership struct {
	id, user, of int64
	isDefault    bool
}

// readGroupMemberships is the group_memberships stream: GET
// /group_memberships, one cursor list over the account, read while the users
// stream runs. Grants are emitted once the users in scope and the groups are
// known, for those only.
func (r *syncRun) readGroupMemberships(ctx context.Context, emit func(access.Item) error) error {
	var buf []membership
	at := r.b.now()
	sizes := map[int64]int{}
	for m, err := range r.b.client.GroupMemberships.List(ctx) {
		if err != nil {
			return fmt.Errorf("list group memberships: %w", err)
		}
		buf = append(buf, membership{id: m.ID, user: m.UserID, of: m.GroupID, isDefault: m.Default})
		sizes[m.GroupID]++
	}
	r.b.known.setGroupSizes(sizes, at) // for RevokeMany's choice of reads
	if err := r.users.wait(ctx); err != nil {
		return err
	}
	if err := r.groups.wait(ctx); err != nil {
		return err
	}
	for _, m := range buf {
		f, ok := r.userIdx[m.user]
		if !ok || !r.groupIDs[m.of] {
			continue
		}
		if err := emit(access.Item{Grant: r.b.attrs.membershipGrant(groupEID(m.of), m.user, m.id, f.suspended(), m.isDefault)}); err != nil {
			return err
		}
	}
	return nil
}

// readOrgMemberships is the organization_memberships stream, present when
// the account allows multiple organizations. See chooseStrategy.
func (r *syncRun) readOrgMemberships(ctx context.Context, emit func(access.Item) error) error {
	b := r.b
	var buf []membership
	switch b.cfg.strategy {
	case StrategyAccountWide:
		var err error
		if buf, _, err = r.listOrgMemberships(ctx, -1); err != nil {
			return err
		}
	case StrategyPerUser:
		return r.perUserOrgMemberships(ctx, emit)
	default: // StrategyAuto
		if b.cfg.scope == ScopeAllUsers {
			// Every membership is in scope, and sum ceil(m_i/100) over the
			// users is never less than ceil(sum m_i/100): the account-wide
			// list is never dearer.
			var err error
			if buf, _, err = r.listOrgMemberships(ctx, -1); err != nil {
				return err
			}
			break
		}
		if err := r.users.wait(ctx); err != nil {
			return err
		}
		k := 0
		for _, f := range r.userIdx {
			if f&flagHasOrg != 0 {
				k++
			}
		}
		if k == 0 {
			return nil // no team member has an organization
		}
		// The per-user lists cost k requests (more only for users with over
		// 100 organizations). Read the account-wide list for up to k pages:
		// if it ends by then it was no dearer; if not, it would have been,
		// so switch. At worst that spends k+1 requests more than the
		// cheaper choice (the rent-or-buy bound), at best nothing.
		var complete bool
		var err error
		if buf, complete, err = r.listOrgMemberships(ctx, k*pageSize); err != nil {
			return err
		}
		if !complete {
			return r.perUserOrgMemberships(ctx, emit)
		}
	}
	if err := r.users.wait(ctx); err != nil {
		return err
	}
	if err := r.orgs.wait(ctx); err != nil {
		return err
	}
	for _, m := range buf {
		if err := r.emitOrgMembership(m, emit); err != nil {
			return err
		}
	}
	return nil
}

// listOrgMemberships reads GET /organization_memberships. With limit >= 0 it
// stops when more than limit memberships exist, reporting complete false.
func (r *syncRun) listOrgMemberships(ctx context.Context, limit int) (buf []membership, complete bool, err error) {
	for m, err := range r.b.client.OrganizationMemberships.List(ctx) {
		if err != nil {
			return nil, false, fmt.Errorf("list organization memberships: %w", err)
		}
		if limit >= 0 && len(buf) == limit {
			return nil, false, nil
		}
		buf = append(buf, membership{id: m.ID, user: m.UserID, of: m.OrganizationID, isDefault: m.Default})
	}
	return buf, true, nil
}

// perUserOrgMemberships reads GET /users/{id}/organization_memberships for
// each user in scope whose organization_id is set (the others have none),
// WithConcurrency lists at a time.
func (r *syncRun) perUserOrgMemberships(ctx context.Context, emit func(access.Item) error) error {
	if err := r.users.wait(ctx); err != nil {
		return err
	}
	if err := r.orgs.wait(ctx); err != nil {
		return err
	}
	var ids []int64
	for id, f := range r.userIdx {
		if f&flagHasOrg != 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.b.cfg.concurrency)
	for _, id := range ids {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			for m, err := range r.b.client.OrganizationMemberships.ListByUser(gctx, id) {
				if zendesk.IsNotFound(err) {
					return nil // deleted since the users stream read it
				}
				if err != nil {
					return fmt.Errorf("list organization memberships of user %d: %w", id, err)
				}
				mm := membership{id: m.ID, user: id, of: m.OrganizationID, isDefault: m.Default}
				if err := r.emitOrgMembership(mm, emit); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

func (r *syncRun) emitOrgMembership(m membership, emit func(access.Item) error) error {
	f, ok := r.userIdx[m.user]
	if !ok || !r.orgIDs[m.of] {
		return nil
	}
	return emit(access.Item{Grant: r.b.attrs.membershipGrant(orgEID(m.of), m.user, m.id, f.suspended(), m.isDefault)})
}

// emitCustomRoles is the custom_roles stream. It sends no request: Info (or
// Streams) read the roles to learn whether the plan has them.
func (r *syncRun) emitCustomRoles(ctx context.Context, emit func(access.Item) error) error {
	for i := range r.st.customRoles {
		cr := &r.st.customRoles[i]
		if err := emit(access.Item{Resource: &CustomRole{CustomRole: *cr}}); err != nil {
			return err
		}
		if err := emit(access.Item{Entitlement: customRoleEntitlement(cr)}); err != nil {
			return err
		}
	}
	return nil
}

// emitRoles is the roles stream: the three built-in roles, no request.
func emitRoles(ctx context.Context, emit func(access.Item) error) error {
	for _, role := range builtInRoles {
		if err := emit(access.Item{Resource: BuiltInRole(role)}); err != nil {
			return err
		}
		if err := emit(access.Item{Entitlement: roleEntitlement(role)}); err != nil {
			return err
		}
	}
	return nil
}
