package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// runDone runs the command with a context that has already ended: it
// generates the account, prints what it prints, and returns at once instead
// of serving.
func runDone(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var out, errOut bytes.Buffer
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, flag := range []string{"-h", "-help", "--help"} {
		code, stdout, stderr := runDone(t, flag)
		if code != 0 {
			t.Errorf("%s: exit %d, want 0", flag, code)
		}
		for _, want := range []string{"serves an in-memory Zendesk Support API", "Usage: zendesk-sim [flags]", "-users", "-fault-kinds", "-bulk-user-imports", "-user-update-limit"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%s: the help on stdout lacks %q:\n%s", flag, want, stdout)
			}
		}
		if stderr != "" {
			t.Errorf("%s: stderr %q, want nothing", flag, stderr)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"extra"}, `unexpected argument "extra": zendesk-sim takes flags only`},
		{[]string{"-users", "10", "stray"}, `unexpected argument "stray"`},
		{[]string{"-faults", "-0.5"}, "-faults must be between 0 and 1, got -0.5"},
		{[]string{"-faults", "1.5"}, "-faults must be between 0 and 1, got 1.5"},
		{[]string{"-seats", "-3"}, "-seats must be 0 (unlimited) or more, got -3"},
		{[]string{"-user-update-limit", "-1"}, "-user-update-limit must be 0 (no limit) or more, got -1"},
		{[]string{"-fault-kinds", "500"}, "-fault-kinds needs -faults (a rate above 0)"},
		{[]string{"-fault-seed", "7"}, "-fault-seed needs -faults (a rate above 0)"},
		{[]string{"-faults", "0.5", "-fault-kinds", "500,meteor"}, `-fault-kinds: "meteor" is not one of 500, 502`},
		{[]string{"-plan", "gold"}, `-plan "gold" is not one of`},
		{[]string{"-rpm", "-1"}, "-rpm must be 0 (the plan's default) or more, got -1"},
		{[]string{"-users", "-3"}, "-users must be 0 or more, got -3"},
		{[]string{"-org-memberships", "-1"}, "-org-memberships must be 0 or more, got -1"},
		{[]string{"-latency", "-1s"}, "-latency must not be negative"},
		{[]string{"-token-ttl", "0s"}, "-token-ttl must be positive"},
		{[]string{"-listen", "nonsense"}, `-listen "nonsense"`},
		{[]string{"-nope"}, "flag provided but not defined: -nope"},
		{[]string{"-users", "many"}, `invalid value "many" for flag -users`},
		{[]string{"-plan", "team", "-custom-roles", "2"}, "custom roles need plan enterprise"},
		{[]string{"-seats", "3", "-agents", "5"}, "exceed 3 agent seats"},
	} {
		code, stdout, stderr := runDone(t, tc.args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2", tc.args, code)
		}
		if !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: stderr %q, want it to say %q", tc.args, stderr, tc.want)
		}
		if stdout != "" {
			t.Errorf("%q: stdout %q, want nothing", tc.args, stdout)
		}
	}
}

// TestMembershipNotes: memberships that cannot be made as asked are
// reported on stderr with both numbers and the reason.
func TestMembershipNotes(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runDone(t, "-listen", "127.0.0.1:0", "-users", "5", "-orgs", "3", "-org-memberships", "50",
		"-agents", "2", "-admins", "0", "-groups", "2", "-group-memberships", "100")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		"zendesk-sim: note: asked for 100 group memberships, made 6: 3 agents and admins (the owner included) in 2 groups allow at most 6\n",
		"zendesk-sim: note: asked for 50 organization memberships, made ",
		"each only one while multiple organizations are off\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "6+") {
		t.Errorf("stdout does not report the 6 group memberships made:\n%s", stdout)
	}
	// An account made as asked has no notes.
	if _, _, stderr := runDone(t, "-listen", "127.0.0.1:0"); stderr != "" {
		t.Errorf("demo account: stderr %q, want nothing", stderr)
	}
}

// TestGenerationProgress: a large account's generation is reported on
// stderr, by tenths of each large stage.
func TestGenerationProgress(t *testing.T) {
	t.Parallel()
	code, _, stderr := runDone(t, "-listen", "127.0.0.1:0", "-users", "150000")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var users []string
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "zendesk-sim: generating users: ") {
			users = append(users, line)
		}
	}
	if len(users) != 11 || !strings.HasSuffix(users[0], "  0% (0 of 150009)") || !strings.HasSuffix(users[10], "100% (150009 of 150009)") {
		t.Errorf("users progress: %q, want 0%% to 100%% by tenths", users)
	}
	if !strings.Contains(stderr, "zendesk-sim: generating export log: 100% (150009 of 150009)") {
		t.Errorf("no end of the export log in:\n%s", stderr)
	}
}

// lineWriter collects output written from another goroutine and hands over
// the first complete line that starts with prefix.
type lineWriter struct {
	prefix string
	found  chan string // buffered: receives the line once

	mu   sync.Mutex
	buf  bytes.Buffer
	sent bool
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	lines := strings.Split(w.buf.String(), "\n")
	for _, line := range lines[:len(lines)-1] { // complete lines only
		if rest, ok := strings.CutPrefix(line, w.prefix); ok && !w.sent {
			w.found <- rest
			w.sent = true
		}
	}
	return len(p), nil
}

// shellWords splits a command line made of words and single-quoted words,
// as a POSIX shell does; ok is false for anything else (unbalanced quotes,
// characters a shell would expand).
func shellWords(line string) (words []string, ok bool) {
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case strings.ContainsRune(`"$`+"`"+`\*?[]{}~&|;<>()!#`, r):
			return nil, false
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, false
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, true
}

// TestServeAndCurlLine serves an account and checks that the printed curl
// line is a command a shell runs as is: quoted words, -g so that curl does
// not take the brackets of page[size] for a glob, and credentials and a URL
// that the simulator answers. It runs the line with curl when curl is
// installed.
func TestServeAndCurlLine(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	stdout := &lineWriter{prefix: "try: ", found: make(chan string, 1)}
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"-listen", "127.0.0.1:0"}, stdout, &stderr) }()
	var line string
	select {
	case line = <-stdout.found:
	case code := <-done:
		t.Fatalf("exit %d before serving: %s", code, stderr.String())
	}
	words, ok := shellWords(line)
	if !ok || len(words) != 5 || words[0] != "curl" || words[1] != "-g" || words[2] != "-u" {
		t.Fatalf("curl line %q: want curl -g -u 'USER' 'URL', quoted for a shell", line)
	}
	userPass, target := words[3], words[4]
	u, err := url.Parse(target)
	if err != nil || u.Query().Get("page[size]") != "2" {
		t.Fatalf("curl line URL %q: %v", target, err)
	}
	user, pass, _ := strings.Cut(userPass, ":")
	req, _ := http.NewRequestWithContext(ctx, "GET", target, nil)
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ Users []json.RawMessage }
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(page.Users) != 2 {
		t.Errorf("the curl line's request: status %d, %d users, %v; want 200 and 2 users", resp.StatusCode, len(page.Users), err)
	}
	if _, err := exec.LookPath("curl"); err == nil {
		out, err := exec.CommandContext(ctx, "sh", "-c", line+" -s -f").Output()
		if err != nil {
			t.Errorf("sh -c %q: %v", line, err)
		} else if err := json.Unmarshal(out, &page); err != nil || len(page.Users) != 2 {
			t.Errorf("sh -c %q: %v, output %q", line, err, out)
		}
	} else {
		t.Log("curl not installed: the line was checked, not run")
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after the interrupt, want 0: %s", code, stderr.String())
	}
}
