package zendesktest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// sent records every request the test suite sends, so that a contract
// check (internal/contract, when present) can validate them all.
var sent struct {
	mu   sync.Mutex
	reqs []sentRequest
}

type sentRequest struct {
	method, url, contentType string
	body                     []byte
}

func recordSent(r *http.Request, body []byte) {
	sent.mu.Lock()
	defer sent.mu.Unlock()
	sent.reqs = append(sent.reqs, sentRequest{method: r.Method, url: r.URL.String(), contentType: r.Header.Get("Content-Type"), body: body})
}

func newServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := NewServer(opts...)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// client talks to a Server over HTTP (an in-memory network for a piped
// server, see newPipedServer).
type client struct {
	t     testing.TB
	s     *Server
	authz string // Authorization header
	// skipRecord leaves requests out of the contract check (deliberately
	// invalid requests).
	skipRecord bool
}

func basicToken(email, token string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(email+"/token:"+token))
}

// admin returns a client authenticated as the owner with the API token.
func admin(t testing.TB, s *Server) *client {
	cr := s.Credentials()
	return &client{t: t, s: s, authz: basicToken(cr.AdminEmail, cr.APIToken)}
}

// as returns a client authenticated with the API token as email.
func as(t testing.TB, s *Server, email string) *client {
	return &client{t: t, s: s, authz: basicToken(email, s.Credentials().APIToken)}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// do sends a request; body may be nil, a string (sent as is) or a value
// marshalled as JSON.
func (c *client) do(method, path string, body any) response {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			c.t.Fatalf("marshal body: %v", err)
		}
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = c.s.URL + path
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(raw))
	if err != nil {
		c.t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Accept", "application/json")
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.authz != "" {
		req.Header.Set("Authorization", c.authz)
	}
	if !c.skipRecord {
		recordSent(req, raw)
	}
	resp, err := httpClient(c.s).Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// must sends a request and fails the test unless the status is want.
func (c *client) must(want int, method, path string, body any) map[string]any {
	c.t.Helper()
	r := c.do(method, path, body)
	if r.status != want {
		c.t.Fatalf("%s %s: status %d, want %d\n%s", method, path, r.status, want, r.body)
	}
	if want == http.StatusNoContent {
		return nil
	}
	return r.json(c.t)
}

// id reads m[key].id as int64.
func id(t testing.TB, m map[string]any, key string) int64 {
	t.Helper()
	obj, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("no %q object in %v", key, m)
	}
	return num(t, obj["id"])
}

func num(t testing.TB, v any) int64 {
	t.Helper()
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("not a number: %#v", v)
	}
	return int64(f)
}

func list(t testing.TB, m map[string]any, key string) []map[string]any {
	t.Helper()
	arr, ok := m[key].([]any)
	if !ok {
		t.Fatalf("no %q array in %v", key, m)
	}
	out := make([]map[string]any, len(arr))
	for i, x := range arr {
		out[i] = x.(map[string]any)
	}
	return out
}

// wantError checks a Zendesk error answer.
func wantError(t testing.TB, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d\n%s", r.status, status, r.body)
	}
	m := r.json(t)
	if m["error"] != code {
		t.Fatalf("error %v, want %q\n%s", m["error"], code, r.body)
	}
}
