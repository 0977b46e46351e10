package contract

import (
	"net/http"
	"strings"
	"testing"
)

func TestValidateRequest(t *testing.T) {
	spec := ForTest(t)
	tests := []struct {
		name, method, url, body string
		wantErr                 string
	}{
		{"list users", "GET", "http://127.0.0.1:1/api/v2/users?page%5Bsize%5D=100", "", ""},
		{"json suffix", "GET", "http://127.0.0.1:1/api/v2/users/12.json", "", ""},
		{"update user", "PUT", "http://127.0.0.1:1/api/v2/users/12", `{"user":{"suspended":true}}`, ""},
		{"bad body type", "PUT", "http://127.0.0.1:1/api/v2/users/12", `{"user":{"suspended":"yes"}}`, "suspended"},
		{"unknown path", "GET", "http://127.0.0.1:1/api/v2/nonsense", "", "no such operation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			err = spec.ValidateRequest(req)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("ValidateRequest: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("ValidateRequest = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestDirFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvDir, dir)
	got, ok := Dir()
	if !ok || got != dir {
		t.Fatalf("Dir() = %q, %v; want %q, true", got, ok, dir)
	}
	if _, ok := Find(); ok {
		t.Error("Find() found a spec in an empty folder")
	}
	t.Setenv(EnvDir, dir+"/missing")
	if _, ok := Dir(); ok {
		t.Error("Dir() reported a missing folder as present")
	}
	if !strings.Contains(Where(), EnvDir) {
		t.Errorf("Where() = %q; it must name %s", Where(), EnvDir)
	}
}
