package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/provision"
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

// timeBoundSection returns the time-bound step of a run's output, and fails if there is
// none.
func timeBoundSection(t *testing.T, out string) string {
	t.Helper()
	i := strings.Index(out, "Time-bound access, with state in ")
	if i < 0 {
		t.Fatalf("no time-bound step:\n%s", out)
	}
	return out[i:]
}

// containsFields reports whether s holds want, comparing runs of white space as one
// space (the journal's columns are padded).
func containsFields(s, want string) bool {
	return strings.Contains(strings.Join(strings.Fields(s), " "), strings.Join(strings.Fields(want), " "))
}

var grantIDs = regexp.MustCompile(`(?m)^Granted (tb-[0-9a-f]+):|time-bound grant (tb-[0-9a-f]+) of it`)

// TestQuickstartTimeBound checks the time-bound step: a grant of a few seconds, revoked
// by the worker at expiry and journaled; standing access kept; the snapshot's mark; a
// countdown on stderr; and the temporary state removed at the end.
func TestQuickstartTimeBound(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if err := run(t.Context(), nil, envOf(nil), &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	tb := timeBoundSection(t, out.String())
	for _, want := range []string{
		"(removed at the end; -keep-state keeps it)",
		"Ann Lee (user:", "joins group Escalations until", "(for 3s): active",
		`asked by ann.lee@example.com: "on call for Escalations tonight" (ticket:OPS-7)`,
		"Snapshot with tb.Marks: grant group:", "has expires_at 20", "plans treat it as held until then",
		"Standing access kept: Erin Fox has held group Tier 2 since day one", "standing true",
		"ended early with End by end:erin.fox@example.com: kept; Erin Fox still in Tier 2: yes",
		"Revoked by the worker at", "after the expiry (ended by expiry): ended; Ann Lee still in Escalations: no",
		"started grant by ann.lee@example.com", "finished grant granted by ann.lee@example.com",
		"started revoke by zgov:timebound", "finished revoke revoked by zgov:timebound",
		"finished grant already_granted by erin.fox@example.com", "finished revoke kept by erin.fox@example.com",
		"Journal verified: 8 entries",
	} {
		if !containsFields(tb, want) {
			t.Errorf("the time-bound step lacks %q:\n%s", want, tb)
		}
	}
	if strings.Contains(tb, "State kept in") {
		t.Errorf("the state was kept without -keep-state:\n%s", tb)
	}
	checkReview(t, tb, "quickstart-1", false)
	if p := errOut.String(); !strings.Contains(p, "time-bound: Ann Lee in Escalations ends in") || !strings.Contains(p, "expired; the worker is revoking it") {
		t.Errorf("no countdown on stderr:\n%s", p)
	}
	// The temporary directory is gone.
	dsn, _, _ := strings.Cut(strings.TrimPrefix(tb, "Time-bound access, with state in "), " ")
	path := strings.TrimPrefix(dsn, "sqlite://")
	if !strings.HasSuffix(path, "/zgov.db") {
		t.Fatalf("state DSN %q: want sqlite:///.../zgov.db", dsn)
	}
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the temporary state %s is still there (%v)", filepath.Dir(path), err)
	}
}

// TestQuickstartKeepState runs the demo with -keep-state, reads the file it kept with
// provision.OpenStore, then runs the demo again on it (-state): the first run's grants
// and journal survive it.
func TestQuickstartKeepState(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(t.Context(), []string{"-keep-state"}, envOf(nil), &out, io.Discard); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	first := timeBoundSection(t, out.String())
	checkReview(t, first, "quickstart-1", true)
	m := regexp.MustCompile(`State kept in (\S+)\n  run go run ./examples/quickstart -state (\S+)\n`).FindStringSubmatch(first)
	if m == nil || m[1] != m[2] {
		t.Fatalf("no path of the kept state:\n%s", first)
	}
	path := m[1]
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(path)) })
	var ids []string
	for _, m := range grantIDs.FindAllStringSubmatch(first, -1) {
		ids = append(ids, m[1]+m[2])
	}
	if len(ids) != 2 {
		t.Fatalf("grant IDs %q in:\n%s", ids, first)
	}

	// The file, read by a process of its own: the journal verifies and holds the revoke
	// at expiry and the kept standing access.
	store, err := provision.OpenStore(t.Context(), sqliteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	j, err := provision.NewJournal(store.Journal())
	if err != nil {
		t.Fatal(err)
	}
	// 8 entries of the time-bound grants, 4 of the review's two revokes.
	if vr, err := j.Verify(t.Context()); err != nil || vr.Entries != 12 {
		t.Errorf("Verify = %+v, %v; want 12 entries", vr, err)
	}
	for change, status := range map[string]string{"timebound/" + ids[0] + "/revoke": "revoked", "timebound/" + ids[1] + "/keep": "kept"} {
		c, err := j.Change(t.Context(), change)
		if err != nil || !c.Done() || c.Finished.Outcome.Status != status {
			t.Errorf("journal change %s: %+v, %v; want finished %s", change, c, err, status)
		}
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	// A second run on the file finds both grants ended and the journal whole, and adds
	// its own.
	out.Reset()
	if err := run(t.Context(), []string{"-state", path}, envOf(nil), &out, io.Discard); err != nil {
		t.Fatalf("second run: %v\n%s", err, out.String())
	}
	second := timeBoundSection(t, out.String())
	checkReview(t, second, "quickstart-2", true)
	for _, want := range []string{
		"Found in " + path + ", from earlier runs: 2 time-bound grants, and a journal of 12 entries that verifies",
		ids[0] + ": group:", "ended at", "by expiry",
		ids[1] + ": group:", "kept at", "by end:erin.fox@example.com",
		"Journal verified: 20 entries", "State kept in " + path,
	} {
		if !strings.Contains(second, want) {
			t.Errorf("the second run lacks %q:\n%s", want, second)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the state file is gone after a run with -state: %v", err)
	}
}

func TestQuickstartStateIsForTheDemo(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": "a@acme.com", "ZENDESK_API_TOKEN": "tok"}
	for _, args := range [][]string{{"-keep-state"}, {"-state", filepath.Join(t.TempDir(), "zgov.db")}} {
		err := run(t.Context(), args, envOf(env), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "for the demo on the simulator") {
			t.Errorf("%q on a real account: err = %v", args, err)
		}
	}
}

func TestSQLiteDSN(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		"/tmp/zgov.db":         "sqlite:///tmp/zgov.db",
		"/tmp/a b?c#d%e/x.db":  "sqlite:///tmp/a%20b%3Fc%23d%25e/x.db",
		`C:\Users\ann\zgov.db`: "sqlite:///C:/Users/ann/zgov.db",
	} {
		if runtime.GOOS != "windows" && strings.Contains(path, `\`) {
			continue
		}
		if got := sqliteDSN(path); got != want {
			t.Errorf("sqliteDSN(%q) = %q, want %q", path, got, want)
		}
	}
}

// cancelOn is a Writer that cancels a run once what it wrote holds text.
type cancelOn struct {
	bytes.Buffer
	text   string
	cancel func()
}

func (w *cancelOn) Write(p []byte) (int, error) {
	n, err := w.Buffer.Write(p)
	if strings.Contains(w.String(), w.text) {
		w.cancel()
	}
	return n, err
}

// TestQuickstartStateAfterAStoppedRun stops a run while its time-bound grant is open:
// the next run on the file ends that grant before it grants again.
func TestQuickstartStateAfterAStoppedRun(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "zgov.db")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &cancelOn{text: "Waiting for the worker to revoke", cancel: cancel}
	if err := run(ctx, []string{"-state", path}, envOf(nil), out, io.Discard); !errors.Is(err, context.Canceled) {
		t.Fatalf("run = %v, want it stopped\n%s", err, out.String())
	}
	m := regexp.MustCompile(`(?m)^Granted (tb-[0-9a-f]+):`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no grant in:\n%s", out.String())
	}
	var second bytes.Buffer
	if err := run(t.Context(), []string{"-state", path}, envOf(nil), &second, io.Discard); err != nil {
		t.Fatalf("second run: %v\n%s", err, second.String())
	}
	tb := timeBoundSection(t, second.String())
	for _, want := range []string{
		m[1] + ": group:", ": active\n",
		m[1] + " was left open by an earlier run that was stopped: ended now (on this run's simulator), ended",
		"Revoked by the worker at",
	} {
		if !strings.Contains(tb, want) {
			t.Errorf("the second run lacks %q:\n%s", want, tb)
		}
	}
}

// evidenceFile is a line of the review step's list of evidence files.
var evidenceFile = regexp.MustCompile(`(?m)^  (\S+) +(\d+)  sha256 (\S+)$`)

// checkReview checks the access review step at the end of out (the time-bound section):
// the campaign, the refusals, the two revokes carried out and verified, the evidence
// files with their SHA-256 (and, if kept, that the files on disk match), and the
// journal's verification.
func checkReview(t *testing.T, out, id string, kept bool) {
	t.Helper()
	i := strings.Index(out, "\nAccess review ")
	if i < 0 {
		t.Fatalf("no access review step:\n%s", out)
	}
	sec, _, _ := strings.Cut(out[i+1:], "State kept in")
	if n := strings.Count(sec, "\n"); n > 30 {
		t.Errorf("the review step prints %d lines, want at most 30:\n%s", n, sec)
	}
	for _, want := range []string{
		"Access review " + id + " (Groups and custom roles), in the same database",
		"Population: 28 items from snapshot",
		"Reviewers by owner: support.lead@example.com 20 items, erin.fox@example.com 4, it.security@example.com 3, fallback auditor@example.com 1",
		"Refused, Erin on her own Tier 2 membership (it went to the fallback):", "not a reviewer of the item",
		"Refused, a revoke without a justification (*review.DecisionError):", "justification required",
		`Decided: 26 certified, 2 revoked ("left the team")`,
		"remediation through provision, 2 done, 0 failed, 0 manual; verified by grants_for",
		"and " + id + "-manifest.json", id + "-manifest.sha256 (sha256sum -c)",
		"Journal verified for the export:",
	} {
		if !containsFields(sec, want) {
			t.Errorf("the review step lacks %q:\n%s", want, sec)
		}
	}
	revokes := regexp.MustCompile(`(?m)^  item \d+: .+ in group .+: revoked, remediation done, journal review/`+id+`/\d+\n    re-read at \S+ \(grants_for\): verified true: `).FindAllString(sec, -1)
	if len(revokes) != 2 {
		t.Errorf("%d revokes carried out and verified, want 2:\n%s", len(revokes), sec)
	}
	m := regexp.MustCompile(`Evidence in (\S+):`).FindStringSubmatch(sec)
	if m == nil {
		t.Fatalf("no evidence directory:\n%s", sec)
	}
	dir := m[1]
	files := evidenceFile.FindAllStringSubmatch(sec, -1)
	want := []string{id + "-items.csv", id + "-evidence.json", id + "-evidence.xlsx", id + "-snapshot.json", id + "-report.html"}
	if len(files) != len(want) {
		t.Fatalf("evidence files %q, want %q:\n%s", files, want, sec)
	}
	hex64 := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for k, f := range files {
		name, size, sum := f[1], f[2], f[3]
		if name != want[k] || !hex64.MatchString(sum) {
			t.Errorf("evidence file %q, size %s, sha256 %q: want %s with a 64-hex SHA-256", name, size, sum, want[k])
			continue
		}
		if !kept {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum || strconv.Itoa(len(b)) != size {
			t.Errorf("%s on disk: %d bytes, sha256 %x; printed %s bytes, %s", name, len(b), got, size, sum)
		}
	}
	if kept {
		for _, name := range []string{id + "-manifest.json", id + "-manifest.sha256"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				t.Error(err)
			}
		}
	}
}
