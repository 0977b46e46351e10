package zendesk

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
)

// recordingHandler keeps every record a logger handles.
type recordingHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}

func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

// logLine is a record reduced to what the tests compare.
type logLine struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (h *recordingHandler) lines() []logLine {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []logLine
	for _, r := range h.records {
		l := logLine{level: r.Level, msg: r.Message, attrs: map[string]string{}}
		r.Attrs(func(a slog.Attr) bool {
			l.attrs[a.Key] = a.Value.Resolve().String()
			return true
		})
		out = append(out, l)
	}
	return out
}

// TestLoggerLogsAttemptsRetriesAndWaits: WithLogger's promise, one line per attempt,
// per retry and per rate-limit wait, at the documented levels, and no credential in any
// logged attribute.
func TestLoggerLogsAttemptsRetriesAndWaits(t *testing.T) {
	const (
		refreshToken = "refresh-SECRET-0000000000"
		accessToken  = "access-SECRET-1111111111"
	)
	synctest.Test(t, func(t *testing.T) {
		h := &recordingHandler{}
		mock := httpmock.NewMockTransport()
		// 6 a minute with a burst of 1: after the first attempt, each waits for its token.
		c, err := NewClient("example", WithHTTPClient(&http.Client{Transport: mock}),
			WithOAuthRefreshToken(testClientID, testClientSecret, refreshToken), WithLogger(slog.New(h)),
			WithRateLimit(6), WithRetryWait(time.Second, time.Second))
		if err != nil {
			t.Fatal(err)
		}
		mock.RegisterResponder("POST", tokenURL, httpmock.NewJsonResponderOrPanic(200,
			map[string]any{"access_token": accessToken, "refresh_token": refreshToken + "-next", "expires_in": 7200}))
		var calls atomic.Int32
		mock.RegisterResponder("GET", usersURL, sequence(&calls,
			httpmock.NewStringResponder(503, `{"error":"ServiceUnavailable"}`),
			withHeader(withHeader(httpmock.NewStringResponder(429, `{"error":"APIRateLimitExceeded"}`), "Retry-After", "20"), "X-Zendesk-Request-Id", "req-429"),
			withHeader(okUser, "X-Zendesk-Request-Id", "req-ok")))
		if _, _, err := c.Users.Get(t.Context(), 1); err != nil {
			t.Fatal(err)
		}

		var attempts, retries, waits []logLine
		for _, l := range h.lines() {
			switch l.msg {
			case "zendesk request":
				attempts = append(attempts, l)
			case "zendesk retry":
				retries = append(retries, l)
			case "zendesk rate limit wait":
				waits = append(waits, l)
			default:
				t.Errorf("unexpected log line %q %v", l.msg, l.attrs)
			}
		}
		wantAttempts := []string{
			"DEBUG attempt=1 status=503",
			"DEBUG attempt=2 status=429 retry_after=20s request_id=req-429",
			"DEBUG attempt=3 status=200 request_id=req-ok",
		}
		if len(attempts) != len(wantAttempts) {
			t.Fatalf("attempt lines = %v, want %d", attempts, len(wantAttempts))
		}
		for i, l := range attempts {
			if got := describe(l, "attempt", "status", "retry_after", "request_id"); got != wantAttempts[i] {
				t.Errorf("attempt line %d = %q, want %q", i, got, wantAttempts[i])
			}
			if l.attrs["method"] != "GET" || l.attrs["path"] != "/api/v2/users/1" || l.attrs["duration"] == "" {
				t.Errorf("attempt line %d = %v, want method, path and duration", i, l.attrs)
			}
		}
		// The second attempt backs off 0.5-1s after the 503; the third waits the 429's 20s.
		if len(retries) != 2 {
			t.Fatalf("retry lines = %v, want 2", retries)
		}
		if got := describe(retries[0], "attempt", "after_status"); got != "INFO attempt=2 after_status=503" {
			t.Errorf("first retry line = %q", got)
		}
		if got := describe(retries[1], "attempt", "after_status", "waited"); got != "INFO attempt=3 after_status=429 waited=20s" {
			t.Errorf("second retry line = %q", got)
		}
		// At 6 a minute, a token every 10s: the second attempt (about 1s after the first)
		// waits about 9s; the third, 20s later, finds a token.
		if len(waits) != 1 || describe(waits[0], "attempt", "bucket") != "DEBUG attempt=2 bucket=account" {
			t.Fatalf("rate limit wait lines = %v, want one for attempt 2", waits)
		}
		if w, err := time.ParseDuration(waits[0].attrs["waited"]); err != nil || w < 8*time.Second || w > 10*time.Second {
			t.Errorf("rate limit wait = %q, want about 9s", waits[0].attrs["waited"])
		}

		for _, l := range h.lines() {
			text := l.msg + fmt.Sprint(l.attrs)
			for _, s := range []string{testClientSecret, refreshToken, accessToken, "Bearer", "Authorization"} {
				if strings.Contains(text, s) {
					t.Errorf("log line %q %v contains %q", l.msg, l.attrs, s)
				}
			}
		}
	})
}

// TestLoggerLogsTransportErrors: an attempt that gets no answer is logged with its error,
// and a call that ends so is logged once more at WARN.
func TestLoggerLogsTransportErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &recordingHandler{}
		c, mock := mockClient(t, WithLogger(slog.New(h)), WithMaxRetries(1), WithRetryWait(time.Second, time.Second))
		mock.RegisterResponder("GET", usersURL, httpmock.NewErrorResponder(fmt.Errorf("connection reset by peer")))
		if _, _, err := c.Users.Get(t.Context(), 1); err == nil {
			t.Fatal("want an error")
		}
		var got []string
		for _, l := range h.lines() {
			got = append(got, l.msg+" "+describe(l, "attempt", "after_error"))
			if (l.msg == "zendesk request" || l.msg == "zendesk request failed") && !strings.Contains(l.attrs["error"], "connection reset") {
				t.Errorf("%q line without the error: %v", l.msg, l.attrs)
			}
			if strings.Contains(fmt.Sprint(l.attrs), testToken) {
				t.Errorf("log line %v contains the API token", l.attrs)
			}
		}
		want := []string{
			"zendesk request DEBUG attempt=1",
			"zendesk retry INFO attempt=2 after_error=connection reset by peer",
			"zendesk request DEBUG attempt=2",
			"zendesk request failed WARN",
		}
		if fmt.Sprint(want) != fmt.Sprint(got) {
			t.Errorf("log lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// describe renders a line's level and the given attributes, in order, skipping absent ones.
func describe(l logLine, keys ...string) string {
	parts := []string{l.level.String()}
	for _, k := range keys {
		if v, ok := l.attrs[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}
