package zendeskaccess

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Resource type IDs of the backend.
const (
	TypeUser         = "user"
	TypeGroup        = "group"
	TypeOrganization = "organization"
	TypeCustomRole   = "custom_role"
	TypeRole         = "role"
)

// Entitlement slugs: groups and organizations offer "member", custom and
// built-in roles "assigned".
const (
	SlugMember   = "member"
	SlugAssigned = "assigned"
)

// allTypes lists the resource types in the order Info reports them.
var allTypes = []string{TypeUser, TypeGroup, TypeOrganization, TypeCustomRole, TypeRole}

// Scope selects which users the backend reads.
type Scope int

const (
	// ScopeTeamMembers reads agents and admins only (the default): the
	// people who hold seats, groups and roles. End users' organization
	// memberships are left out with them.
	ScopeTeamMembers Scope = iota
	// ScopeAllUsers reads every user, end users included.
	ScopeAllUsers
)

// String returns "team_members" or "all_users", the value recorded in
// Info.Scope["users"].
func (s Scope) String() string {
	switch s {
	case ScopeTeamMembers:
		return "team_members"
	case ScopeAllUsers:
		return "all_users"
	}
	return fmt.Sprintf("Scope(%d)", int(s))
}

// OrgMode says how the backend treats the account setting "users can belong
// to multiple organizations" (user.multiple_organizations). Every mode reads
// the setting; they differ in what an organization grant does on an account
// without it, where a user belongs to one organization only and Zendesk
// answers a new membership by removing the old one:
//
//	mode              setting on           setting off, user in another organization
//	OrgModeRefuse     adds the membership  refused: *OrganizationMoveError, nothing changed
//	OrgModeReplace    adds the membership  moves the user; Result.Replaced names what was removed
//	OrgModeMultiple   adds the membership  fails: ErrMultipleOrganizationsOff (so do Info and Sync)
//
// A user in no organization is simply added in every mode.
type OrgMode int

const (
	// OrgModeRefuse follows the setting (the default): on an account
	// without it, a grant that would move a user out of their organization
	// fails with an *OrganizationMoveError before any change, because a
	// grant never removes access the caller did not name unless the caller
	// allowed it with OrgModeReplace.
	OrgModeRefuse OrgMode = iota
	// OrgModeMultiple requires the setting: Info, Streams and every
	// organization grant, revoke and GrantsFor fail with
	// ErrMultipleOrganizationsOff if it is off.
	OrgModeMultiple
	// OrgModeReplace moves the user on an account without the setting: the
	// grant removes the user's current organization membership and
	// Result.Replaced names it.
	OrgModeReplace
)

// OrgModeDetect is the former name of OrgModeRefuse: the two never
// differed.
//
// Deprecated: use OrgModeRefuse.
const OrgModeDetect = OrgModeRefuse

// String returns the mode's name: "refuse", "multiple" or "replace".
func (m OrgMode) String() string {
	switch m {
	case OrgModeRefuse:
		return "refuse"
	case OrgModeMultiple:
		return "multiple"
	case OrgModeReplace:
		return "replace"
	}
	return fmt.Sprintf("OrgMode(%d)", int(m))
}

// MembershipStrategy chooses how organization memberships are read when the
// account allows multiple organizations (without the setting they come from
// the user objects and cost nothing). See the package documentation for the
// cost of each.
type MembershipStrategy int

const (
	// StrategyAuto picks the cheaper of the two (the default): the
	// account-wide list in ScopeAllUsers; in ScopeTeamMembers the
	// account-wide list if it ends within as many pages as the per-user
	// lists would cost, and the per-user lists otherwise.
	StrategyAuto MembershipStrategy = iota
	// StrategyAccountWide reads GET /organization_memberships, one cursor
	// list over the whole account.
	StrategyAccountWide
	// StrategyPerUser reads GET /users/{id}/organization_memberships for
	// each user in scope who has an organization.
	StrategyPerUser
)

// String returns "auto", "account_wide" or "per_user".
func (s MembershipStrategy) String() string {
	switch s {
	case StrategyAuto:
		return "auto"
	case StrategyAccountWide:
		return "account_wide"
	case StrategyPerUser:
		return "per_user"
	}
	return fmt.Sprintf("MembershipStrategy(%d)", int(s))
}

// defaultConcurrency is the number of per-user lists read at once.
const defaultConcurrency = 4

// maxConcurrency bounds WithConcurrency: beyond it the client's rate limit,
// not latency, decides the pace anyway.
const maxConcurrency = 64

// config is what the options build.
type config struct {
	scope        Scope
	types        map[string]bool
	orgIDs       []int64
	orgNames     []string // lower-cased, trimmed
	orgMode      OrgMode
	fallbackRole int64
	promote      bool
	owner        int64
	strategy     MembershipStrategy
	concurrency  int
}

func defaultConfig() config {
	types := map[string]bool{}
	for _, t := range allTypes {
		types[t] = true
	}
	return config{types: types, concurrency: defaultConcurrency}
}

// Option configures a Backend. Options validate their input: New returns
// the first error.
type Option func(*config) error

// WithScope selects the users read: ScopeTeamMembers (the default) or
// ScopeAllUsers.
func WithScope(s Scope) Option {
	return func(c *config) error {
		if s != ScopeTeamMembers && s != ScopeAllUsers {
			return fmt.Errorf("WithScope: unknown scope %d", int(s))
		}
		c.scope = s
		return nil
	}
}

// WithResourceTypes limits the backend to the given resource types, a subset
// of "user", "group", "organization", "custom_role" and "role". "user" is
// always included, listed or not: users are the principals of every grant.
// Leaving a type out removes its resources, entitlements and grants from the
// streams, saves the requests that read them, and makes Grant and Revoke of
// its entitlements fail with access.ErrUnknownEntitlement.
func WithResourceTypes(types ...string) Option {
	return func(c *config) error {
		if len(types) == 0 {
			return errors.New("WithResourceTypes: no resource types given")
		}
		set := map[string]bool{TypeUser: true}
		for _, t := range types {
			if !slices.Contains(allTypes, t) {
				return fmt.Errorf("WithResourceTypes: unknown resource type %q (want one of %s)", t, strings.Join(allTypes, ", "))
			}
			set[t] = true
		}
		c.types = set
		return nil
	}
}

// WithOrganizations limits organizations, and the memberships of them, to
// those named (compared case-insensitively, as Zendesk does) or whose id is
// listed. Options given more than once add up.
func WithOrganizations(names []string, ids []int64) Option {
	return func(c *config) error {
		if len(names) == 0 && len(ids) == 0 {
			return errors.New("WithOrganizations: no organization names or ids given")
		}
		for _, n := range names {
			n = strings.ToLower(strings.TrimSpace(n))
			if n == "" {
				return errors.New("WithOrganizations: empty organization name")
			}
			c.orgNames = append(c.orgNames, n)
		}
		for _, id := range ids {
			if id <= 0 {
				return fmt.Errorf("WithOrganizations: organization id %d is not positive", id)
			}
			c.orgIDs = append(c.orgIDs, id)
		}
		return nil
	}
}

// WithOrganizationMode sets how the multiple-organizations setting is
// handled (see OrgMode). The default is OrgModeRefuse.
func WithOrganizationMode(m OrgMode) Option {
	return func(c *config) error {
		if m < OrgModeRefuse || m > OrgModeReplace {
			return fmt.Errorf("WithOrganizationMode: unknown mode %d", int(m))
		}
		c.orgMode = m
		return nil
	}
}

// WithCustomRoleFallback names the custom role an agent is given when their
// custom role is revoked. Zendesk has no "no role" for an agent on plans with
// custom roles, so without this option revoking a custom role fails with
// ErrNoFallbackRole rather than guess which role is harmless.
func WithCustomRoleFallback(customRoleID int64) Option {
	return func(c *config) error {
		if customRoleID <= 0 {
			return fmt.Errorf("WithCustomRoleFallback: custom role id %d is not positive", customRoleID)
		}
		c.fallbackRole = customRoleID
		return nil
	}
}

// WithPromoteEndUsers makes a group grant to an end user promote them to
// agent first (taking a seat). By default such a grant fails with a
// *NotAgentError, which wraps access.ErrNotGrantable.
func WithPromoteEndUsers(promote bool) Option {
	return func(c *config) error {
		c.promote = promote
		return nil
	}
}

// WithAccountOwner names the account owner. Zendesk's API does not say who
// owns an account, so the caller must: with this option user resources carry
// "owner" ("true" for this user, "false" for the others; without it the
// attribute is absent), and role changes that would demote the owner are
// refused before any request with an error wrapping access.ErrNotGrantable.
func WithAccountOwner(userID int64) Option {
	return func(c *config) error {
		if userID <= 0 {
			return fmt.Errorf("WithAccountOwner: user id %d is not positive", userID)
		}
		c.owner = userID
		return nil
	}
}

// WithMembershipStrategy chooses how organization memberships are read when
// the account allows multiple organizations. The default is StrategyAuto.
//
// An explicit StrategyAccountWide or StrategyPerUser also makes a sync read the
// memberships on an account without the setting, instead of taking each user's
// organization from organization_id at no cost. Use it on an account that once
// allowed multiple organizations: Zendesk does not document whether turning the
// setting off removes the extra memberships, and a user object shows only one.
func WithMembershipStrategy(s MembershipStrategy) Option {
	return func(c *config) error {
		if s < StrategyAuto || s > StrategyPerUser {
			return fmt.Errorf("WithMembershipStrategy: unknown strategy %d", int(s))
		}
		c.strategy = s
		return nil
	}
}

// WithConcurrency sets how many per-user lists are read at once (default 4,
// at most 64). The client's rate limiter still bounds the request rate;
// concurrency only hides latency.
func WithConcurrency(n int) Option {
	return func(c *config) error {
		if n < 1 || n > maxConcurrency {
			return fmt.Errorf("WithConcurrency: %d is not between 1 and %d", n, maxConcurrency)
		}
		c.concurrency = n
		return nil
	}
}
