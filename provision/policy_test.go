package provision_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/provision"
)

const policyYAML = `# day-one access
ladder: [downgrade, suspend]
prune: false
rules:
  - directory_group: Support Agents
    role: agent
    custom_role: Staff
    groups: [Support, 2]
    organizations: [{name: Acme}]
  - directory_group: Admins
    role: admin
  - directory_group: "2024"
    organizations: [{id: "2"}]
`

const policyJSON = `{
  "ladder": ["downgrade", "suspend"],
  "prune": false,
  "rules": [
    {"directory_group": "Support Agents", "role": "agent", "custom_role": "Staff",
     "groups": ["Support", 2], "organizations": [{"name": "Acme"}]},
    {"directory_group": "Admins", "role": "admin"},
    {"directory_group": "2024", "organizations": [{"id": "2"}]}
  ]
}`

func TestParsePolicy(t *testing.T) {
	t.Parallel()
	want := &provision.Policy{
		Ladder: []access.DeprovisionStep{access.DeprovisionDowngrade, access.DeprovisionSuspend},
		Rules: []provision.Rule{
			{DirectoryGroup: "Support Agents", Role: provision.RoleAgent, CustomRole: provision.ByName("Staff"),
				Groups: []provision.Ref{provision.ByName("Support"), provision.ByID("2")}, Organizations: []provision.Ref{provision.ByName("Acme")}},
			{DirectoryGroup: "Admins", Role: provision.RoleAdmin},
			{DirectoryGroup: "2024", Organizations: []provision.Ref{provision.ByID("2")}},
		},
	}
	ignore := cmpopts.IgnoreUnexported(provision.Policy{})
	for name, data := range map[string]string{"policy.yaml": policyYAML, "policy.json": policyJSON} {
		got, err := provision.ParsePolicy(name, []byte(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(want, got, ignore); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
		if got.Digest() != want.Digest() {
			t.Errorf("%s: digest differs from the policy built in Go", name)
		}
	}

	// LoadPolicy reads the file and names it in errors.
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, []byte(policyYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	if p, err := provision.LoadPolicy(path); err != nil || len(p.Rules) != 3 {
		t.Errorf("LoadPolicy: %v", err)
	}
	if err := os.WriteFile(path, []byte("rules: []\nbogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := provision.LoadPolicy(path); err == nil || !strings.HasPrefix(err.Error(), path+":2: bogus: unknown field") {
		t.Errorf("LoadPolicy of a bad file: %v", err)
	}
	if _, err := provision.LoadPolicy(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadPolicy of a missing file: %v", err)
	}
}

// TestParsePolicyErrors checks that every malformed policy is refused with
// the file, line and field.
func TestParsePolicyErrors(t *testing.T) {
	t.Parallel()
	rule := "rules:\n  - directory_group: A\n"
	for _, tc := range []struct {
		name, file, data string
		want             string // the error's text, or its first line
	}{
		{"empty", "p.yaml", "", "p.yaml: the file is empty"},
		{"syntax", "p.yaml", "rules:\n  - directory_group: [\n", "p.yaml:2: not valid YAML: did not find expected node content"},
		{"not a mapping", "p.yaml", "- a\n", "p.yaml:1: want a mapping of fields, got a list"},
		{"no rules field", "p.yaml", "prune: true\n", "p.yaml:1: rules: missing"},
		{"no rules", "p.yaml", "rules: []\n", "p.yaml:1: rules: no rules: the policy would manage nothing"},
		{"unknown field", "p.yaml", rule + "    role: agent\n    grups: [Support]\n", "p.yaml:4: rules[0].grups: unknown field (want custom_role, directory_group, groups, organizations, role)"},
		{"repeated field", "p.yaml", rule + "    role: agent\n    role: admin\n", "p.yaml:4: rules[0].role: field given twice"},
		{"missing directory group", "p.yaml", "rules:\n  - role: agent\n", "p.yaml:2: rules[0].directory_group: missing"},
		{"two rules for a group", "p.yaml", rule + "    role: agent\n  - directory_group: a\n    role: admin\n", `p.yaml:4: rules[1].directory_group: directory group "a" has a rule already (rules[0]): merge the two`},
		{"unknown role", "p.yaml", rule + "    role: Agent\n", `p.yaml:3: rules[0].role: unknown role "Agent" (want end-user, agent or admin)`},
		{"rule gives nothing", "p.yaml", rule, "p.yaml:2: rules[0]: the rule gives nothing: give a role, a custom role, groups or organizations"},
		{"groups need an agent", "p.yaml", rule + "    groups: [Support]\n", "p.yaml:3: rules[0].groups: group memberships need role agent or admin (Zendesk's groups hold agents only): set rules[0].role"},
		{"custom role needs an agent", "p.yaml", rule + "    role: admin\n    custom_role: Staff\n", "p.yaml:4: rules[0].custom_role: a custom role needs role agent (Zendesk gives custom roles to agents only): set rules[0].role"},
		{"ref with name and id", "p.yaml", rule + "    role: agent\n    groups:\n      - {name: Support, id: \"1\"}\n", "p.yaml:5: rules[0].groups[0]: give a name or an id, not both"},
		{"empty ref", "p.yaml", rule + "    role: agent\n    groups: [{}]\n", "p.yaml:4: rules[0].groups[0]: empty: give a name or an id"},
		{"float id", "p.yaml", rule + "    role: agent\n    groups: [1.5]\n", "p.yaml:4: rules[0].groups[0]: want a name or an id, got 1.5 (quote it if it is a name)"},
		{"hex id", "p.yaml", rule + "    role: agent\n    groups: [0x10]\n", "p.yaml:4: rules[0].groups[0]: write the id 0x10 in decimal, without sign or leading zeros (or quote it to name a resource)"},
		{"null name", "p.yaml", rule + "    role:\n", "p.yaml:3: rules[0].role: want a string, got nothing"},
		{"prune not a bool", "p.yaml", rule + "    role: agent\nprune: yes please\n", `p.yaml:4: prune: want true or false, got "yes please"`},
		{"alias", "p.yaml", "x: &a agent\n", "p.yaml:1: x: unknown field (want ladder, prune, rules)"},
		{"alias value", "p.yaml", "rules:\n  - directory_group: A\n    role: &r agent\n  - directory_group: B\n    role: *r\n", "p.yaml:5: rules[1].role: YAML aliases are not supported"},
		{"unknown step", "p.yaml", rule + "    role: agent\nladder: [downgrade, shred]\n", "p.yaml:4: ladder[1]: unknown step \"shred\" (want none, downgrade, suspend, soft_delete or permanent_delete)"},
		{"step twice", "p.yaml", rule + "    role: agent\nladder: [suspend, suspend]\n", "p.yaml:4: ladder[1]: step suspend given twice"},
		{"none with others", "p.yaml", rule + "    role: agent\nladder: [none, suspend]\n", "p.yaml:4: ladder[0]: step none is a ladder on its own"},
		{"delete not last", "p.yaml", rule + "    role: agent\nladder: [soft_delete, suspend]\n", "p.yaml:4: ladder[0]: a deletion must be the last step: nothing can be done to a deleted account"},
		{"two deletes", "p.yaml", rule + "    role: agent\nladder: [soft_delete, permanent_delete]\n", "p.yaml:4: ladder[1]: one deletion is enough (permanent_delete deletes first)"},
		{"empty ladder", "p.yaml", rule + "    role: agent\nladder: []\n", "p.yaml:4: ladder: empty: leave it out for the default ladder, or give [none] to leave leavers alone"},
		{"json syntax", "p.json", "{\n  \"rules\": [\n    {\"directory_group\": \"A\",}\n  ]\n}", "p.json:3: not valid JSON: invalid character '}' looking for beginning of object key string"},
		{"json truncated", "p.json", "{\n  \"rules\": [\n", "p.json:3: not valid JSON: unexpected EOF"},
		{"json unknown field", "p.json", "{\n  \"rules\": [\n    {\"directory_group\": \"A\",\n     \"role\": \"agent\", \"colour\": \"red\"}\n  ]\n}", "p.json:4: rules[0].colour: unknown field (want custom_role, directory_group, groups, organizations, role)"},
		{"json float id", "p.json", "{\"rules\": [{\"directory_group\": \"A\", \"role\": \"agent\",\n \"groups\": [1e3]}]}", "p.json:2: rules[0].groups[0]: want a name or an id, got 1e3 (quote it if it is a name)"},
		{"json trailing data", "p.json", "{\"rules\": []}\n{}", "p.json:2: not valid JSON: data after the top-level value"},
		{"json repeated field", "p.json", "{\"prune\": true,\n \"prune\": false, \"rules\": []}", "p.json:2: prune: field given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := provision.ParsePolicy(tc.file, []byte(tc.data))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, provision.ErrInvalidPolicy) {
				t.Errorf("error does not match ErrInvalidPolicy: %v", err)
			}
			var fe *provision.FieldError
			if !errors.As(err, &fe) || fe.Source != tc.file {
				t.Errorf("error is not a *FieldError naming %s: %#v", tc.file, err)
			}
			if got, _, _ := strings.Cut(err.Error(), "\n"); got != tc.want {
				t.Errorf("error:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestParsePolicyManyErrors checks that one parse reports every problem,
// in the order of the lines.
func TestParsePolicyManyErrors(t *testing.T) {
	t.Parallel()
	_, err := provision.ParsePolicy("p.yaml", []byte("rules:\n  - directory_group: A\n    role: boss\n  - directory_group: B\n    role: agent\n    groups: [Support, {id: \"\"}]\n"))
	want := "p.yaml:3: rules[0].role: unknown role \"boss\" (want end-user, agent or admin)\np.yaml:6: rules[1].groups[1]: empty: give a name or an id"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestPolicyBuiltInGo(t *testing.T) {
	t.Parallel()
	p := &provision.Policy{Rules: []provision.Rule{{DirectoryGroup: "A", Groups: []provision.Ref{provision.ByName("Support")}}}}
	err := p.Validate()
	want := "policy: rules[0].groups: group memberships need role agent or admin (Zendesk's groups hold agents only): set rules[0].role"
	if err == nil || err.Error() != want {
		t.Errorf("Validate: %v\nwant %s", err, want)
	}
	p.Rules[0].Role = provision.RoleAgent
	if err := p.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestPolicyDigest(t *testing.T) {
	t.Parallel()
	a := parsePolicy(t, policyYAML)
	b := parsePolicy(t, "rules:\n"+
		"  - {directory_group: Support Agents, role: agent, custom_role: Staff, groups: [2, Support], organizations: [Acme]}\n"+
		"  - {directory_group: Admins, role: admin}\n"+
		"  - {directory_group: \"2024\", organizations: [{id: \"2\"}]}\n")
	if a.Digest() != b.Digest() {
		t.Error("the order of a rule's groups and the default ladder written out change the digest")
	}
	c := parsePolicy(t, policyYAML)
	c.Rules[0], c.Rules[1] = c.Rules[1], c.Rules[0]
	d := parsePolicy(t, policyYAML)
	d.Prune = true
	e := parsePolicy(t, policyYAML)
	e.Ladder = []access.DeprovisionStep{access.DeprovisionSuspend}
	for name, p := range map[string]*provision.Policy{"rule order": c, "prune": d, "ladder": e} {
		if p.Digest() == a.Digest() {
			t.Errorf("%s does not change the digest", name)
		}
	}
}

func parsePolicy(t testing.TB, yaml string) *provision.Policy {
	t.Helper()
	p, err := provision.ParsePolicy("policy.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("ParsePolicy: %v", err)
	}
	return p
}
