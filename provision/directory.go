package provision

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/zgov-io/zgov/access"
)

// Directory is where people and their groups come from: the identity
// provider. Real connectors (Okta, Entra ID, Google Workspace) belong to the
// platform that embeds zgov; FileDirectory serves a file, and tests.
type Directory interface {
	// Members returns the people in the group named name. A group that
	// does not exist is an error wrapping ErrUnknownDirectoryGroup (an
	// empty group is not an error). The order of the people does not
	// matter; NewPlan validates each (access.Person.Validate) and merges
	// one person met in several groups by e-mail address, compared
	// case-insensitively.
	Members(ctx context.Context, name string) ([]access.Person, error)
}

// DirectoryGroup is a group of the directory and its people.
type DirectoryGroup struct {
	// Name is the group's name, as rules give it.
	Name string
	// Members are the people in the group.
	Members []access.Person
}

// FileDirectory is a Directory held in memory: read from a YAML or JSON
// file (LoadDirectory, ParseDirectory) or built in Go (NewDirectory). Group
// names are matched case-insensitively. It is safe for concurrent use: it is
// never modified.
type FileDirectory struct {
	groups []DirectoryGroup
	byName map[string]int // lower-case name -> index in groups
}

var _ Directory = (*FileDirectory)(nil)

// NewDirectory returns a FileDirectory of groups, after checking them as
// ParseDirectory checks a file: names present and distinct
// (case-insensitively), every person valid (access.ErrInvalidPerson), one
// e-mail address with one external id at most. A person listed twice in one
// group is listed once. The groups are copied.
func NewDirectory(groups ...DirectoryGroup) (*FileDirectory, error) {
	fe := &fieldErrors{source: "directory", kind: ErrInvalidDirectory}
	d := build(fe, groups, nil)
	if err := fe.err(); err != nil {
		return nil, err
	}
	return d, nil
}

// build checks and indexes groups; lines, when not nil, gives the line of
// each field path for errors.
func build(fe *fieldErrors, groups []DirectoryGroup, lines map[string]int) *FileDirectory {
	d := &FileDirectory{groups: make([]DirectoryGroup, 0, len(groups)), byName: make(map[string]int, len(groups))}
	type seenID struct {
		externalID, field string
	}
	ids := map[string]seenID{}    // lower-case e-mail -> its external id and where it was first given
	owners := map[string]seenID{} // external id -> the lower-case e-mail that first had it, and where
	for i, g := range groups {
		path := fmt.Sprintf("groups[%d]", i)
		name := join(path, "name")
		key := strings.ToLower(g.Name)
		switch j, dup := d.byName[key]; {
		case strings.TrimSpace(g.Name) == "":
			fe.add(lines[name], name, "no group name")
			continue
		case dup:
			fe.add(lines[name], name, "group %q is listed twice (groups[%d])", g.Name, j)
			continue
		}
		members := make([]access.Person, 0, len(g.Members))
		inGroup := make(map[string]bool, len(g.Members))
		for j, p := range g.Members {
			field := fmt.Sprintf("%s.members[%d]", path, j)
			if err := p.Validate(); err != nil {
				if p.Email == "" {
					field = join(field, "email")
				}
				fe.addKind(access.ErrInvalidPerson, lines[field], field, "%s", personProblem(p, err))
				continue
			}
			email := strings.ToLower(p.Email)
			if first, ok := ids[email]; !ok {
				ids[email] = seenID{p.ExternalID, field}
			} else if p.ExternalID != first.externalID && p.ExternalID != "" && first.externalID != "" {
				fe.add(lines[field], field, "%s has external id %q here and %q at %s (line %d)", p.Email, p.ExternalID, first.externalID, first.field, lines[first.field])
				continue
			} else if first.externalID == "" {
				ids[email] = seenID{p.ExternalID, field}
			}
			if p.ExternalID != "" {
				// One external id is one person: two addresses with it would
				// make one account and leave the other person without one.
				if o, ok := owners[p.ExternalID]; ok && o.externalID != email {
					fe.add(lines[field], field, "external id %q is %s's here and %s's at %s (line %d)", p.ExternalID, p.Email, o.externalID, o.field, lines[o.field])
					continue
				}
				owners[p.ExternalID] = seenID{email, field}
			}
			if inGroup[email] {
				continue
			}
			inGroup[email] = true
			members = append(members, p)
		}
		d.byName[key] = len(d.groups)
		d.groups = append(d.groups, DirectoryGroup{Name: g.Name, Members: members})
	}
	return d
}

// Members implements Directory: the people of the group named name
// (case-insensitively), or an error wrapping ErrUnknownDirectoryGroup.
func (d *FileDirectory) Members(ctx context.Context, name string) ([]access.Person, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	i, ok := d.byName[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("provision: directory has no group %q: %w", name, ErrUnknownDirectoryGroup)
	}
	return slices.Clone(d.groups[i].Members), nil
}

// Groups returns the directory's groups, in the order given, with their
// people (copies).
func (d *FileDirectory) Groups() []DirectoryGroup {
	out := make([]DirectoryGroup, len(d.groups))
	for i, g := range d.groups {
		out[i] = DirectoryGroup{Name: g.Name, Members: slices.Clone(g.Members)}
	}
	return out
}

// LoadDirectory reads a directory file: JSON if its name ends in ".json",
// YAML otherwise (see ParseDirectory).
func LoadDirectory(path string) (*FileDirectory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("provision: load directory: %w", err)
	}
	return ParseDirectory(path, data)
}

// ParseDirectory parses a directory from data, read from the file name:
// JSON if name ends in ".json", YAML otherwise. The format is strict (an
// unknown or repeated field is an error); a member is a mapping, or just an
// e-mail address:
//
//	groups:
//	  - name: Support Agents
//	    members:
//	      - email: ann@example.com
//	        name: Ann Lee            # optional
//	        external_id: 00u1ann     # optional: the identity provider's id
//	      - bob@example.com
//	  - name: Tier 2
//	    members: [ann@example.com]
//
// Errors are *FieldError values naming the file, the line and the field
// (several joined): a person without a valid e-mail address wraps
// access.ErrInvalidPerson, anything else ErrInvalidDirectory.
func ParseDirectory(name string, data []byte) (*FileDirectory, error) {
	fe := &fieldErrors{source: name, kind: ErrInvalidDirectory}
	root := parseTree(fe, data)
	if root == nil {
		return nil, fe.err()
	}
	lines := map[string]int{}
	var groups []DirectoryGroup
	fields(fe, root, "", []string{"groups"}, map[string]func(*yaml.Node, string){
		"groups": func(n *yaml.Node, path string) {
			sequence(fe, n, path, func(_ int, n *yaml.Node, path string) {
				var g DirectoryGroup
				fields(fe, n, path, []string{"name"}, map[string]func(*yaml.Node, string){
					"name": func(n *yaml.Node, path string) {
						lines[path] = n.Line
						g.Name, _ = scalar(fe, n, path)
					},
					"members": func(n *yaml.Node, path string) {
						sequence(fe, n, path, func(_ int, n *yaml.Node, path string) {
							lines[path] = n.Line
							lines[join(path, "email")] = n.Line
							g.Members = append(g.Members, parsePerson(fe, n, path, lines))
						})
					},
				})
				groups = append(groups, g)
			})
		},
	})
	if err := fe.err(); err != nil {
		return nil, err
	}
	d := build(fe, groups, lines)
	if err := fe.err(); err != nil {
		return nil, err
	}
	return d, nil
}

// parsePerson reads a member: an e-mail address, or a mapping.
func parsePerson(fe *fieldErrors, n *yaml.Node, path string, lines map[string]int) access.Person {
	var p access.Person
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		p.Email = n.Value
		return p
	}
	fields(fe, n, path, nil, map[string]func(*yaml.Node, string){
		"email": func(n *yaml.Node, path string) {
			lines[path] = n.Line
			p.Email, _ = scalar(fe, n, path)
		},
		"name": func(n *yaml.Node, path string) { p.Name, _ = scalar(fe, n, path) },
		"external_id": func(n *yaml.Node, path string) {
			p.ExternalID, _ = scalar(fe, n, path)
		},
	})
	return p
}

// personProblem says what is wrong with a person Validate refused, without
// the package prefix and the sentinel's text that FieldError adds back.
func personProblem(p access.Person, err error) string {
	if p.Email == "" {
		if p.Name != "" {
			return fmt.Sprintf("%q has no e-mail address", p.Name)
		}
		return "a person without an e-mail address"
	}
	return strings.TrimSuffix(strings.TrimPrefix(err.Error(), "access: "), ": "+access.ErrInvalidPerson.Error())
}
