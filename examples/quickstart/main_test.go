package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// envOf returns a getenv reading m.
func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestQuickstartAgainstSimulator(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if err := run(t.Context(), nil, envOf(nil), &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{"built-in Zendesk simulator", "Users by role", "admin", "Groups (members)", "Organizations", "Custom roles", "Snapshot 1:", "Grant group:", ": granted", "Snapshot 2:", "What changed:", "+ grant group:"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

// TestQuickstartDayOne checks the day-one step of the demo: the plan's table, every
// change applied, the journal verified and exported.
func TestQuickstartDayOne(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(t.Context(), nil, envOf(nil), &out, io.Discard); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	_, dayOne, ok := strings.Cut(got, "Day one:")
	if !ok {
		t.Fatalf("no day-one step:\n%s", got)
	}
	for _, want := range []string{
		"PRINCIPAL", "CHANGE", "ACCESS", "BLOCKED", "EFFECTS", // the table's header
		"ann.lee@example.com (new)", "create account", "group Tier 2", "replaces role end-user",
		"3 creates, 6 grants, 0 revokes, 0 deprovisions; 0 blocked",
		"Applied: 9 applied, 0 done already, 0 stale, 0 blocked, 0 failed",
		"create_account carla.diaz@example.com: applied (created)",
		"Journal verified: 18 entries", "exported 18 lines of JSON",
	} {
		if !strings.Contains(dayOne, want) {
			t.Errorf("the day-one step lacks %q:\n%s", want, dayOne)
		}
	}
}

func TestQuickstartNeedsCredentialsForARealAccount(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ZENDESK_SUBDOMAIN": "acme"}
	err := run(t.Context(), nil, envOf(env), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no credentials") {
		t.Errorf("err = %v, want a message naming the missing credentials", err)
	}
	env["ZENDESK_API_TOKEN"] = "x"
	err = run(t.Context(), nil, envOf(env), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "email") {
		t.Errorf("err = %v, want the missing email named", err)
	}
}

func TestQuickstartBaseURLNeedsASubdomain(t *testing.T) {
	t.Parallel()
	err := run(t.Context(), []string{"-base-url", "http://127.0.0.1:8089"}, envOf(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "ZENDESK_SUBDOMAIN is not") {
		t.Errorf("err = %v, want the missing subdomain named", err)
	}
}

func TestQuickstartNeverEchoesABaseURLWithCredentials(t *testing.T) {
	t.Parallel()
	const secret = "hunter2secret"
	env := map[string]string{"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": "a@acme.com", "ZENDESK_API_TOKEN": "tok"}
	for _, u := range []string{"http://u:" + secret + "@127.0.0.1:1", "http://u:" + secret + "@127.0.0.1:1/%zz"} {
		err := run(t.Context(), []string{"-base-url", u}, envOf(env), io.Discard, io.Discard)
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("base URL %q: err = %v, want a refusal without the password", u, err)
		}
		env["ZENDESK_BASE_URL"] = u
		var usage bytes.Buffer
		if err := run(t.Context(), []string{"-h"}, envOf(env), io.Discard, &usage); !errors.Is(err, flag.ErrHelp) || strings.Contains(usage.String(), secret) {
			t.Errorf("-h with ZENDESK_BASE_URL %q: err %v, usage:\n%s", u, err, usage.String())
		}
		delete(env, "ZENDESK_BASE_URL")
	}
}

// TestQuickstartLiveIsReadOnly runs the live path against a simulator given as a base
// URL, with each kind of credentials: it must take a snapshot of that account, report
// progress, and send nothing but GETs (and the POST for an OAuth token).
func TestQuickstartLiveIsReadOnly(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"oauth", "api-token"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Close)
			cred := srv.Credentials()
			env := map[string]string{"ZENDESK_SUBDOMAIN": cred.Subdomain, "ZENDESK_BASE_URL": srv.URL}
			secrets := []string{cred.OAuthClientSecret}
			if kind == "oauth" {
				env["ZENDESK_OAUTH_CLIENT_ID"], env["ZENDESK_OAUTH_CLIENT_SECRET"] = cred.OAuthClientID, cred.OAuthClientSecret
			} else {
				env["ZENDESK_EMAIL"], env["ZENDESK_API_TOKEN"] = cred.AdminEmail, cred.APIToken
				secrets = []string{cred.APIToken}
			}

			var out, errOut bytes.Buffer
			if err := run(t.Context(), nil, envOf(env), &out, &errOut); err != nil {
				t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
			}

			// Nothing but reads reached the account.
			stats := srv.Stats()
			for key, n := range stats.Requests {
				if !strings.HasPrefix(key, "GET ") && key != "POST /oauth/tokens" {
					t.Errorf("%d write requests %s", n, key)
				}
			}
			for _, rec := range srv.RequestLog() {
				if rec.Method != http.MethodGet && !(rec.Method == http.MethodPost && rec.Path == "/oauth/tokens") {
					t.Errorf("sent %s %s", rec.Method, rec.Path)
				}
			}
			// A sync read each collection.
			for _, key := range []string{"GET /api/v2/users", "GET /api/v2/groups", "GET /api/v2/group_memberships",
				"GET /api/v2/organizations", "GET /api/v2/custom_roles", "GET /api/v2/account/settings"} {
				if stats.Requests[key] == 0 {
					t.Errorf("no %s: the sync did not read it (requests: %v)", key, stats.Requests)
				}
			}

			// The summary is that account's snapshot: same hash as a sync of our own.
			want := ownSnapshot(t, srv)
			got := out.String()
			for _, s := range []string{"read-only", "Snapshot of " + cred.Subdomain, "resources", "role:agent:assigned", "sha256", want.Hash()} {
				if !strings.Contains(got, s) {
					t.Errorf("stdout lacks %q:\n%s", s, got)
				}
			}
			progress := errOut.String()
			for _, s := range []string{"sync: reading", "users", "requests", "rate limit 700/min", "sync: snapshot complete"} {
				if !strings.Contains(progress, s) {
					t.Errorf("stderr lacks %q:\n%s", s, progress)
				}
			}
			for _, s := range secrets {
				if strings.Contains(got+progress, s) {
					t.Errorf("a credential reached the output:\n%s\n%s", got, progress)
				}
			}
		})
	}
}

// ownSnapshot syncs srv with a client of the test's own.
func ownSnapshot(t *testing.T, srv *zendesktest.Server) *access.Snapshot {
	t.Helper()
	cred := srv.Credentials()
	c, err := zendesk.NewClient(cred.Subdomain, zendesk.WithBaseURL(srv.URL), zendesk.WithAPIToken(cred.AdminEmail, cred.APIToken))
	if err != nil {
		t.Fatal(err)
	}
	b, err := zendeskaccess.New(c)
	if err != nil {
		t.Fatal(err)
	}
	s, err := access.Sync(t.Context(), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestQuickstartLiveFailureKeepsTheSecret(t *testing.T) {
	t.Parallel()
	srv, err := zendesktest.NewServer(zendesktest.WithAccount(zendesktest.DemoAccount()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cred := srv.Credentials()
	const wrong = "not-the-secret-0123456789"
	env := map[string]string{"ZENDESK_SUBDOMAIN": cred.Subdomain, "ZENDESK_BASE_URL": srv.URL,
		"ZENDESK_OAUTH_CLIENT_ID": cred.OAuthClientID, "ZENDESK_OAUTH_CLIENT_SECRET": wrong}
	var out, errOut bytes.Buffer
	err = run(t.Context(), nil, envOf(env), &out, &errOut)
	if err == nil {
		t.Fatal("run succeeded with a wrong client secret")
	}
	if all := err.Error() + out.String() + errOut.String(); strings.Contains(all, wrong) {
		t.Errorf("the secret reached the output or the error:\n%s", all)
	}
}

// TestReadOnlyTransport checks the live client's last line of defence: a write is
// refused before it is sent.
func TestReadOnlyTransport(t *testing.T) {
	t.Parallel()
	var sent []string
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent = append(sent, r.Method+" "+r.URL.Path)
		return httptest.NewRecorder().Result(), nil
	})
	tr := readOnly{next: next}
	tests := []struct {
		method, path string
		allowed      bool
	}{
		{http.MethodGet, "/api/v2/users", true},
		{http.MethodHead, "/api/v2/users", true},
		{http.MethodPost, "/oauth/tokens", true},
		{http.MethodPost, "/api/v2/group_memberships", false},
		{http.MethodPost, "/api/v2/oauth/tokens", false},
		{http.MethodPut, "/api/v2/users/1", false},
		{http.MethodDelete, "/api/v2/group_memberships/1", false},
		{http.MethodPatch, "/api/v2/users/1", false},
	}
	for _, tt := range tests {
		sent = nil
		req := httptest.NewRequest(tt.method, "https://acme.zendesk.com"+tt.path, strings.NewReader("{}"))
		resp, err := tr.RoundTrip(req)
		if resp != nil {
			resp.Body.Close()
		}
		if tt.allowed != (err == nil) || tt.allowed != (len(sent) == 1) {
			t.Errorf("%s %s: err %v, sent %v; allowed = %v", tt.method, tt.path, err, sent, tt.allowed)
		}
		if !tt.allowed && (err == nil || !strings.Contains(err.Error(), "read-only")) {
			t.Errorf("%s %s: err %v, want a read-only refusal", tt.method, tt.path, err)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestQuickstartRefusesBadFlags(t *testing.T) {
	t.Parallel()
	var errOut bytes.Buffer
	if err := run(t.Context(), []string{"-no-such-flag"}, envOf(nil), io.Discard, &errOut); !errors.Is(err, errUsage) {
		t.Errorf("err = %v, want errUsage", err)
	}
	if !strings.Contains(errOut.String(), "-base-url") {
		t.Errorf("no usage on stderr: %q", errOut.String())
	}
	if err := run(t.Context(), []string{"extra"}, envOf(nil), io.Discard, io.Discard); err == nil {
		t.Error("an extra argument was accepted")
	}
}
