package zendesktest

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// rawGet sends an authenticated GET on a fresh connection and returns the
// status, headers, body and any transport or body-read error.
func rawGet(t *testing.T, s *Server, path string) (int, http.Header, []byte, error) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	cr := s.Credentials()
	req.Header.Set("Authorization", basicToken(cr.AdminEmail, cr.APIToken))
	recordSent(req, nil)
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

func TestFaultKinds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kind  FaultKind
		check func(t *testing.T, status int, h http.Header, body []byte, err error)
	}{
		{Fault500, func(t *testing.T, st int, h http.Header, b []byte, err error) { wantStatus(t, st, err, 500) }},
		{Fault502, func(t *testing.T, st int, h http.Header, b []byte, err error) { wantStatus(t, st, err, 502) }},
		{Fault503, func(t *testing.T, st int, h http.Header, b []byte, err error) {
			wantStatus(t, st, err, 503)
			if h.Get("Retry-After") != "" {
				t.Error("503 has Retry-After")
			}
		}},
		{Fault503RetryAfter, func(t *testing.T, st int, h http.Header, b []byte, err error) {
			wantStatus(t, st, err, 503)
			if h.Get("Retry-After") != "1" {
				t.Errorf("Retry-After = %q", h.Get("Retry-After"))
			}
		}},
		{FaultHTMLError, func(t *testing.T, st int, h http.Header, b []byte, err error) {
			if err != nil || (st != 502 && st != 503) || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(string(b), "<html>") {
				t.Errorf("html error: %d %v %q %v", st, h, b, err)
			}
		}},
		{FaultConnReset, func(t *testing.T, st int, h http.Header, b []byte, err error) {
			if err == nil {
				t.Errorf("conn reset: got a response %d", st)
			}
		}},
		{FaultTruncatedBody, func(t *testing.T, st int, h http.Header, b []byte, err error) {
			if st != 200 || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("truncated: status %d err %v body %q", st, err, b)
			}
		}},
		{Fault429Storm, func(t *testing.T, st int, h http.Header, b []byte, err error) {
			wantStatus(t, st, err, 429)
			if h.Get("Retry-After") != "1" {
				t.Errorf("Retry-After = %q", h.Get("Retry-After"))
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.kind.String(), func(t *testing.T) {
			t.Parallel()
			s := newServer(t, WithFaults(Faults{Seed: 1, Rate: 1, Kinds: []FaultKind{tc.kind}}))
			st, h, b, err := rawGet(t, s, "/api/v2/users/me")
			tc.check(t, st, h, b, err)
			if s.Stats().Faults != 1 {
				t.Errorf("Faults = %d", s.Stats().Faults)
			}
		})
	}
}

func wantStatus(t *testing.T, got int, err error, want int) {
	t.Helper()
	if err != nil || got != want {
		t.Errorf("status %d (err %v), want %d", got, err, want)
	}
}

func TestFaultsHaveNoEffect(t *testing.T) {
	t.Parallel()
	for _, k := range []FaultKind{Fault500, FaultConnReset, FaultTruncatedBody} {
		s := newServer(t, WithFaults(Faults{Seed: 1, Rate: 1, Kinds: []FaultKind{k}}))
		before := s.Counts().Groups
		cr := s.Credentials()
		req, _ := http.NewRequest("POST", s.URL+"/api/v2/groups", strings.NewReader(`{"group":{"name":"Faulted"}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", basicToken(cr.AdminEmail, cr.APIToken))
		hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		if resp, err := hc.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if after := s.Counts().Groups; after != before {
			t.Errorf("%v: group created by a faulted request", k)
		}
	}
}

func TestFaultsDeterministic(t *testing.T) {
	t.Parallel()
	run := func(seed int64) string {
		s := newServer(t, WithFaults(Faults{Seed: seed, Rate: 0.3, Kinds: []FaultKind{Fault500, Fault503, Fault429Storm}, StormLength: 3}))
		c := admin(t, s)
		c.skipRecord = true
		var b strings.Builder
		for i := 0; i < 60; i++ {
			r := c.do("GET", "/api/v2/groups", nil)
			b.WriteString(http.StatusText(r.status)[:1])
		}
		return b.String()
	}
	a, b, other := run(42), run(42), run(43)
	if a != b {
		t.Errorf("same seed, different runs:\n%s\n%s", a, b)
	}
	if a == other {
		t.Errorf("different seeds, same run: %s", a)
	}
	if !strings.Contains(a, "O") || !strings.ContainsAny(a, "IST") {
		t.Errorf("rate 0.3 gave %s", a)
	}
	// A storm is a run of StormLength 429s ("T" for Too Many Requests).
	if i := strings.Index(a, "T"); i >= 0 && i+3 <= len(a) && a[i:i+3] != "TTT" {
		t.Errorf("storm shorter than 3: %s", a)
	}
}

func TestFaultsSparesOAuth(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithFaults(Faults{Seed: 1, Rate: 1, Kinds: []FaultKind{Fault500}}))
	cr := s.Credentials()
	resp, err := http.PostForm(s.URL+"/oauth/tokens", map[string][]string{"grant_type": {"client_credentials"},
		"client_id": {cr.OAuthClientID}, "client_secret": {cr.OAuthClientSecret}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("token endpoint faulted: %d", resp.StatusCode)
	}
	s2 := newServer(t, WithFaults(Faults{Seed: 1, Rate: 1, Kinds: []FaultKind{Fault500}, IncludeOAuth: true}))
	resp, err = http.PostForm(s2.URL+"/oauth/tokens", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("IncludeOAuth: %d", resp.StatusCode)
	}
}

// TestLatency runs in a synctest bubble, where the answer takes exactly the
// added latency on the fake clock: neither a busy machine nor a fast one
// changes what the test sees.
func TestLatency(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s, _ := newPipedServer(t, WithLatency(30*time.Millisecond))
		start := time.Now()
		admin(t, s).must(200, "GET", "/api/v2/users/me", nil)
		if d := time.Since(start); d != 30*time.Millisecond {
			t.Errorf("answered in %v, want the 30ms latency", d)
		}
		f, _ := newPipedServer(t, WithFaults(Faults{Seed: 1, Rate: 1, Kinds: []FaultKind{FaultSlow}, Latency: 20 * time.Millisecond}))
		start = time.Now()
		admin(t, f).must(200, "GET", "/api/v2/users/me", nil)
		if d := time.Since(start); d != 20*time.Millisecond {
			t.Errorf("slow fault answered in %v, want its 20ms", d)
		}
	})
}
