package provision_test

import (
	"bytes"
	"testing"

	"github.com/zgov-io/zgov/provision"
)

// FuzzParsePolicy checks that no input panics the policy reader, in either
// format, and that what it accepts is valid and has a digest.
func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{policyYAML, policyJSON, scenarioPolicy, "rules: []", "{}", "[1, {\"a\": null}]", "rules:\n  - &a {directory_group: x}\n  - *a\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		for _, name := range []string{"p.yaml", "p.json"} {
			p, err := provision.ParsePolicy(name, []byte(data))
			if err != nil {
				continue
			}
			if err := p.Validate(); err != nil {
				t.Errorf("%s: accepted a policy Validate refuses: %v", name, err)
			}
			_ = p.Digest()
		}
	})
}

// FuzzParseDirectory checks that no input panics the directory reader.
func FuzzParseDirectory(f *testing.F) {
	for _, s := range []string{directoryYAML, directoryJSON, scenarioDirectory, "groups: [{name: a, members: [1]}]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		for _, name := range []string{"d.yaml", "d.json"} {
			d, err := provision.ParseDirectory(name, []byte(data))
			if err != nil {
				continue
			}
			for _, g := range d.Groups() {
				for _, m := range g.Members {
					if err := m.Validate(); err != nil {
						t.Errorf("%s: accepted an invalid person: %v", name, err)
					}
				}
			}
		}
	})
}

// FuzzLoadPlan checks that no input panics LoadPlan, and that what it
// accepts saves to a plan it accepts again.
func FuzzLoadPlan(f *testing.F) {
	p := planOf(f, scenarioPolicy, scenarioDirectory, scenarioUsers(), false, provision.Guards{})
	f.Add(save(f, p))
	f.Add([]byte(`{"version": 1, "hash": ""}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := provision.LoadPlan(bytes.NewReader(data))
		if err != nil {
			return
		}
		if _, err := provision.LoadPlan(bytes.NewReader(save(t, p))); err != nil {
			t.Errorf("a loaded plan, saved, does not load: %v", err)
		}
	})
}
