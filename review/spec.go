package review

import (
	"context"
	"strings"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/provision"
)

// ItemKind says what one item of a campaign is.
type ItemKind string

// The kinds of item.
const (
	// KindGrant: each grant in scope is an item of its own.
	KindGrant ItemKind = "grant"
	// KindAccount: each principal in scope is one item, with all of its
	// grants in scope; a revoke revokes them all.
	KindAccount ItemKind = "account"
)

// Verdict is a reviewer's decision on an item.
type Verdict string

// The verdicts.
const (
	// Certify keeps the access.
	Certify Verdict = "certify"
	// Revoke takes it away. It requires a justification.
	Revoke Verdict = "revoke"
)

// Default is what Close does with the items nobody decided.
type Default string

// The defaults at close.
const (
	// DefaultOpen leaves undecided items undecided, and the evidence
	// reports them (the default).
	DefaultOpen Default = "open"
	// DefaultKeep certifies them.
	DefaultKeep Default = "keep"
	// DefaultRevoke revokes them.
	DefaultRevoke Default = "revoke"
)

// RemediateWhen says when revoked items are carried out.
type RemediateWhen string

// When revokes are carried out.
const (
	// RemediateAtClose: Close carries out every revoked item (the
	// default).
	RemediateAtClose RemediateWhen = "at_close"
	// RemediateOnDecision: a revoke is carried out as soon as it is
	// decided, by Decide and DecideMany when the Store has a Remediator
	// (WithRemediator), and by Remediate otherwise.
	RemediateOnDecision RemediateWhen = "on_decision"
)

// Consensus says how the decisions of several reviewers of one item make
// its outcome.
type Consensus string

// The consensus rules.
const (
	// AnyRevoke: one revoke revokes the item; it is certified when every
	// reviewer certified it (the default).
	AnyRevoke Consensus = "any_revoke"
	// AllRevoke: one certify keeps the item; it is revoked when every
	// reviewer revoked it.
	AllRevoke Consensus = "all_revoke"
)

// GrantFilter narrows a scope to time-bound or to standing grants.
type GrantFilter string

// The grant filters.
const (
	// AllGrants keeps every grant (the zero value).
	AllGrants GrantFilter = ""
	// TimeBoundGrants keeps only grants that end at a set time
	// (access.GrantRecord.ExpiresAt).
	TimeBoundGrants GrantFilter = "time_bound"
	// StandingGrants keeps only grants that do not.
	StandingGrants GrantFilter = "standing"
)

// Scope selects the population of a campaign from a snapshot. Each field
// that is set narrows it; the zero Scope takes every grant. A principal is
// in the population if it passes the principal filters and holds at least
// one grant that passes the grant filters.
type Scope struct {
	// ResourceTypes keeps grants of entitlements of these resource types
	// ("group", "custom_role").
	ResourceTypes []string `json:"resource_types,omitempty"`
	// Entitlements keeps grants of these entitlements.
	Entitlements []string `json:"entitlements,omitempty"`
	// Principals keeps grants held by these principals.
	Principals []string `json:"principals,omitempty"`
	// Grants keeps only time-bound or only standing grants.
	Grants GrantFilter `json:"grants,omitempty"`
	// Admins keeps only principals who are admins: their "role"
	// attribute is "admin", or they hold AdminEntitlement.
	Admins bool `json:"admins,omitempty"`
	// AdminEntitlement is the entitlement that makes an admin
	// (default "role:admin:assigned", Zendesk's).
	AdminEntitlement string `json:"admin_entitlement,omitempty"`
	// CustomRoles keeps only principals who hold a custom role: a grant
	// of an entitlement of resource type "custom_role". (For the
	// custom-role grants themselves, set ResourceTypes.)
	CustomRoles bool `json:"custom_roles,omitempty"`
	// UnusedDays, if above zero, keeps only accounts unused for that many
	// days before the snapshot was taken: their "last_login_at" attribute
	// is older, or absent (never used).
	UnusedDays int `json:"unused_days,omitempty"`
	// Attributes keeps only principals whose attributes hold each of
	// these values ({"role": "agent"}).
	Attributes map[string]string `json:"attributes,omitempty"`
}

// RuleKind is the kind of a reviewer rule.
type RuleKind string

// The kinds of reviewer rule, and the rules an assignment can come from.
const (
	// RuleOwner: the owners of the resource the access is on (a group, an
	// organization, a role), from ReviewerRule.Owners.
	RuleOwner RuleKind = "owner"
	// RuleManager: the person's manager, from CampaignSpec.Managers.
	RuleManager RuleKind = "manager"
	// RuleNamed: the reviewers ReviewerRule.Reviewers names.
	RuleNamed RuleKind = "named"
	// RuleFallback: CampaignSpec.Fallback, when no rule gave an eligible
	// reviewer.
	RuleFallback RuleKind = "fallback"
	// RuleReassigned: Campaign.Reassign moved the item to the reviewer.
	RuleReassigned RuleKind = "reassigned"
	// RuleDelegated: Campaign.Delegate handed the item to the reviewer.
	RuleDelegated RuleKind = "delegated"
)

// ReviewerRule assigns reviewers to items.
type ReviewerRule struct {
	// Kind is RuleOwner, RuleManager or RuleNamed.
	Kind RuleKind `json:"kind"`
	// Owners, for RuleOwner, maps resource IDs ("group:12",
	// "organization:3", "custom_role:7", "role:admin") to their owners.
	// An item of an account is reviewed by the owners of every resource
	// its grants are on.
	Owners map[string][]string `json:"owners,omitempty"`
	// Reviewers, for RuleNamed, are the reviewers of every item.
	Reviewers []string `json:"reviewers,omitempty"`
}

// ManagerSource tells the managers of people: the directory. A platform
// implements it on its identity provider; ManagerMap is a map.
type ManagerSource interface {
	// Managers returns the reviewer who manages each person that has a
	// manager, keyed by the person's e-mail address in lower case.
	// People without a manager are left out.
	Managers(ctx context.Context, people []access.Person) (map[string]string, error)
}

// ManagerMap is a ManagerSource held in memory: e-mail address (any case)
// to manager.
type ManagerMap map[string]string

// Managers returns the managers of people (see ManagerSource).
func (m ManagerMap) Managers(_ context.Context, people []access.Person) (map[string]string, error) {
	lower := make(map[string]string, len(m))
	for k, v := range m {
		lower[strings.ToLower(k)] = v
	}
	out := make(map[string]string)
	for _, p := range people {
		k := strings.ToLower(p.Email)
		if v, ok := lower[k]; ok && v != "" {
			out[k] = v
		}
	}
	return out, nil
}

// CampaignSpec describes a campaign to create. Name, and at least one
// rule or fallback reviewer, are required; the rest have defaults.
//
// Reviewers are identified by a string of the caller's choosing, as
// provision.JournalActor.Who is: an e-mail address or a principal ID. A
// reviewer is the person under review (and never decides on the item) if
// the string is the item's principal ID, or the principal's e-mail
// address (compared case-insensitively).
type CampaignSpec struct {
	// ID names the campaign in journal IDs and Actor sources: 1 to 40
	// bytes of lowercase letters, digits, '-' and '_'. Empty: Create
	// makes one.
	ID string `json:"id"`
	// Name is a human-readable name ("Q1 2026 admins").
	Name string `json:"name"`
	// CreatedBy is who created the campaign.
	CreatedBy string `json:"created_by"`
	// Scope selects the population.
	Scope Scope `json:"scope"`
	// ItemKind is KindGrant (default) or KindAccount.
	ItemKind ItemKind `json:"item_kind"`
	// Reviewers are the rules that assign reviewers to each item, in
	// order: the first rule that gives an item an eligible reviewer
	// assigns it (all the reviewers it gives), unless CombineRules.
	Reviewers []ReviewerRule `json:"reviewers,omitempty"`
	// CombineRules assigns each item the reviewers of every rule, so that
	// an owner and a manager both review it.
	CombineRules bool `json:"combine_rules,omitempty"`
	// Fallback reviewers review an item no rule gives an eligible
	// reviewer (none, or only the person under review).
	Fallback []string `json:"fallback,omitempty"`
	// Managers is the directory RuleManager reads; it is required with
	// that rule. It is not stored.
	Managers ManagerSource `json:"-"`
	// Due is when reviewers should have decided; zero means no due date.
	// Reminders reports who has not.
	Due time.Time `json:"due,omitzero"`
	// Default is what Close does with undecided items: DefaultOpen
	// (default), DefaultKeep or DefaultRevoke.
	Default Default `json:"default"`
	// Remediate says when revokes are carried out: RemediateAtClose
	// (default) or RemediateOnDecision.
	Remediate RemediateWhen `json:"remediate"`
	// Consensus combines several reviewers' decisions: AnyRevoke
	// (default) or AllRevoke.
	Consensus Consensus `json:"consensus"`
	// JustifyCertify requires a justification for certify decisions too
	// (revokes always need one).
	JustifyCertify bool `json:"justify_certify,omitempty"`
	// KeepSnapshot stores the whole snapshot (access.Snapshot.Save's
	// bytes) with the campaign, so that evidence can include it and its
	// hash can be checked again later. Without it, its hash, time, scope,
	// counts and request count are stored.
	KeepSnapshot bool `json:"keep_snapshot,omitempty"`
	// Journal, if set, is read for when, by whom and why each grant was
	// made (the latest grant of it the journal holds). It is not stored.
	Journal *provision.Journal `json:"-"`
}
