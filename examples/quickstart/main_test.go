package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestQuickstartAgainstSimulator(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), &out, func(string) string { return "" }); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{"built-in Zendesk simulator", "Users by role", "admin", "Groups (members)", "Organizations", "Custom roles", "Snapshot 1:", "Grant group:", ": granted", "Snapshot 2:", "What changed:", "+ grant group:"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestQuickstartNeedsCredentialsForARealAccount(t *testing.T) {
	env := map[string]string{"ZENDESK_SUBDOMAIN": "acme"}
	err := run(t.Context(), &bytes.Buffer{}, func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "no credentials") {
		t.Errorf("err = %v, want a message naming the missing credentials", err)
	}
	env["ZENDESK_API_TOKEN"] = "x"
	err = run(t.Context(), &bytes.Buffer{}, func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "email") {
		t.Errorf("err = %v, want the missing email named", err)
	}
}
