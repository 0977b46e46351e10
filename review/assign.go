package review

import (
	"context"
	"fmt"
	"strings"

	"github.com/zgov-io/zgov/access"
)

// isSelf reports whether reviewer is the principal p: its ID, or its
// e-mail address in any case.
func isSelf(reviewer string, p *Principal) bool {
	return reviewer == p.ID || (p.Email != "" && strings.EqualFold(reviewer, p.Email))
}

// assign gives every item its reviewers by the spec's rules. Rules are
// tried in order: the first that gives an item a reviewer assigns every
// reviewer it gives (every rule's, with CombineRules). A rule that gives
// only the person under review routes the item to the fallback reviewers
// instead, and the assignment's reason says so; so does an item no rule
// gives a reviewer. An item whose fallback reviewers are all the person
// under review is an error wrapping ErrNoReviewer.
func (pop *population) assign(ctx context.Context, spec CampaignSpec) error {
	var managers map[string]string
	for _, r := range spec.Reviewers {
		if r.Kind != RuleManager {
			continue
		}
		people := make([]access.Person, 0, len(pop.principals))
		for _, p := range pop.principals {
			if p.Email != "" {
				people = append(people, access.Person{Email: p.Email, Name: p.Name, ExternalID: p.ExternalID})
			}
		}
		m, err := spec.Managers.Managers(ctx, people)
		if err != nil {
			return fmt.Errorf("review: read managers: %w", err)
		}
		managers = make(map[string]string, len(m))
		for k, v := range m {
			managers[strings.ToLower(k)] = v
		}
		break
	}

	type candidate struct{ reviewer, reason string }
	for i := range pop.items {
		it := &pop.items[i]
		p := &pop.principals[it.principal]
		seen := map[string]bool{}
		add := func(a draftAssignment) {
			if !seen[a.reviewer] {
				seen[a.reviewer] = true
				it.reviewers = append(it.reviewers, a)
			}
		}
		fallback := func(reason string) bool {
			n := 0
			for _, f := range spec.Fallback {
				if !isSelf(f, p) {
					add(draftAssignment{reviewer: f, rule: RuleFallback, reason: reason, fallback: true})
					n++
				}
			}
			return n > 0
		}
		for _, r := range spec.Reviewers {
			var cands []candidate
			switch r.Kind {
			case RuleOwner:
				for _, g := range it.grants {
					eid, _ := cutGrant(g.ID)
					rid := resourceOf(eid)
					for _, o := range r.Owners[rid] {
						reason := "owner of " + rid
						if name := pop.ents[eid].Resource; name != "" {
							reason += " (" + name + ")"
						}
						cands = append(cands, candidate{o, reason})
					}
				}
			case RuleManager:
				if m := managers[strings.ToLower(p.Email)]; m != "" && p.Email != "" {
					cands = append(cands, candidate{m, "manager of " + p.Email})
				}
			case RuleNamed:
				for _, n := range r.Reviewers {
					cands = append(cands, candidate{n, "named reviewer"})
				}
			}
			if len(cands) == 0 {
				continue
			}
			var self []string
			n := 0
			for _, c := range cands {
				if isSelf(c.reviewer, p) {
					self = append(self, c.reviewer)
					continue
				}
				add(draftAssignment{reviewer: c.reviewer, rule: r.Kind, reason: c.reason})
				n++
			}
			if len(self) > 0 {
				// What the person would review of their own access goes to
				// a fallback reviewer, even if others review the rest.
				reason := fmt.Sprintf("self-review: the %s rule gives %s, the person under review; routed to a fallback reviewer", r.Kind, strings.Join(self, ", "))
				if !fallback(reason) && n == 0 {
					return pop.noReviewer(i, reason)
				}
			}
			if !spec.CombineRules {
				break
			}
		}
		if len(it.reviewers) == 0 {
			reason := "no rule gives a reviewer"
			if !fallback(reason) {
				return pop.noReviewer(i, reason)
			}
		}
	}
	return nil
}

func (pop *population) noReviewer(i int, why string) error {
	p := pop.principals[pop.items[i].principal]
	reason := fmt.Sprintf("item %d (%s): %s, and every fallback reviewer is the person under review or there is none", i+1, pop.items[i].grants[0].ID, why)
	if len(pop.items[i].grants) > 1 {
		reason = fmt.Sprintf("item %d (account %s): %s, and every fallback reviewer is the person under review or there is none", i+1, p.ID, why)
	}
	return &SpecError{Field: "fallback", Reason: reason, Err: ErrNoReviewer}
}
