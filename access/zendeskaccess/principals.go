package zendeskaccess

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/zendesk"
)

var _ access.PrincipalReader = (*Backend)(nil)

// ObjectTypes implements access.PrincipalReader: roles, custom roles and,
// where a sync takes organizations from the user object (no multiple
// organizations and no explicit membership strategy), organizations.
func (b *Backend) ObjectTypes(ctx context.Context) ([]string, error) {
	st, err := b.currentState(ctx)
	if err != nil {
		return nil, fmt.Errorf("zendeskaccess: object types: %w", err)
	}
	return b.objectTypes(st), nil
}

func (b *Backend) objectTypes(st *accountState) []string {
	var out []string
	for _, t := range []string{TypeRole, TypeCustomRole} {
		if b.cfg.types[t] {
			out = append(out, t)
		}
	}
	if b.cfg.types[TypeOrganization] && !b.readsOrgMemberships(st) {
		out = append(out, TypeOrganization)
	}
	return out
}

// ReadPrincipals implements access.PrincipalReader with GET
// /users/show_many, 100 users a request: each user's role, custom role and
// (where ObjectTypes has it) organization, as a sync shows them. A live user
// outside the scope (an end user with ScopeTeamMembers) exists, with the
// grants the user object shows: the account is there, though a sync leaves
// it out. Deleted and missing users do not exist.
func (b *Backend) ReadPrincipals(ctx context.Context, principalIDs []string) (map[string]access.PrincipalState, error) {
	ids := make([]int64, 0, len(principalIDs))
	out := make(map[string]access.PrincipalState, len(principalIDs))
	for _, p := range principalIDs {
		id, err := parseUserID(p)
		if err != nil {
			return nil, fmt.Errorf("zendeskaccess: read principals: %w", err)
		}
		ids = append(ids, id)
		out[p] = access.PrincipalState{}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	st, err := b.currentState(ctx)
	if err != nil {
		return nil, fmt.Errorf("zendeskaccess: read principals: %w", err)
	}
	orgs := slices.Contains(b.objectTypes(st), TypeOrganization)
	// The chunks are read WithConcurrency at once: latency, not the rate
	// limit, bounds a long list of sequential reads.
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(b.cfg.concurrency)
	for chunk := range slices.Chunk(ids, 100) {
		g.Go(func() error {
			users, err := b.client.Users.GetMany(gctx, chunk)
			if err != nil {
				return fmt.Errorf("zendeskaccess: read principals: %w", err)
			}
			mu.Lock()
			defer mu.Unlock()
			b.recordPrincipals(out, users, st, orgs)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// recordPrincipals puts the state of users into out.
func (b *Backend) recordPrincipals(out map[string]access.PrincipalState, users []zendesk.User, st *accountState, orgs bool) {
	for i := range users {
		u := &users[i]
		if !u.Active {
			continue
		}
		gs := b.userObjectGrants(u, st.hasCustomRole)
		if orgs && u.OrganizationID != nil && b.orgSelected(*u.OrganizationID, "") {
			gs = append(gs, b.attrs.membershipGrant(orgEID(*u.OrganizationID), u.ID, 0, u.Suspended, true))
		}
		out[userRID(u.ID)] = access.PrincipalState{Exists: true, Suspended: u.Suspended, Grants: gs}
	}
}
