package review

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/zgov-io/zgov/access"
)

// decodeSpec reads a spec as stored.
func decodeSpec(s string) (CampaignSpec, error) {
	var spec CampaignSpec
	if err := json.Unmarshal([]byte(s), &spec); err != nil {
		return CampaignSpec{}, fmt.Errorf("stored spec: %w", err)
	}
	return spec, nil
}

// Limits on the text a campaign stores.
const (
	maxName   = 256  // names, reviewers, actors
	maxReason = 4096 // justifications and reasons
)

// checkText returns a reason if s is not valid UTF-8 of at most max bytes
// without control characters (but newlines and tabs when multiline).
func checkText(s string, max int, multiline bool) string {
	if len(s) > max {
		return fmt.Sprintf("longer than %d bytes", max)
	}
	if !utf8.ValidString(s) {
		return "not valid UTF-8"
	}
	for _, r := range s {
		if r < 0x20 && !(multiline && (r == '\n' || r == '\t' || r == '\r')) || r == 0x7f {
			return "holds a control character"
		}
	}
	return ""
}

// checkReviewer returns a reason if who is not a reviewer's name.
func checkReviewer(who string) string {
	if strings.TrimSpace(who) == "" {
		return "empty"
	}
	if strings.TrimSpace(who) != who {
		return "has leading or trailing white space"
	}
	return checkText(who, maxName, false)
}

// validCampaignID reports whether id may name a campaign.
func validCampaignID(id string) bool {
	if id == "" || len(id) > 40 {
		return false
	}
	for i := range len(id) {
		if c := id[i]; !('a' <= c && c <= 'z') && !('0' <= c && c <= '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// normalize checks spec, fills in its defaults and returns it; the error
// is a *SpecError naming the first field refused.
func normalize(spec CampaignSpec) (CampaignSpec, error) {
	bad := func(field, format string, args ...any) error {
		return &SpecError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	if spec.ID != "" && !validCampaignID(spec.ID) {
		return spec, bad("id", "%q is not 1 to 40 bytes of lowercase letters, digits, '-' and '_'", spec.ID)
	}
	if strings.TrimSpace(spec.Name) == "" {
		return spec, bad("name", "empty")
	}
	if r := checkText(spec.Name, maxName, false); r != "" {
		return spec, bad("name", "%s", r)
	}
	if spec.CreatedBy != "" {
		if r := checkReviewer(spec.CreatedBy); r != "" {
			return spec, bad("created_by", "%s", r)
		}
	}
	switch spec.ItemKind {
	case "":
		spec.ItemKind = KindGrant
	case KindGrant, KindAccount:
	default:
		return spec, bad("item_kind", "%q is not %q or %q", spec.ItemKind, KindGrant, KindAccount)
	}
	switch spec.Default {
	case "":
		spec.Default = DefaultOpen
	case DefaultOpen, DefaultKeep, DefaultRevoke:
	default:
		return spec, bad("default", "%q is not %q, %q or %q", spec.Default, DefaultOpen, DefaultKeep, DefaultRevoke)
	}
	switch spec.Remediate {
	case "":
		spec.Remediate = RemediateAtClose
	case RemediateAtClose, RemediateOnDecision:
	default:
		return spec, bad("remediate", "%q is not %q or %q", spec.Remediate, RemediateAtClose, RemediateOnDecision)
	}
	switch spec.Consensus {
	case "":
		spec.Consensus = AnyRevoke
	case AnyRevoke, AllRevoke:
	default:
		return spec, bad("consensus", "%q is not %q or %q", spec.Consensus, AnyRevoke, AllRevoke)
	}
	if !spec.Due.IsZero() {
		spec.Due = spec.Due.UTC().Truncate(0)
	}
	if err := checkScope(&spec.Scope); err != nil {
		return spec, err
	}
	if len(spec.Reviewers) == 0 && len(spec.Fallback) == 0 {
		return spec, bad("reviewers", "no rule and no fallback reviewer: nobody would review")
	}
	for i, r := range spec.Reviewers {
		field := fmt.Sprintf("reviewers[%d]", i)
		switch r.Kind {
		case RuleOwner:
			if len(r.Owners) == 0 {
				return spec, bad(field+".owners", "an owner rule names no owner")
			}
			if len(r.Reviewers) > 0 {
				return spec, bad(field+".reviewers", "an owner rule takes owners, not reviewers")
			}
			for res, owners := range r.Owners {
				if _, err := access.ParseResourceID(res); err != nil {
					return spec, bad(field+".owners", "%v", err)
				}
				if len(owners) == 0 {
					return spec, bad(field+".owners["+res+"]", "no owner")
				}
				for _, o := range owners {
					if reason := checkReviewer(o); reason != "" {
						return spec, bad(field+".owners["+res+"]", "owner %q: %s", o, reason)
					}
				}
			}
		case RuleManager:
			if spec.Managers == nil {
				return spec, bad(field, "a manager rule needs CampaignSpec.Managers, the directory of managers")
			}
			if len(r.Owners) > 0 || len(r.Reviewers) > 0 {
				return spec, bad(field, "a manager rule takes neither owners nor reviewers")
			}
		case RuleNamed:
			if len(r.Reviewers) == 0 {
				return spec, bad(field+".reviewers", "a named rule names no reviewer")
			}
			if len(r.Owners) > 0 {
				return spec, bad(field+".owners", "a named rule takes reviewers, not owners")
			}
			for k, o := range r.Reviewers {
				if reason := checkReviewer(o); reason != "" {
					return spec, bad(fmt.Sprintf("%s.reviewers[%d]", field, k), "%s", reason)
				}
			}
		default:
			return spec, bad(field+".kind", "%q is not %q, %q or %q", r.Kind, RuleOwner, RuleManager, RuleNamed)
		}
	}
	for k, o := range spec.Fallback {
		if reason := checkReviewer(o); reason != "" {
			return spec, bad(fmt.Sprintf("fallback[%d]", k), "%s", reason)
		}
	}
	return spec, nil
}

// defaultAdminEntitlement is Zendesk's admin role.
const defaultAdminEntitlement = "role:admin:assigned"

// checkScope checks a scope and fills in its defaults.
func checkScope(sc *Scope) error {
	bad := func(field, format string, args ...any) error {
		return &SpecError{Field: "scope." + field, Reason: fmt.Sprintf(format, args...)}
	}
	for i, t := range sc.ResourceTypes {
		if t == "" || strings.ContainsAny(t, ":@") {
			return bad(fmt.Sprintf("resource_types[%d]", i), "%q is not a resource type", t)
		}
	}
	for i, e := range sc.Entitlements {
		if _, err := access.ParseEntitlementID(e); err != nil {
			return bad(fmt.Sprintf("entitlements[%d]", i), "%v", err)
		}
	}
	for i, p := range sc.Principals {
		if _, err := access.ParseResourceID(p); err != nil {
			return bad(fmt.Sprintf("principals[%d]", i), "%v", err)
		}
	}
	switch sc.Grants {
	case AllGrants, TimeBoundGrants, StandingGrants:
	default:
		return bad("grants", "%q is not %q, %q or empty", sc.Grants, TimeBoundGrants, StandingGrants)
	}
	if sc.Admins && sc.AdminEntitlement == "" {
		sc.AdminEntitlement = defaultAdminEntitlement
	}
	if sc.AdminEntitlement != "" {
		if _, err := access.ParseEntitlementID(sc.AdminEntitlement); err != nil {
			return bad("admin_entitlement", "%v", err)
		}
	}
	if sc.UnusedDays < 0 {
		return bad("unused_days", "%d is negative", sc.UnusedDays)
	}
	for k := range sc.Attributes {
		if k == "" {
			return bad("attributes", "an empty attribute name")
		}
	}
	return nil
}
