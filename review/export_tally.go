package review

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// tally counts what the workbook's overview and the HTML report summarise,
// as an export reads the campaign.
type tally struct {
	Items, Grants, TimeBound                   int
	Certified, Revoked, Undecided              int
	CertifiedByDefault, RevokedByDefault       int
	Remediation                                map[RemediationStatus]int
	Decisions, RevokeDecisions, Certifications int
	Events                                     map[EventKind]int
	Reviewers                                  map[string]*reviewerStats
	Verify                                     map[VerifyMethod]*verifyStats
	// people are the names and e-mail addresses of the principals a drift
	// report names, as the items show them.
	People map[string]*Principal
}

// reviewerStats counts one reviewer's work.
type reviewerStats struct {
	Reviewer string
	// Items counts the items the reviewer actively reviews; Certified,
	// Revoked and Undecided split them by the reviewer's current verdict.
	Items, Certified, Revoked, Undecided int
	// Moved counts items reassigned or delegated away from the reviewer.
	Moved int
	// Decisions counts the decisions the reviewer recorded, changed ones
	// too.
	Decisions int
	// First and Last are the times of the first and the last of them.
	First, Last time.Time
}

// verifyStats counts the remediations verified one way.
type verifyStats struct {
	Method              VerifyMethod
	Items, Verified     int
	First, Last         time.Time
	SnapshotHashes      map[string]bool
	snapshotHashesOrder []string
}

func newTally(drift *DriftReport) *tally {
	t := &tally{Remediation: map[RemediationStatus]int{}, Events: map[EventKind]int{},
		Reviewers: map[string]*reviewerStats{}, Verify: map[VerifyMethod]*verifyStats{}, People: map[string]*Principal{}}
	if drift != nil {
		for _, d := range drift.Items {
			t.People[d.PrincipalID] = nil
		}
	}
	return t
}

// reviewer returns the stats of a reviewer.
func (t *tally) reviewer(r string) *reviewerStats {
	s := t.Reviewers[r]
	if s == nil {
		s = &reviewerStats{Reviewer: r}
		t.Reviewers[r] = s
	}
	return s
}

// add counts a batch.
func (t *tally) add(b *evidenceBatch) {
	for _, d := range b.decisions {
		t.Decisions++
		if d.Verdict == Revoke {
			t.RevokeDecisions++
		} else {
			t.Certifications++
		}
		s := t.reviewer(d.Reviewer)
		s.Decisions++
		if s.First.IsZero() || d.At.Before(s.First) {
			s.First = d.At
		}
		if d.At.After(s.Last) {
			s.Last = d.At
		}
	}
	for _, e := range b.events {
		t.Events[e.Kind]++
	}
	for i := range b.items {
		it := &b.items[i].Item
		t.Items++
		t.Grants += len(it.Grants)
		for _, g := range it.Grants {
			if g.TimeBound() {
				t.TimeBound++
			}
		}
		byDefault := it.Outcome.By == "default"
		switch it.Outcome.State {
		case Certified:
			t.Certified++
			if byDefault {
				t.CertifiedByDefault++
			}
		case Revoked:
			t.Revoked++
			if byDefault {
				t.RevokedByDefault++
			}
			t.Remediation[it.Remediation.Status]++
		default:
			t.Undecided++
		}
		for _, a := range it.Reviewers {
			s := t.reviewer(a.Reviewer)
			if !a.Active {
				s.Moved++
				continue
			}
			s.Items++
			switch a.Verdict {
			case Certify:
				s.Certified++
			case Revoke:
				s.Revoked++
			default:
				s.Undecided++
			}
		}
		if v := it.Remediation.Verification; v != nil {
			vs := t.Verify[v.Method]
			if vs == nil {
				vs = &verifyStats{Method: v.Method, SnapshotHashes: map[string]bool{}}
				t.Verify[v.Method] = vs
			}
			vs.Items++
			if v.Verified {
				vs.Verified++
			}
			if vs.First.IsZero() || v.At.Before(vs.First) {
				vs.First = v.At
			}
			if v.At.After(vs.Last) {
				vs.Last = v.At
			}
			if v.SnapshotHash != "" && !vs.SnapshotHashes[v.SnapshotHash] {
				vs.SnapshotHashes[v.SnapshotHash] = true
				vs.snapshotHashesOrder = append(vs.snapshotHashesOrder, v.SnapshotHash)
			}
		}
		if p, ok := t.People[it.Principal.ID]; ok && p == nil {
			pc := it.Principal
			pc.Attributes = nil
			t.People[it.Principal.ID] = &pc
		}
	}
}

// reviewerList returns the reviewers' stats by reviewer.
func (t *tally) reviewerList() []*reviewerStats {
	out := slices.Collect(maps.Values(t.Reviewers))
	slices.SortFunc(out, func(a, b *reviewerStats) int { return cmp.Compare(a.Reviewer, b.Reviewer) })
	return out
}

// verifyList returns the verification stats by method.
func (t *tally) verifyList() []*verifyStats {
	out := slices.Collect(maps.Values(t.Verify))
	slices.SortFunc(out, func(a, b *verifyStats) int { return cmp.Compare(a.Method, b.Method) })
	return out
}

// eventKinds are the kinds of event in the order reports list them.
var eventKinds = []EventKind{EventCreated, EventReassigned, EventDelegated, EventReminded, EventDefault, EventClosed, EventRemediated, EventDrift}

// remediationStatuses are the statuses of a revoked item in the order
// reports list them.
var remediationStatuses = []RemediationStatus{RemediationDone, RemediationFailed, RemediationManual, RemediationPending}

// remediationText names a remediation status; RemediationNone is "not
// started".
func remediationText(s RemediationStatus) string {
	if s == RemediationNone {
		return "not started"
	}
	return string(s)
}

// describeScope says in words what a scope selects.
func describeScope(s Scope) string {
	var parts []string
	if len(s.ResourceTypes) > 0 {
		parts = append(parts, "resource types "+strings.Join(s.ResourceTypes, ", "))
	}
	if len(s.Entitlements) > 0 {
		parts = append(parts, "entitlements "+strings.Join(s.Entitlements, ", "))
	}
	if len(s.Principals) > 0 {
		parts = append(parts, "principals "+strings.Join(s.Principals, ", "))
	}
	switch s.Grants {
	case TimeBoundGrants:
		parts = append(parts, "time-bound grants only")
	case StandingGrants:
		parts = append(parts, "standing grants only")
	}
	if s.Admins {
		a := s.AdminEntitlement
		if a == "" {
			a = "role:admin:assigned"
		}
		parts = append(parts, "admins only ("+a+")")
	}
	if s.CustomRoles {
		parts = append(parts, "holders of a custom role only")
	}
	if s.UnusedDays > 0 {
		parts = append(parts, fmt.Sprintf("accounts unused for %d days", s.UnusedDays))
	}
	if len(s.Attributes) > 0 {
		parts = append(parts, "attributes "+describeMap(s.Attributes))
	}
	if len(parts) == 0 {
		return "every grant of the snapshot"
	}
	return strings.Join(parts, "; ")
}

// describeMap writes a map as "k=v, k=v", by key.
func describeMap(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ", ")
}

// describeRules says in words how reviewers were assigned.
func describeRules(spec CampaignSpec) string {
	var parts []string
	for _, r := range spec.Reviewers {
		switch r.Kind {
		case RuleOwner:
			owners := map[string]bool{}
			for _, os := range r.Owners {
				for _, o := range os {
					owners[o] = true
				}
			}
			parts = append(parts, fmt.Sprintf("owners of %d resources (%d people)", len(r.Owners), len(owners)))
		case RuleManager:
			parts = append(parts, "the person's manager")
		case RuleNamed:
			parts = append(parts, "named: "+strings.Join(r.Reviewers, ", "))
		default:
			parts = append(parts, string(r.Kind))
		}
	}
	s := strings.Join(parts, spec.ruleJoin())
	if len(spec.Fallback) > 0 {
		if s != "" {
			s += "; "
		}
		s += "fallback: " + strings.Join(spec.Fallback, ", ")
	}
	return s
}

// ruleJoin is how the rules combine, in words.
func (s CampaignSpec) ruleJoin() string {
	if s.CombineRules {
		return ", and "
	}
	return ", else "
}

// utc formats a time for a report: "2006-01-02 15:04:05 UTC", "" for zero.
func utc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}
