package zendeskaccess

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/zendesk"
)

// BackendName is the name Info reports.
const BackendName = "zendesk"

// stateTTL is how long an account state read by Info (or by a grant) is
// reused by Streams, Grant, Revoke and GrantsFor. Sync calls Info and then
// Streams at once, so a sync reads the state exactly once; a long-running
// process still notices a changed setting within a minute.
const stateTTL = time.Minute

// Backend is the Zendesk access.Backend. It also implements
// access.RequestCounter and access.PrincipalGrantsLister. It is safe for
// concurrent use. Create one with New.
type Backend struct {
	client *zendesk.Client
	cfg    config
	attrs  *grantAttrs
	now    func() time.Time

	locks      keyedLocks[int64]  // serialise the changes to each user
	emailLocks keyedLocks[string] // serialise account creation per e-mail address
	known      knownSets          // groups and organizations recently seen to exist
	// readUsersOnly makes RevokeMany read every affected user and list no
	// group, as it did before it could: the reference its tests compare with.
	readUsersOnly bool

	mu    sync.Mutex
	state *accountState // the last state read, or nil
	meID  int64         // the credential's own user, once read
}

var (
	_ access.Backend               = (*Backend)(nil)
	_ access.RequestCounter        = (*Backend)(nil)
	_ access.PrincipalGrantsLister = (*Backend)(nil)
	_ access.TypeDeclarer          = (*Backend)(nil)
)

// accountState is what the backend reads about the account before a sync.
type accountState struct {
	readAt time.Time
	// multipleOrgs is user.multiple_organizations; false when organizations
	// are not read.
	multipleOrgs bool
	// customRolesOK reports whether the plan has custom roles and
	// custom_role is among the resource types; customRoles lists them.
	customRolesOK bool
	customRoles   []zendesk.CustomRole
}

// New returns a backend reading and changing the account client talks to.
func New(client *zendesk.Client, opts ...Option) (*Backend, error) {
	if client == nil {
		return nil, errors.New("zendeskaccess: New: client is nil")
	}
	cfg := defaultConfig()
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, fmt.Errorf("zendeskaccess: %w", err)
		}
	}
	if (len(cfg.orgIDs) > 0 || len(cfg.orgNames) > 0) && !cfg.types[TypeOrganization] {
		return nil, errors.New("zendeskaccess: WithOrganizations needs the organization resource type (WithResourceTypes)")
	}
	slices.Sort(cfg.orgIDs)
	cfg.orgIDs = slices.Compact(cfg.orgIDs)
	slices.Sort(cfg.orgNames)
	cfg.orgNames = slices.Compact(cfg.orgNames)
	return &Backend{client: client, cfg: cfg, attrs: newGrantAttrs(), now: time.Now}, nil
}

// Requests returns the number of HTTP requests the client has sent, retries
// included (zendesk.Client.RequestCount). The count covers every user of the
// client, not only this backend.
func (b *Backend) Requests() int64 { return b.client.RequestCount() }

// Info reads the account state (GET /account/settings when organizations are
// read, GET /custom_roles when custom roles are: at most two requests, sent
// concurrently) and describes the backend. It reads afresh on every call and
// Streams reuses what it read, so each sync pays for it once. custom_role is
// among the resource types only if the plan has custom roles. With
// OrgModeMultiple it fails with ErrMultipleOrganizationsOff if the account
// does not allow multiple organizations.
func (b *Backend) Info(ctx context.Context) (access.Info, error) {
	st, err := b.readState(ctx)
	if err == nil {
		err = b.requireMultiple(st)
	}
	if err != nil {
		return access.Info{}, fmt.Errorf("zendeskaccess: info: %w", err)
	}
	return b.info(st), nil
}

// requireMultiple fails with OrgModeMultiple on an account without multiple
// organizations: the check of Info, Streams and GrantsFor. Grants and
// revokes of other entitlements do not depend on the setting and are not
// refused.
func (b *Backend) requireMultiple(st *accountState) error {
	if b.cfg.orgMode == OrgModeMultiple && b.cfg.types[TypeOrganization] && !st.multipleOrgs {
		return fmt.Errorf("OrgModeMultiple: %w", ErrMultipleOrganizationsOff)
	}
	return nil
}

// DeclaredTypes implements access.TypeDeclarer: the resource types the
// configuration allows (custom_role included even where the plan has none),
// with their ID syntaxes, without any request.
func (b *Backend) DeclaredTypes() []access.ResourceType {
	var out []access.ResourceType
	for _, t := range allTypes {
		if b.cfg.types[t] {
			out = append(out, resourceTypes[t])
		}
	}
	return out
}

func (b *Backend) info(st *accountState) access.Info {
	var types []access.ResourceType
	for _, t := range b.types(st) {
		types = append(types, resourceTypes[t])
	}
	scope := map[string]string{
		"users":          b.cfg.scope.String(),
		"resource_types": strings.Join(b.types(st), ","),
	}
	if b.cfg.types[TypeOrganization] {
		scope["multiple_organizations"] = fmt.Sprint(st.multipleOrgs)
		if len(b.cfg.orgIDs) > 0 {
			ids := make([]string, len(b.cfg.orgIDs))
			for i, id := range b.cfg.orgIDs {
				ids[i] = itoa(id)
			}
			scope["organization_ids"] = strings.Join(ids, ",")
		}
		if len(b.cfg.orgNames) > 0 {
			scope["organization_names"] = strings.Join(b.cfg.orgNames, ",")
		}
	}
	return access.Info{Name: BackendName, Account: b.client.Subdomain(), Scope: scope, ResourceTypes: types}
}

// types returns the resource types the streams emit, given the state.
func (b *Backend) types(st *accountState) []string {
	var out []string
	for _, t := range allTypes {
		if b.cfg.types[t] && (t != TypeCustomRole || st.customRolesOK) {
			out = append(out, t)
		}
	}
	return out
}

var resourceTypes = map[string]access.ResourceType{
	TypeUser:         {ID: TypeUser, DisplayName: "User", Traits: []access.Trait{access.TraitUser}, IDSyntax: access.IDSyntaxPositiveInt},
	TypeGroup:        {ID: TypeGroup, DisplayName: "Group", Traits: []access.Trait{access.TraitGroup}, IDSyntax: access.IDSyntaxPositiveInt},
	TypeOrganization: {ID: TypeOrganization, DisplayName: "Organization", Traits: []access.Trait{access.TraitOrganization}, IDSyntax: access.IDSyntaxPositiveInt},
	TypeCustomRole:   {ID: TypeCustomRole, DisplayName: "Custom role", Traits: []access.Trait{access.TraitRole}, IDSyntax: access.IDSyntaxPositiveInt},
	TypeRole:         {ID: TypeRole, DisplayName: "Role", Traits: []access.Trait{access.TraitRole}},
}

// readState reads the account settings and custom roles the configuration
// needs, remembers them and returns them.
func (b *Backend) readState(ctx context.Context) (*accountState, error) {
	st := &accountState{readAt: b.now()}
	g, gctx := errgroup.WithContext(ctx)
	if b.cfg.types[TypeOrganization] {
		g.Go(func() error {
			s, _, err := b.client.Account.Settings(gctx)
			if err != nil {
				return fmt.Errorf("read account settings: %w", err)
			}
			st.multipleOrgs = s.User.MultipleOrganizations
			return nil
		})
	}
	if b.cfg.types[TypeCustomRole] {
		g.Go(func() error {
			roles, err := zendesk.Collect(b.client.CustomRoles.List(gctx))
			switch {
			case errors.Is(err, zendesk.ErrForbidden):
				// Plans below Enterprise have no custom roles: not an error.
				return nil
			case err != nil:
				return fmt.Errorf("list custom roles: %w", err)
			}
			st.customRolesOK, st.customRoles = true, roles
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.state = st
	b.mu.Unlock()
	return st, nil
}

// currentState returns the state read within stateTTL, or reads it.
func (b *Backend) currentState(ctx context.Context) (*accountState, error) {
	b.mu.Lock()
	st := b.state
	b.mu.Unlock()
	if st != nil && b.now().Sub(st.readAt) < stateTTL {
		return st, nil
	}
	return b.readState(ctx)
}

// multipleOrgs reports the multiple-organizations setting, from a recent
// state or by reading the settings (one request); fresh always reads. With
// OrgModeMultiple it fails if the setting is off.
func (b *Backend) multipleOrgs(ctx context.Context, fresh bool) (bool, error) {
	b.mu.Lock()
	st := b.state
	b.mu.Unlock()
	var on bool
	if !fresh && st != nil && b.now().Sub(st.readAt) < stateTTL {
		on = st.multipleOrgs
	} else {
		s, _, err := b.client.Account.Settings(ctx)
		if err != nil {
			return false, fmt.Errorf("read account settings: %w", err)
		}
		on = s.User.MultipleOrganizations
	}
	if b.cfg.orgMode == OrgModeMultiple && !on {
		return false, fmt.Errorf("OrgModeMultiple: %w", ErrMultipleOrganizationsOff)
	}
	return on, nil
}

// orgSelected reports whether an organization passes the WithOrganizations
// filter. name is needed only when names were given.
func (b *Backend) orgSelected(id int64, name string) bool {
	if len(b.cfg.orgIDs) == 0 && len(b.cfg.orgNames) == 0 {
		return true
	}
	if _, ok := slices.BinarySearch(b.cfg.orgIDs, id); ok {
		return true
	}
	_, ok := slices.BinarySearch(b.cfg.orgNames, strings.ToLower(strings.TrimSpace(name)))
	return ok
}

// orgFilterByName reports whether deciding orgSelected needs the name.
func (b *Backend) orgFilterByName() bool { return len(b.cfg.orgNames) > 0 }

// inScope reports whether a user is read by the streams.
func (b *Backend) inScope(u *zendesk.User) bool {
	return u.Active && (b.cfg.scope == ScopeAllUsers || u.IsTeamMember())
}

// newUser wraps a Zendesk user.
func (b *Backend) newUser(u *zendesk.User) *User {
	return &User{User: *u, Owner: b.cfg.owner != 0 && u.ID == b.cfg.owner, ownerKnown: b.cfg.owner != 0}
}
