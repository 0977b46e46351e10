package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// envRunMain makes the test binary run main instead of the tests: the worker's process.
const envRunMain = "ZGOV_TEST_JIT_WORKER_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// envOf returns a getenv reading m.
func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// worker is a jit-worker process started by a test.
type worker struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  bytes.Buffer
	done chan struct{} // closed when its stderr is read to the end
}

// Log returns what the worker has logged so far.
func (w *worker) Log() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.log.String()
}

// startWorker starts jit-worker with args and env (and nothing else of the test's
// environment but PATH and HOME) and waits until it runs.
func startWorker(t *testing.T, env map[string]string, args ...string) *worker {
	t.Helper()
	w := &worker{cmd: exec.Command(os.Args[0], args...), done: make(chan struct{})}
	w.cmd.Env = []string{envRunMain + "=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	for k, v := range env {
		w.cmd.Env = append(w.cmd.Env, k+"="+v)
	}
	stderr, err := w.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if w.cmd.ProcessState == nil {
			_ = w.cmd.Process.Kill()
			<-w.done
			_ = w.cmd.Wait()
		}
	})
	ready := make(chan bool, 1)
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(stderr)
		running := false
		for sc.Scan() {
			w.mu.Lock()
			w.log.WriteString(sc.Text() + "\n")
			w.mu.Unlock()
			if !running && strings.Contains(sc.Text(), `msg="time-bound worker running"`) {
				running = true
				ready <- true
			}
		}
		if !running {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			<-w.done
			t.Fatalf("the worker exited before it ran:\n%s", w.Log())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the worker did not run in 60 s:\n%s", w.Log())
	}
	return w
}

// stop sends SIGTERM and waits for the worker to exit, which must be cleanly.
func (w *worker) stop(t *testing.T) {
	t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-w.done
	if err := w.cmd.Wait(); err != nil {
		t.Errorf("the worker exited with %v after SIGTERM:\n%s", err, w.Log())
	}
}

// simulator returns a simulator with an agent and a group she is not in.
func simulator(t *testing.T) (srv *zendesktest.Server, principalID, entitlementID string) {
	t.Helper()
	srv, err := zendesktest.NewServer(zendesktest.WithRateLimit(100_000))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	u, err := srv.AddUser(zendesktest.UserSpec{Name: "Ann Lee", Email: "ann.lee@example.com", Role: zendesktest.RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	grp := srv.AddGroup("Escalations")
	return srv, "user:" + strconv.FormatInt(u.ID, 10), "group:" + strconv.FormatInt(grp.ID, 10) + ":member"
}

// oauthEnv returns the environment that points the worker at srv with OAuth client
// credentials.
func oauthEnv(srv *zendesktest.Server) map[string]string {
	cred := srv.Credentials()
	return map[string]string{"ZENDESK_SUBDOMAIN": cred.Subdomain, "ZENDESK_BASE_URL": srv.URL,
		"ZENDESK_OAUTH_CLIENT_ID": cred.OAuthClientID, "ZENDESK_OAUTH_CLIENT_SECRET": cred.OAuthClientSecret}
}

// timeBound returns a TimeBound of the test's own on dsn, over srv: what an IGA
// platform's process that grants would hold. It schedules a notice one second before
// each expiry, which a worker sends.
func timeBound(t *testing.T, srv *zendesktest.Server, dsn string) (*provision.TimeBound, *provision.Journal) {
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
	sys, err := access.NewSystem(b)
	if err != nil {
		t.Fatal(err)
	}
	store, err := provision.OpenStore(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	j, err := provision.NewJournal(store.Journal())
	if err != nil {
		t.Fatal(err)
	}
	tb, err := provision.NewTimeBound(t.Context(), store, sys, j, &provision.TimeBoundOptions{
		Notices: []time.Duration{time.Second},
		// This process never runs jobs (Run): the worker's OnNotice is called.
		OnNotice: func(context.Context, provision.TimeBoundGrant, time.Duration) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return tb, j
}

// TestWorkerRevokesAtExpiry starts jit-worker processes on a database (one on a SQLite
// file, two on PostgreSQL), grants access for two seconds from the test through a
// TimeBound of its own on the same database, and checks that a worker revokes it at
// expiry, once, logs the notice the test's TimeBound scheduled and the revoke, and stops cleanly on SIGTERM, with no
// credential in its log.
func TestWorkerRevokesAtExpiry(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("stops the worker with SIGTERM")
	}
	if testing.Short() {
		t.Skip("waits for a real expiry")
	}
	t.Parallel()
	for _, tc := range []struct {
		name    string
		dsn     func(testing.TB) string
		workers int
	}{
		{"sqlite-file", sqldbtest.SQLiteFileDSN, 1},
		{"postgres", sqldbtest.PostgresDSN, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dsn := tc.dsn(t)
			srv, principal, entitlement := simulator(t)
			env := oauthEnv(srv)
			env["ZGOV_DB"] = dsn // as a service would set it: no password on the command line
			var ws []*worker
			for range tc.workers {
				ws = append(ws, startWorker(t, env, "-sweep", "1s", "-workers", "4"))
			}

			tb, j := timeBound(t, srv, dsn)
			g, err := tb.Grant(t.Context(), provision.TimeBoundRequest{PrincipalID: principal, EntitlementID: entitlement, For: 2 * time.Second,
				Actor: provision.JournalActor{Who: "ann.lee@example.com", Reason: "on call for Escalations tonight"}})
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(60 * time.Second)
			for {
				if g, err = tb.Get(t.Context(), g.ID); err != nil {
					t.Fatal(err)
				}
				if g.State != provision.TimeBoundPending && g.State != provision.TimeBoundActive && g.State != provision.TimeBoundEnding {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the grant is still %s 60 s on", g.State)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if g.State != provision.TimeBoundEnded || g.EndedBy != "expiry" {
				t.Fatalf("the grant ended %s by %q (%s), want ended by expiry", g.State, g.EndedBy, g.Error)
			}
			t.Logf("revoked %v after the expiry", g.EndedAt.Sub(g.ExpiresAt))
			uid, _ := strconv.ParseInt(strings.TrimPrefix(principal, "user:"), 10, 64)
			for _, m := range srv.GroupMembershipsOf(uid) {
				if "group:"+strconv.FormatInt(m.GroupID, 10)+":member" == entitlement {
					t.Error("Ann is still in Escalations")
				}
			}
			c, err := j.Change(t.Context(), "timebound/"+g.ID+"/revoke")
			if err != nil || !c.Done() || c.Finished.Outcome.Status != string(access.StatusRevoked) {
				t.Errorf("the journal's revoke: %+v, %v", c, err)
			}

			var logs string
			for _, w := range ws {
				w.stop(t)
				logs += w.Log()
			}
			for _, want := range []string{
				`msg="time-bound worker running"`, "auth=\"OAuth client credentials, scopes read write\"",
				`msg="time-bound grant ends soon" id=` + g.ID, "in=1s",
				`msg="time-bound worker stopped"`,
			} {
				if !strings.Contains(logs, want) {
					t.Errorf("the log lacks %q:\n%s", want, logs)
				}
			}
			revokes := strings.Count(logs, `msg=journaled change=timebound/`+g.ID+`/revoke op=revoke grant=`+access.GrantID(entitlement, principal)+` status=revoked by=zgov:timebound`)
			if revokes != 1 {
				t.Errorf("the workers logged %d revokes, want 1:\n%s", revokes, logs)
			}
			cred := srv.Credentials()
			for _, secret := range []string{cred.OAuthClientSecret, cred.APIToken} {
				if secret != "" && strings.Contains(logs, secret) {
					t.Errorf("a secret is in the log:\n%s", logs)
				}
			}
			// A short database password may also be the user's name (zgov:zgov):
			// look for it where a DSN would show it, or anywhere if it is long.
			if pw := passwordOf(dsn); pw != "" && (strings.Contains(logs, ":"+pw+"@") || len(pw) >= 8 && strings.Contains(logs, pw)) {
				t.Errorf("the database password is in the log:\n%s", logs)
			}
		})
	}
}

// passwordOf returns the password of a postgres:// DSN, or "".
func passwordOf(dsn string) string {
	_, rest, _ := strings.Cut(dsn, "://")
	userinfo, _, ok := strings.Cut(rest, "@")
	if !ok {
		return ""
	}
	_, pw, _ := strings.Cut(userinfo, ":")
	return pw
}

func TestWorkerNeedsADatabase(t *testing.T) {
	t.Parallel()
	var errOut bytes.Buffer
	err := run(t.Context(), nil, envOf(map[string]string{"ZENDESK_SUBDOMAIN": "acme"}), &errOut)
	if !errors.Is(err, errUsage) {
		t.Errorf("err = %v, want errUsage", err)
	}
	if s := errOut.String(); !strings.Contains(s, "-db is required") || !strings.Contains(s, "Usage: jit-worker -db DSN") {
		t.Errorf("stderr:\n%s", s)
	}
	for _, args := range [][]string{{"-db", "sqlite::memory:", "-sweep", "0s"}, {"-db", "sqlite::memory:", "-workers", "0"},
		{"-db", "sqlite::memory:", "extra"}, {"-no-such-flag"}} {
		if err := run(t.Context(), args, envOf(nil), io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("%q: err = %v, want errUsage", args, err)
		}
	}
}

// TestWorkerExitStatus runs the command as a process: no -db is exit status 2, a
// failure to start is 1.
func TestWorkerExitStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{nil, 2, "-db is required"},
		{[]string{"-db", "sqlite::memory:"}, 1, "jit-worker: ZENDESK_SUBDOMAIN is not set"},
	} {
		cmd := exec.Command(os.Args[0], tc.args...)
		cmd.Env = []string{envRunMain + "=1"}
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != tc.code || !strings.Contains(string(out), tc.says) {
			t.Errorf("%q: %v, want exit status %d saying %q:\n%s", tc.args, err, tc.code, tc.says, out)
		}
	}
}

// TestWorkerFailsClearly checks the errors of a worker that cannot start: they say what
// is wrong, and show neither the Zendesk credentials nor the database's password.
func TestWorkerFailsClearly(t *testing.T) {
	t.Parallel()
	srv, _, _ := simulator(t)
	cred := srv.Credentials()
	const dbPassword = "db-pass-7f3a9c"
	const wrongSecret = "not-the-secret-0123456789"
	good := oauthEnv(srv)
	with := func(changes map[string]string) map[string]string {
		env := map[string]string{}
		for k, v := range good {
			env[k] = v
		}
		for k, v := range changes {
			if v == "" {
				delete(env, k)
			} else {
				env[k] = v
			}
		}
		return env
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		db   string
		says []string
	}{
		{"no subdomain", with(map[string]string{"ZENDESK_SUBDOMAIN": ""}), "sqlite::memory:",
			[]string{"ZENDESK_SUBDOMAIN is not set"}},
		{"no credentials", with(map[string]string{"ZENDESK_OAUTH_CLIENT_ID": ""}), "sqlite::memory:",
			[]string{"no credentials", "ZENDESK_OAUTH_CLIENT_ID"}},
		{"token without e-mail", with(map[string]string{"ZENDESK_OAUTH_CLIENT_ID": "", "ZENDESK_API_TOKEN": cred.APIToken}), "sqlite::memory:",
			[]string{"email"}},
		{"wrong secret", with(map[string]string{"ZENDESK_OAUTH_CLIENT_SECRET": wrongSecret}), "sqlite::memory:",
			[]string{"check the Zendesk credentials (OAuth client credentials, scopes read write)"}},
		{"base URL with a password", with(map[string]string{"ZENDESK_BASE_URL": "http://u:" + dbPassword + "@127.0.0.1:1"}), "sqlite::memory:",
			[]string{"must not carry credentials"}},
		{"unknown scheme", good, "mysql://zgov:" + dbPassword + "@localhost/zgov",
			[]string{"invalid DSN", `unknown scheme "mysql"`}},
		{"unreachable PostgreSQL", good, "postgres://zgov:" + dbPassword + "@127.0.0.1:1/zgov?sslmode=disable&connect_timeout=5",
			[]string{"postgres://zgov:", "127.0.0.1:1"}},
		{"no such directory", good, "sqlite:///no/such/directory/zgov.db",
			[]string{"/no/such/directory/zgov.db"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var errOut bytes.Buffer
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			err := run(ctx, []string{"-db", tc.db}, envOf(tc.env), &errOut)
			if err == nil {
				t.Fatal("the worker started")
			}
			t.Log(err)
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("err = %v, want it to say %q", err, s)
				}
			}
			all := err.Error() + errOut.String()
			for _, secret := range []string{cred.OAuthClientSecret, wrongSecret, cred.APIToken, dbPassword} {
				if strings.Contains(all, secret) {
					t.Errorf("a secret is shown:\n%s", all)
				}
			}
		})
	}
}
