package provision

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/zgov-io/zgov/access"
)

// The built-in roles a Rule gives, in Zendesk's terms, lowest first. When a
// person's rules give several, the highest wins.
const (
	RoleEndUser = "end-user"
	RoleAgent   = "agent"
	RoleAdmin   = "admin"
)

// roleRank orders the built-in roles; -1 for none.
func roleRank(role string) int {
	switch role {
	case RoleEndUser:
		return 0
	case RoleAgent:
		return 1
	case RoleAdmin:
		return 2
	}
	return -1
}

// Ref names a group, organization or custom role of the snapshot: by Name,
// its display name, matched case-insensitively as Zendesk matches names; or
// by ID, its native id (the part of the resource ID after the type, such as
// "360001" for group:360001). Exactly one is set; the zero Ref names
// nothing.
//
// In a policy file a string is a name and an integer an id; a mapping
// {name: ...} or {id: ...} says which explicitly (a group named "2024", or a
// non-numeric id).
type Ref struct {
	Name string `json:"name,omitempty"`
	ID   string `json:"id,omitempty"`
}

// ByName returns a Ref to the resource named name.
func ByName(name string) Ref { return Ref{Name: name} }

// ByID returns a Ref to the resource with native id id.
func ByID(id string) Ref { return Ref{ID: id} }

// IsZero reports whether r names nothing.
func (r Ref) IsZero() bool { return r == Ref{} }

// String returns the name quoted, or "id" and the id.
func (r Ref) String() string {
	if r.ID != "" {
		return "id " + r.ID
	}
	return fmt.Sprintf("%q", r.Name)
}

// Rule gives the people of one directory group Zendesk access.
type Rule struct {
	// DirectoryGroup is the name of the group in the directory (the
	// identity provider's group). Each rule names a different one.
	DirectoryGroup string `json:"directory_group"`
	// Role is the built-in role: RoleEndUser, RoleAgent or RoleAdmin;
	// empty leaves the role to other rules (and a person no rule gives a
	// role is created as an end user, and keeps the role they have).
	Role string `json:"role,omitempty"`
	// CustomRole is the custom agent role; it needs Role RoleAgent, as
	// Zendesk gives custom roles to agents only.
	CustomRole Ref `json:"custom_role,omitzero"`
	// Groups are the groups the people are members of; they need Role
	// RoleAgent or RoleAdmin, as Zendesk's groups hold agents only.
	Groups []Ref `json:"groups,omitempty"`
	// Organizations are the organizations the people are members of. On an
	// account where a user belongs to one organization at most
	// (GuardFacts.ExclusiveTypes holds "organization"), a rule names one.
	Organizations []Ref `json:"organizations,omitempty"`
}

// Policy maps directory groups to Zendesk access, for NewPlan. It is written
// by people, in YAML or JSON (LoadPolicy, ParsePolicy), or built in Go.
//
// A policy manages what its rules name: the groups, organizations and
// custom roles of any rule, and the built-in role of a person one of whose
// rules gives one. Access it does not name is left alone, unless Prune is
// set. A person is covered when they are in the directory group of a rule;
// an account that holds a group, organization or custom role the policy
// manages and that no covered person matches is a leaver, taken down the
// Ladder.
//
// When a person's rules disagree: the highest built-in role wins (admin >
// agent > end-user); the custom role of the earliest rule wins (an agent
// holds one), and an admin gets none; group memberships add up;
// organizations add up, unless a user belongs to one at most, when the
// earliest rule's wins. NewPlan lists each such choice in Plan.Conflicts.
type Policy struct {
	// Rules are the rules, in priority order: where one custom role or one
	// organization must be chosen, the earlier rule wins.
	Rules []Rule `json:"rules"`
	// Ladder is the deprovisioning steps a leaver is taken through, in
	// order; nil means access.DefaultLadder (downgrade, then suspend).
	// []access.DeprovisionStep{access.DeprovisionNone} stops managing
	// leavers. A deletion, if any, is the last step.
	Ladder []access.DeprovisionStep `json:"ladder,omitempty"`
	// Prune makes the policy manage every group membership, organization
	// membership and custom role of the people it covers: what their rules
	// do not give is revoked. Leavers are found as without Prune.
	Prune bool `json:"prune,omitempty"`

	src *policySource // where a loaded policy came from
}

// policySource records a loaded policy's file name and the line of each
// field, so that errors found later (against a snapshot) name the line.
type policySource struct {
	name  string
	lines map[string]int
}

// source returns the file name and line of field path, for errors.
func (p *Policy) source(path string) (string, int) {
	if p.src == nil {
		return "policy", 0
	}
	return p.src.name, p.src.lines[path]
}

func (p *Policy) errs() *fieldErrors {
	name, _ := p.source("")
	return &fieldErrors{source: name, kind: ErrInvalidPolicy}
}

// ladder returns the ladder in effect.
func (p *Policy) ladder() []access.DeprovisionStep {
	if p.Ladder == nil {
		return access.DefaultLadder
	}
	return p.Ladder
}

// Validate checks the policy on its own (NewPlan checks it against the
// snapshot too): at least one rule; each rule names a different directory
// group, gives something, and only what its role allows; roles are
// built-in; each Ref sets exactly one of Name and ID; the ladder's steps are
// valid, distinct, none only alone and a deletion only last. Errors are
// *FieldError values wrapping ErrInvalidPolicy, several joined.
func (p *Policy) Validate() error {
	fe := p.errs()
	at := func(path string) int { _, l := p.source(path); return l }
	if len(p.Rules) == 0 {
		fe.add(at("rules"), "rules", "no rules: the policy would manage nothing")
	}
	dirGroups := map[string]int{}
	for i, r := range p.Rules {
		path := fmt.Sprintf("rules[%d]", i)
		dg := join(path, "directory_group")
		switch key := strings.ToLower(r.DirectoryGroup); {
		case strings.TrimSpace(r.DirectoryGroup) == "":
			fe.add(at(dg), dg, "no directory group")
		case dirGroups[key] > 0:
			fe.add(at(dg), dg, "directory group %q has a rule already (rules[%d]): merge the two", r.DirectoryGroup, dirGroups[key]-1)
		default:
			dirGroups[key] = i + 1
		}
		if r.Role != "" && roleRank(r.Role) < 0 {
			fe.add(at(join(path, "role")), join(path, "role"), "unknown role %q (want %s, %s or %s)", r.Role, RoleEndUser, RoleAgent, RoleAdmin)
		}
		if r.Role == "" && r.CustomRole.IsZero() && len(r.Groups) == 0 && len(r.Organizations) == 0 {
			fe.add(at(path), path, "the rule gives nothing: give a role, a custom role, groups or organizations")
		}
		if len(r.Groups) > 0 && r.Role != RoleAgent && r.Role != RoleAdmin {
			fe.add(at(join(path, "groups")), join(path, "groups"), "group memberships need role %s or %s (Zendesk's groups hold agents only): set %s.role", RoleAgent, RoleAdmin, path)
		}
		if !r.CustomRole.IsZero() && r.Role != RoleAgent {
			fe.add(at(join(path, "custom_role")), join(path, "custom_role"), "a custom role needs role %s (Zendesk gives custom roles to agents only): set %s.role", RoleAgent, path)
		}
		checkRef := func(ref Ref, field string) {
			switch {
			case ref.Name != "" && ref.ID != "":
				fe.add(at(field), field, "give a name or an id, not both")
			case ref.Name == "" && ref.ID == "":
				fe.add(at(field), field, "empty: give a name or an id")
			case ref.Name != "" && strings.TrimSpace(ref.Name) == "":
				fe.add(at(field), field, "the name is blank")
			}
		}
		if !r.CustomRole.IsZero() {
			checkRef(r.CustomRole, join(path, "custom_role"))
		}
		for j, ref := range r.Groups {
			checkRef(ref, fmt.Sprintf("%s.groups[%d]", path, j))
		}
		for j, ref := range r.Organizations {
			checkRef(ref, fmt.Sprintf("%s.organizations[%d]", path, j))
		}
	}
	seen := map[access.DeprovisionStep]bool{}
	deletes := 0
	if p.Ladder != nil && len(p.Ladder) == 0 {
		fe.add(at("ladder"), "ladder", "empty: leave it out for the default ladder, or give [none] to leave leavers alone")
	}
	for i, s := range p.Ladder {
		field := fmt.Sprintf("ladder[%d]", i)
		switch {
		case !s.Valid():
			fe.add(at(field), field, "unknown step %q (want %s, %s, %s, %s or %s)", s, access.DeprovisionNone, access.DeprovisionDowngrade,
				access.DeprovisionSuspend, access.DeprovisionSoftDelete, access.DeprovisionPermanentDelete)
		case seen[s]:
			fe.add(at(field), field, "step %s given twice", s)
		case s == access.DeprovisionNone && len(p.Ladder) > 1:
			fe.add(at(field), field, "step none is a ladder on its own")
		case s == access.DeprovisionSoftDelete || s == access.DeprovisionPermanentDelete:
			deletes++
			switch {
			case deletes > 1:
				fe.add(at(field), field, "one deletion is enough (permanent_delete deletes first)")
			case i != len(p.Ladder)-1 && !slices.Contains(p.Ladder[i+1:], access.DeprovisionSoftDelete) && !slices.Contains(p.Ladder[i+1:], access.DeprovisionPermanentDelete):
				fe.add(at(field), field, "a deletion must be the last step: nothing can be done to a deleted account")
			}
		}
		seen[s] = true
	}
	return fe.err()
}

// Digest returns the lower-case hex SHA-256 of the policy's meaning: its
// rules in order, each rule's references sorted (their order means
// nothing), the ladder in effect and Prune. A plan records it.
func (p *Policy) Digest() string {
	c := Policy{Rules: make([]Rule, len(p.Rules)), Ladder: slices.Clone(p.ladder()), Prune: p.Prune}
	order := func(a, b Ref) int { return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Name, b.Name)) }
	for i, r := range p.Rules {
		r.Groups = slices.Clone(r.Groups)
		slices.SortFunc(r.Groups, order)
		r.Organizations = slices.Clone(r.Organizations)
		slices.SortFunc(r.Organizations, order)
		c.Rules[i] = r
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic("provision: policy digest: " + err.Error()) // strings and bools always marshal
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// LoadPolicy reads a policy file: JSON if its name ends in ".json", YAML
// otherwise (see ParsePolicy).
func LoadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("provision: load policy: %w", err)
	}
	return ParsePolicy(path, data)
}

// ParsePolicy parses a policy from data, read from the file name: JSON if
// name ends in ".json", YAML otherwise. The format is strict: an unknown or
// repeated field is an error. A YAML policy:
//
//	ladder: [downgrade, suspend]   # optional; this is the default
//	prune: false                   # optional
//	rules:
//	  - directory_group: Support Agents
//	    role: agent                # end-user, agent or admin
//	    custom_role: Staff         # by name; {id: 360001} by id
//	    groups: [Support, 20000000003]   # a string is a name, an integer an id
//	    organizations: [Acme Ltd]
//
// JSON has the same fields. Errors are *FieldError values naming the file,
// the line and the field (several joined), wrapping ErrInvalidPolicy; the
// policy is validated (Policy.Validate).
func ParsePolicy(name string, data []byte) (*Policy, error) {
	src := &policySource{name: name, lines: map[string]int{}}
	p := &Policy{src: src}
	fe := p.errs()
	root := parseTree(fe, data)
	if root == nil {
		return nil, fe.err()
	}
	mark := func(n *yaml.Node, path string) { src.lines[path] = n.Line }
	mark(root, "")
	fields(fe, root, "", []string{"rules"}, map[string]func(*yaml.Node, string){
		"rules": func(n *yaml.Node, path string) {
			mark(n, path)
			p.Rules = []Rule{}
			sequence(fe, n, path, func(_ int, n *yaml.Node, path string) {
				mark(n, path)
				var r Rule
				fields(fe, n, path, []string{"directory_group"}, map[string]func(*yaml.Node, string){
					"directory_group": func(n *yaml.Node, path string) {
						mark(n, path)
						r.DirectoryGroup, _ = scalar(fe, n, path)
					},
					"role": func(n *yaml.Node, path string) {
						mark(n, path)
						r.Role, _ = scalar(fe, n, path)
					},
					"custom_role": func(n *yaml.Node, path string) {
						mark(n, path)
						r.CustomRole = parseRef(fe, n, path)
					},
					"groups": func(n *yaml.Node, path string) {
						mark(n, path)
						r.Groups = []Ref{}
						sequence(fe, n, path, func(_ int, n *yaml.Node, path string) {
							mark(n, path)
							r.Groups = append(r.Groups, parseRef(fe, n, path))
						})
					},
					"organizations": func(n *yaml.Node, path string) {
						mark(n, path)
						r.Organizations = []Ref{}
						sequence(fe, n, path, func(_ int, n *yaml.Node, path string) {
							mark(n, path)
							r.Organizations = append(r.Organizations, parseRef(fe, n, path))
						})
					},
				})
				p.Rules = append(p.Rules, r)
			})
		},
		"ladder": func(n *yaml.Node, path string) {
			mark(n, path)
			p.Ladder = []access.DeprovisionStep{}
			sequence(fe, n, path, func(_ int, n *yaml.Node, path string) {
				mark(n, path)
				s, _ := scalar(fe, n, path)
				p.Ladder = append(p.Ladder, access.DeprovisionStep(s))
			})
		},
		"prune": func(n *yaml.Node, path string) {
			mark(n, path)
			p.Prune = boolean(fe, n, path)
		},
	})
	if err := fe.err(); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// parseRef reads a Ref: a string is a name, a decimal integer an id, a
// mapping {name: ...} or {id: ...} either explicitly.
func parseRef(fe *fieldErrors, n *yaml.Node, path string) Ref {
	if n.Kind == yaml.MappingNode {
		var r Ref
		fields(fe, n, path, nil, map[string]func(*yaml.Node, string){
			"name": func(n *yaml.Node, path string) { r.Name, _ = scalar(fe, n, path) },
			"id":   func(n *yaml.Node, path string) { r.ID, _ = scalar(fe, n, path) },
		})
		if r.IsZero() && len(n.Content) == 0 {
			fe.add(n.Line, path, "empty: give a name or an id")
		}
		return r
	}
	s, ok := scalar(fe, n, path)
	switch {
	case !ok:
		return Ref{}
	case n.Tag == "!!int":
		if strings.Trim(s, "0123456789") != "" || len(s) > 1 && s[0] == '0' {
			fe.add(n.Line, path, "write the id %s in decimal, without sign or leading zeros (or quote it to name a resource)", s)
			return Ref{}
		}
		return Ref{ID: s}
	case n.Tag == "!!str":
		return Ref{Name: s}
	}
	fe.add(n.Line, path, "want a name or an id, got %s (quote it if it is a name)", describeNode(n))
	return Ref{}
}
