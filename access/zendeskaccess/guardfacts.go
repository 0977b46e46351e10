package zendeskaccess

import (
	"context"
	"fmt"

	"github.com/zgov-io/zgov/access"
)

var _ access.GuardFactsProvider = (*Backend)(nil)

// GuardFacts implements access.GuardFactsProvider: the account owner (when
// WithAccountOwner names them: Zendesk's API does not say who it is) and the
// user the client's credential acts as (GET /users/me, read once) are
// protected; role:admin:assigned is the entitlement whose last active holder
// keeps it; the agent and admin roles make a team member; roles, custom
// roles and, without multiple organizations, organizations are exclusive.
func (b *Backend) GuardFacts(ctx context.Context) (access.GuardFacts, error) {
	me, err := b.me(ctx)
	if err != nil {
		return access.GuardFacts{}, fmt.Errorf("zendeskaccess: guard facts: %w", err)
	}
	f := access.GuardFacts{
		Self:               userRID(me),
		AdminEntitlementID: roleEID("admin"),
		TeamEntitlementIDs: []string{roleEID("agent"), roleEID("admin")},
		ExclusiveTypes:     []string{TypeRole, TypeCustomRole},
	}
	if b.cfg.owner != 0 {
		f.Owners = []string{userRID(b.cfg.owner)}
	}
	if b.cfg.types[TypeOrganization] {
		multi, err := b.multipleOrgs(ctx, false)
		if err != nil {
			return access.GuardFacts{}, fmt.Errorf("zendeskaccess: guard facts: %w", err)
		}
		if !multi {
			f.ExclusiveTypes = append(f.ExclusiveTypes, TypeOrganization)
		}
	}
	return f, nil
}

// me returns the id of the user the credential acts as, read once.
func (b *Backend) me(ctx context.Context) (int64, error) {
	b.mu.Lock()
	id := b.meID
	b.mu.Unlock()
	if id != 0 {
		return id, nil
	}
	u, _, err := b.client.Users.Me(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the credential's own user: %w", err)
	}
	b.mu.Lock()
	b.meID = u.ID
	b.mu.Unlock()
	return u.ID, nil
}
