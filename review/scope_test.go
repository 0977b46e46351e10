package review_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
	"github.com/zgov-io/zgov/review"
)

// TestScope: each filter of a scope narrows the population.
func TestScope(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		_, _, snap := testSystem(t)
		st := openStore(t, dsn)
		for i, tc := range []struct {
			name  string
			scope review.Scope
			want  []string
		}{
			{"resource types", review.Scope{ResourceTypes: []string{"group"}},
				[]string{"group:10:member@user:1", "group:10:member@user:2", "group:11:member@user:2", "group:11:member@user:3"}},
			{"entitlements", review.Scope{Entitlements: []string{"organization:20:member", "custom_role:7:assigned"}},
				[]string{"custom_role:7:assigned@user:2", "organization:20:member@user:1", "organization:20:member@user:4"}},
			{"principals", review.Scope{Principals: []string{dan}},
				[]string{"organization:20:member@user:4", "role:end-user:assigned@user:4"}},
			{"admins", review.Scope{Admins: true},
				[]string{"group:10:member@user:1", "organization:20:member@user:1", "role:admin:assigned@user:1"}},
			{"custom roles", review.Scope{CustomRoles: true},
				[]string{"custom_role:7:assigned@user:2", "group:10:member@user:2", "group:11:member@user:2", "role:agent:assigned@user:2"}},
			{"unused for 90 days", review.Scope{UnusedDays: 90, ResourceTypes: []string{"role"}}, // bob 200 days, cat and dan never
				[]string{"role:agent:assigned@user:2", "role:agent:assigned@user:3", "role:end-user:assigned@user:4"}},
			{"time-bound", review.Scope{Grants: review.TimeBoundGrants}, []string{"group:11:member@user:3"}},
			{"standing", review.Scope{Grants: review.StandingGrants, ResourceTypes: []string{"group"}},
				[]string{"group:10:member@user:1", "group:10:member@user:2", "group:11:member@user:2"}},
			{"attributes", review.Scope{Attributes: map[string]string{"suspended": "true"}},
				[]string{"group:11:member@user:3", "role:agent:assigned@user:3"}},
			{"admins in groups", review.Scope{Admins: true, ResourceTypes: []string{"group"}}, []string{"group:10:member@user:1"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				spec := baseSpec()
				spec.ID = ""
				spec.Name = tc.name
				spec.Scope = tc.scope
				c, err := st.Create(t.Context(), snap, spec)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, grantIDs(items(t, c))); diff != "" {
					t.Errorf("scope %d %+v (-want +got):\n%s", i, tc.scope, diff)
				}
				info, _ := c.Info(t.Context())
				if info.Population.Grants != len(tc.want) || info.Population.Items != len(tc.want) {
					t.Errorf("population %+v, want %d grants", info.Population, len(tc.want))
				}
			})
		}
		spec := baseSpec()
		spec.Scope = review.Scope{Principals: []string{"user:99"}}
		if _, err := st.Create(t.Context(), snap, spec); !errors.Is(err, review.ErrEmptyPopulation) || !errors.Is(err, review.ErrInvalidSpec) {
			t.Errorf("empty population: %v", err)
		}
	})
}

// TestAccountItems: with KindAccount each principal is one item holding
// its grants in scope.
func TestAccountItems(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		_, _, snap := testSystem(t)
		st := openStore(t, dsn)
		spec := baseSpec()
		spec.ItemKind = review.KindAccount
		spec.Scope = review.Scope{ResourceTypes: []string{"group", "organization"}}
		c, err := st.Create(t.Context(), snap, spec)
		if err != nil {
			t.Fatal(err)
		}
		its := items(t, c)
		got := map[string][]string{}
		for _, it := range its {
			if it.Kind != review.KindAccount {
				t.Errorf("item %d kind %s", it.ID, it.Kind)
			}
			got[it.Principal.ID] = grantIDs([]review.Item{it})
		}
		want := map[string][]string{
			ann: {"group:10:member@user:1", "organization:20:member@user:1"},
			bob: {"group:10:member@user:2", "group:11:member@user:2"},
			cat: {"group:11:member@user:3"},
			dan: {"organization:20:member@user:4"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("account items (-want +got):\n%s", diff)
		}
		// Owners of every resource the account's grants are on review it;
		// ann's own organization goes to the fallback.
		if diff := cmp.Diff([]string{"sue@example.com", "ciso@example.com"}, active(its[0])); diff != "" {
			t.Errorf("ann's reviewers (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"sue@example.com", "bill@example.com"}, active(its[1])); diff != "" {
			t.Errorf("bob's reviewers (-want +got):\n%s", diff)
		}
	})
}

// managerSource is a ManagerSource that counts its calls.
type managerSource struct {
	m     review.ManagerMap
	calls int
	err   error
}

func (s *managerSource) Managers(ctx context.Context, people []access.Person) (map[string]string, error) {
	s.calls++
	if s.err != nil {
		return nil, s.err
	}
	return s.m.Managers(ctx, people)
}

// TestReviewers: owners, managers from the directory and named reviewers
// are assigned by rule, with a reason each; a rule that gives the person
// under review routes the item to a fallback reviewer, and the assignment
// says so; with CombineRules every rule's reviewers review.
func TestReviewers(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		_, _, snap := testSystem(t)
		st := openStore(t, dsn)
		dir := &managerSource{m: review.ManagerMap{"BOB@example.com": "ann@example.com", "cat@example.com": "cat@example.com", "ann@example.com": "ceo@example.com"}}

		spec := baseSpec()
		spec.ID = "first-match"
		spec.Managers = dir
		spec.Reviewers = append(spec.Reviewers, review.ReviewerRule{Kind: review.RuleManager})
		c, err := st.Create(ctx, snap, spec)
		if err != nil {
			t.Fatal(err)
		}
		type assignment struct {
			Reviewer, Reason string
			Rule             review.RuleKind
			Fallback         bool
		}
		reviewers := func(c *review.Campaign, grant string) []assignment {
			var out []assignment
			for _, a := range itemOf(t, c, grant).Reviewers {
				out = append(out, assignment{a.Reviewer, a.Reason, a.Rule, a.Fallback})
			}
			return out
		}
		for _, tc := range []struct {
			grant string
			want  []assignment
		}{
			{"group:11:member@user:2", []assignment{{"bill@example.com", "owner of group:11 (Billing)", review.RuleOwner, false}}},
			// No owner of the role: the manager.
			{"role:agent:assigned@user:2", []assignment{{"ann@example.com", "manager of bob@example.com", review.RuleManager, false}}},
			// Ann owns the organization she is a member of.
			{"organization:20:member@user:1", []assignment{{"ciso@example.com",
				"self-review: the owner rule gives ann@example.com, the person under review; routed to a fallback reviewer", review.RuleFallback, true}}},
			// Cat is her own manager in the directory.
			{"role:agent:assigned@user:3", []assignment{{"ciso@example.com",
				"self-review: the manager rule gives cat@example.com, the person under review; routed to a fallback reviewer", review.RuleFallback, true}}},
			// Dan has no manager and the role no owner.
			{"role:end-user:assigned@user:4", []assignment{{"ciso@example.com", "no rule gives a reviewer", review.RuleFallback, true}}},
		} {
			if diff := cmp.Diff(tc.want, reviewers(c, tc.grant)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.grant, diff)
			}
		}
		if dir.calls != 1 {
			t.Errorf("the directory was asked %d times, want once for all", dir.calls)
		}

		spec.ID = "combined"
		spec.CombineRules = true
		spec.Reviewers = append(spec.Reviewers, review.ReviewerRule{Kind: review.RuleNamed, Reviewers: []string{"audit@example.com"}})
		c, err = st.Create(ctx, snap, spec)
		if err != nil {
			t.Fatal(err)
		}
		want := []assignment{
			{"bill@example.com", "owner of group:11 (Billing)", review.RuleOwner, false},
			{"ann@example.com", "manager of bob@example.com", review.RuleManager, false},
			{"audit@example.com", "named reviewer", review.RuleNamed, false},
		}
		if diff := cmp.Diff(want, reviewers(c, "group:11:member@user:2")); diff != "" {
			t.Errorf("combined (-want +got):\n%s", diff)
		}

		// Nobody eligible: the only fallback is the person under review.
		spec = baseSpec()
		spec.ID = "nobody"
		spec.Reviewers = nil
		spec.Fallback = []string{"ann@example.com"}
		spec.Scope = review.Scope{Principals: []string{ann}}
		if _, err := st.Create(ctx, snap, spec); !errors.Is(err, review.ErrNoReviewer) || !strings.Contains(err.Error(), "fallback") {
			t.Errorf("no eligible reviewer: %v", err)
		}
		// The directory fails: nothing is written.
		spec = baseSpec()
		spec.ID = "dirfail"
		spec.Managers = &managerSource{err: errors.New("directory down")}
		spec.Reviewers = []review.ReviewerRule{{Kind: review.RuleManager}}
		if _, err := st.Create(ctx, snap, spec); err == nil || !strings.Contains(err.Error(), "directory down") {
			t.Errorf("directory failure: %v", err)
		}
		if _, err := st.Campaign(ctx, "dirfail"); !errors.Is(err, review.ErrUnknownCampaign) {
			t.Errorf("a campaign was written despite the failure: %v", err)
		}
	})
}

// TestSpecErrors: a bad spec is refused naming the field, and nothing is
// written.
func TestSpecErrors(t *testing.T) {
	t.Parallel()
	_, _, snap := testSystem(t)
	st := openStore(t, sqldbtest.Memory)
	for _, tc := range []struct {
		field string
		edit  func(*review.CampaignSpec)
	}{
		{"name", func(s *review.CampaignSpec) { s.Name = " " }},
		{"id", func(s *review.CampaignSpec) { s.ID = "Q1 2026" }},
		{"item_kind", func(s *review.CampaignSpec) { s.ItemKind = "group" }},
		{"default", func(s *review.CampaignSpec) { s.Default = "maybe" }},
		{"remediate", func(s *review.CampaignSpec) { s.Remediate = "later" }},
		{"consensus", func(s *review.CampaignSpec) { s.Consensus = "majority" }},
		{"scope.grants", func(s *review.CampaignSpec) { s.Scope.Grants = "temporary" }},
		{"scope.unused_days", func(s *review.CampaignSpec) { s.Scope.UnusedDays = -1 }},
		{"scope.entitlements[0]", func(s *review.CampaignSpec) { s.Scope.Entitlements = []string{"group:10"} }},
		{"scope.principals[0]", func(s *review.CampaignSpec) { s.Scope.Principals = []string{"ann"} }},
		{"reviewers", func(s *review.CampaignSpec) { s.Reviewers, s.Fallback = nil, nil }},
		{"reviewers[0].owners", func(s *review.CampaignSpec) { s.Reviewers[0].Owners = map[string][]string{"group10": {"x"}} }},
		{"reviewers[1]", func(s *review.CampaignSpec) {
			s.Reviewers = append(s.Reviewers, review.ReviewerRule{Kind: review.RuleManager})
		}},
		{"reviewers[0].kind", func(s *review.CampaignSpec) { s.Reviewers[0].Kind = "boss" }},
		{"fallback[0]", func(s *review.CampaignSpec) { s.Fallback = []string{""} }},
	} {
		spec := baseSpec()
		tc.edit(&spec)
		_, err := st.Create(t.Context(), snap, spec)
		var se *review.SpecError
		if !errors.As(err, &se) || se.Field != tc.field || !errors.Is(err, review.ErrInvalidSpec) {
			t.Errorf("%s: %v", tc.field, err)
		}
	}
	if ids, _ := st.Campaigns(t.Context()); len(ids) != 0 {
		t.Errorf("campaigns written: %v", ids)
	}
}
