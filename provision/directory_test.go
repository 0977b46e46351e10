package provision_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/provision"
)

const directoryYAML = `groups:
  - name: Support Agents
    members:
      - email: ann@example.com
        name: Ann Lee
        external_id: 00u1ann
      - bob@example.com
      - BOB@example.com   # the same person: listed once
  - name: Tier 2
    members: [ann@example.com]
  - name: Empty
`

const directoryJSON = `{"groups": [
  {"name": "Support Agents", "members": [
    {"email": "ann@example.com", "name": "Ann Lee", "external_id": "00u1ann"},
    "bob@example.com",
    {"email": "BOB@example.com"}
  ]},
  {"name": "Tier 2", "members": ["ann@example.com"]},
  {"name": "Empty"}
]}`

func parseDirectory(t testing.TB, yaml string) *provision.FileDirectory {
	t.Helper()
	d, err := provision.ParseDirectory("directory.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("ParseDirectory: %v", err)
	}
	return d
}

func TestParseDirectory(t *testing.T) {
	t.Parallel()
	ann := access.Person{Email: "ann@example.com", Name: "Ann Lee", ExternalID: "00u1ann"}
	want := []provision.DirectoryGroup{
		{Name: "Support Agents", Members: []access.Person{ann, {Email: "bob@example.com"}}},
		{Name: "Tier 2", Members: []access.Person{{Email: "ann@example.com"}}},
		{Name: "Empty", Members: []access.Person{}},
	}
	for name, data := range map[string]string{"directory.yaml": directoryYAML, "directory.json": directoryJSON} {
		d, err := provision.ParseDirectory(name, []byte(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(want, d.Groups()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
		got, err := d.Members(t.Context(), "support AGENTS")
		if err != nil || len(got) != 2 {
			t.Errorf("%s: Members, case-insensitively: %v, %v", name, got, err)
		}
		if _, err := d.Members(t.Context(), "Tier 3"); !errors.Is(err, provision.ErrUnknownDirectoryGroup) {
			t.Errorf("%s: Members of an unknown group: %v", name, err)
		}
	}

	if n := len(parseDirectory(t, directoryYAML).Groups()); n != 3 {
		t.Errorf("%d groups, want 3", n)
	}
	path := filepath.Join(t.TempDir(), "people.yaml")
	if err := os.WriteFile(path, []byte(directoryYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	if d, err := provision.LoadDirectory(path); err != nil || len(d.Groups()) != 3 {
		t.Errorf("LoadDirectory: %v", err)
	}
}

func TestParseDirectoryErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, data string
		kind             error
		want             string
	}{
		{"person without e-mail", "d.yaml", "groups:\n  - name: A\n    members:\n      - name: Ann\n", access.ErrInvalidPerson,
			`d.yaml:4: groups[0].members[0].email: "Ann" has no e-mail address`},
		{"empty e-mail", "d.yaml", "groups:\n  - name: A\n    members:\n      - bob@example.com\n      - email: \"\"\n", access.ErrInvalidPerson,
			`d.yaml:5: groups[0].members[1].email: a person without an e-mail address`},
		{"malformed e-mail", "d.yaml", "groups:\n  - name: A\n    members: [\"Ann <ann@example.com>\"]\n", access.ErrInvalidPerson,
			`d.yaml:3: groups[0].members[0]: person "Ann <ann@example.com>": e-mail address holds white space or angle brackets`},
		{"json person without e-mail", "d.json", "{\"groups\": [{\"name\": \"A\", \"members\": [\n  {\"email\": \"a@example.com\"},\n  {\"name\": \"Bob\"}]}]}", access.ErrInvalidPerson,
			`d.json:3: groups[0].members[1].email: "Bob" has no e-mail address`},
		{"unknown field", "d.yaml", "groups:\n  - name: A\n    members:\n      - email: a@example.com\n        mail: b@example.com\n", provision.ErrInvalidDirectory,
			"d.yaml:5: groups[0].members[0].mail: unknown field (want email, external_id, name)"},
		{"group twice", "d.yaml", "groups:\n  - name: A\n  - name: a\n", provision.ErrInvalidDirectory,
			`d.yaml:3: groups[1].name: group "a" is listed twice (groups[0])`},
		{"no group name", "d.yaml", "groups:\n  - name: \" \"\n", provision.ErrInvalidDirectory,
			"d.yaml:2: groups[0].name: no group name"},
		{"two external ids", "d.yaml", "groups:\n  - name: A\n    members:\n      - {email: a@example.com, external_id: x1}\n  - name: B\n    members:\n      - {email: A@example.com, external_id: x2}\n",
			provision.ErrInvalidDirectory, `d.yaml:7: groups[1].members[0]: A@example.com has external id "x2" here and "x1" at groups[0].members[0] (line 4)`},
		{"not a list", "d.yaml", "groups: {name: A}\n", provision.ErrInvalidDirectory, "d.yaml:1: groups: want a list, got a mapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := provision.ParseDirectory(tc.file, []byte(tc.data))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error does not match %v: %v", tc.kind, err)
			}
			if got, _, _ := strings.Cut(err.Error(), "\n"); got != tc.want {
				t.Errorf("error:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestNewDirectory(t *testing.T) {
	t.Parallel()
	d, err := provision.NewDirectory(provision.DirectoryGroup{Name: "A", Members: []access.Person{{Email: "a@example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := d.Members(t.Context(), "a")
	got[0].Email = "changed@example.com" // a copy
	if again, _ := d.Members(t.Context(), "A"); again[0].Email != "a@example.com" {
		t.Error("Members returns the directory's own slice")
	}
	_, err = provision.NewDirectory(provision.DirectoryGroup{Name: "A", Members: []access.Person{{Name: "Nobody"}}})
	if want := `directory: groups[0].members[0].email: "Nobody" has no e-mail address`; err == nil || err.Error() != want || !errors.Is(err, access.ErrInvalidPerson) {
		t.Errorf("a person without e-mail: %v\nwant %s", err, want)
	}
}
