package zendeskaccess_test

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	gosync "sync"
	"testing"

	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// proxy stands between a client and the simulator and spoils chosen
// requests, as its rule decides per request:
//   - "" forwards the request;
//   - "refuse" answers 403 (the client does not retry it);
//   - "fail500" answers 500 (the client retries it);
//   - "lose" forwards it and then drops the answer, as a network that fails
//     after the server acted does (the client does not know and retries).
//
// The rule is called outside the proxy's lock, so it may block.
type proxy struct {
	URL    string
	target *zendesktest.Server
	mu     gosync.Mutex
	rule   func(r *http.Request) string
}

func newProxy(t testing.TB, target *zendesktest.Server) *proxy {
	t.Helper()
	u, err := url.Parse(target.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0)
	p := &proxy{target: target}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		rule := p.rule
		p.mu.Unlock()
		action := ""
		if rule != nil {
			action = rule(r)
		}
		switch action {
		case "refuse":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":"Forbidden","description":"refused by the test proxy"}`))
		case "fail500":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"error":"InternalError","description":"failed by the test proxy"}`))
		case "lose":
			rp.ServeHTTP(httptest.NewRecorder(), r) // the simulator acts...
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = conn.Close() // ...and its answer is lost
			}
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	hs.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(hs.Close)
	p.URL = hs.URL
	return p
}

// set replaces the rule; nil forwards every request.
func (p *proxy) set(rule func(r *http.Request) string) {
	p.mu.Lock()
	p.rule = rule
	p.mu.Unlock()
}

// client returns a client of the target that talks through the proxy and
// retries at once (quickRetries); opts come last.
func (p *proxy) client(t testing.TB, opts ...zendesk.Option) *zendesk.Client {
	t.Helper()
	return newClient(t, p.target, quickRetries(append([]zendesk.Option{zendesk.WithBaseURL(p.URL)}, opts...)...)...)
}

// backend returns a backend whose client is p.client(t).
func (p *proxy) backend(t testing.TB, opts ...zendeskaccess.Option) *zendeskaccess.Backend {
	t.Helper()
	return backendOf(t, p.client(t), opts...)
}
