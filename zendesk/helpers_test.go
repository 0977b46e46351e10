package zendesk

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zgov-io/zgov/internal/contract"
)

// testEmail and testToken are fake credentials used by every test client.
const (
	testEmail = "admin@example.com"
	testToken = "test-api-token-0123456789"
)

// setup starts a test server whose mux the test fills, and a client pointed at it. When
// Zendesk's OpenAPI spec is found (see contract.Dir), every request the client sends is
// validated against it, except those to paths the spec does not have (/oauth/tokens);
// without the spec the test still runs, unvalidated.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	spec := contract.Optional(t)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if spec != nil && r.URL.Path != "/oauth/tokens" {
			if err := spec.ValidateRequest(r); err != nil {
				t.Errorf("request does not match Zendesk's spec: %v", err)
			}
		}
		mux.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	base := []Option{
		WithBaseURL(srv.URL),
		WithAPIToken(testEmail, testToken),
		WithRateLimit(60000),
		WithRetryWait(time.Millisecond, 5*time.Millisecond),
	}
	c, err := NewClient("example", append(base, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, mux
}

// testMethod reports an error if r's method is not want.
func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if r.Method != want {
		t.Errorf("method = %s, want %s", r.Method, want)
	}
}

// testQuery reports an error if r's query is not exactly want.
func testQuery(t *testing.T, r *http.Request, want url.Values) {
	t.Helper()
	got := r.URL.Query()
	if want == nil {
		want = url.Values{}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("query mismatch (-want +got):\n%s", diff)
	}
}

// testJSONBody reports an error if r's body is not JSON equal to want.
func testJSONBody(t *testing.T, r *http.Request, want string) {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("read body: %v", err)
		return
	}
	var got, exp any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Errorf("body %q is not JSON: %v", b, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad want JSON %q: %v", want, err)
	}
	if diff := cmp.Diff(exp, got); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
}

// testNoBody reports an error if r has a body.
func testNoBody(t *testing.T, r *http.Request) {
	t.Helper()
	b, _ := io.ReadAll(r.Body)
	if len(b) != 0 {
		t.Errorf("unexpected body %q", b)
	}
}

// writeJSON answers with status and a JSON body.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// fixture reads a file from the fixtures folder of Zendesk's API material
// (contract.FixturesDir), skipping the test when the folder is absent.
func fixture(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtureDir is the fixtures folder; the test is skipped when it is absent.
func fixtureDir(t *testing.T) string {
	t.Helper()
	dir, ok := contract.FixturesDir()
	if !ok {
		t.Skipf("fixtures not found: %s", contract.Where())
	}
	return dir
}
