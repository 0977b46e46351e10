package zendesktest

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is a stateful in-memory Zendesk Support API server listening on a
// loopback port. Create it with NewServer and Close it when done.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:PORT, without a trailing slash.
	URL string

	cfg   config
	hs    *httptest.Server
	creds Credentials

	mu sync.RWMutex // guards st
	st *store

	account     *bucket
	incremental *bucket
	userUpdates *userWindow
	faults      *faultInjector

	auth  authState
	table []*route

	obs observer

	jobQueue  chan *jobRec
	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// NewServer starts a simulator on 127.0.0.1 with a random port.
func NewServer(opts ...Option) (*Server, error) {
	s, err := New(opts...)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("zendesktest: listen on loopback: %w", err)
	}
	s.hs = &httptest.Server{Listener: ln, Config: &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}}
	s.hs.Start()
	s.URL = s.hs.URL
	return s, nil
}

// New builds a simulator without starting a listener; serve it with
// Handler (for example from cmd/zendesk-sim). Close it when done.
func New(opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	creds, err := generateCredentials(cfg.creds)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, creds: creds, done: make(chan struct{}), jobQueue: make(chan *jobRec, 1024)}
	now := cfg.clock()
	s.account = newBucket(cfg.effectiveRPM(), cfg.unlimited, now)
	s.incremental = newBucket(cfg.incrementalRPM, cfg.unlimited, now)
	if cfg.unlimited {
		s.userUpdates = newUserWindow(0)
	} else {
		s.userUpdates = newUserWindow(cfg.userUpdateLimit)
	}
	if cfg.faults != nil {
		s.faults = newFaultInjector(*cfg.faults)
	}
	s.auth.init()
	s.table = s.routes()
	s.obs.init(cfg.requestLogSize)

	spec := AccountSpec{Groups: 1} // an empty account has its owner and the default group
	if cfg.account != nil {
		spec = *cfg.account
	}
	st, err := generate(spec, cfg.plan, cfg.multipleOrgs, creds.AdminEmail, cfg.progress)
	if err != nil {
		return nil, fmt.Errorf("zendesktest: generate account: %w", err)
	}
	st.seats = cfg.agentSeats
	st.singleOrgMode = cfg.singleOrgMode
	st.maxOrgsPerUser = cfg.maxOrgsPerUser
	s.st = st

	s.wg.Add(1)
	go s.runJobs()
	return s, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("zendesktest: random credentials: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func generateCredentials(override *Credentials) (Credentials, error) {
	c := Credentials{Subdomain: "zgov-sim", OAuthClientID: "zgov_sim_client"}
	var err error
	if c.APIToken, err = randomHex(20); err != nil {
		return c, err
	}
	if c.OAuthClientSecret, err = randomHex(32); err != nil {
		return c, err
	}
	if override != nil {
		if override.Subdomain != "" {
			c.Subdomain = override.Subdomain
		}
		if override.AdminEmail != "" {
			c.AdminEmail = override.AdminEmail
		}
		if override.APIToken != "" {
			c.APIToken = override.APIToken
		}
		if override.OAuthClientID != "" {
			c.OAuthClientID = override.OAuthClientID
		}
		if override.OAuthClientSecret != "" {
			c.OAuthClientSecret = override.OAuthClientSecret
		}
	}
	if c.AdminEmail == "" {
		c.AdminEmail = "owner@" + c.Subdomain + ".example.com"
	}
	return c, nil
}

// Close shuts the listener down (if any) and stops the job worker.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		if s.hs != nil {
			s.hs.Close()
		}
		s.wg.Wait()
	})
}

// Handler returns the simulator as an http.Handler, for embedding in
// another server. Record and link URLs are built from the request's Host.
func (s *Server) Handler() http.Handler { return s }

// Credentials returns the credentials the simulator accepts.
func (s *Server) Credentials() Credentials { return s.creds }

// Plan returns the simulated plan.
func (s *Server) Plan() Plan { return s.cfg.plan }

func (s *Server) routeTable() []*route { return s.table }

// read runs f under the read lock; the lock is released even if f panics.
func (s *Server) read(f func(st *store)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	f(s.st)
}

// write runs f under the write lock; the lock is released even if f panics.
func (s *Server) write(f func(st *store)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.st)
}

func (s *Server) now() time.Time { return s.cfg.clock() }

// ServeHTTP serves one API request: fault injection, rate limiting,
// authentication, permission checks, then the endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	body, berr := readBody(r)
	rt, params, methodOK := s.match(r.Method, r.URL.Path)
	key := routeKey(r.Method, rt, methodOK)
	ignored := ignoredParams(r, rt, methodOK)
	if len(ignored) > 0 {
		w.Header().Set(IgnoredParamsHeader, strings.Join(ignored, ", "))
	}
	sw := &statusWriter{ResponseWriter: w}
	// Record the request when its status is set, before any byte of the answer can
	// reach the client: a client that has its answer must find it in Stats and
	// RequestLog. Requests that end without a status (a reset connection) are
	// recorded when the handler returns.
	sw.onStatus = func() {
		s.obs.record(key, RequestRecord{Time: start, Method: r.Method, Path: r.URL.Path,
			Query: r.URL.RawQuery, Status: sw.status, Body: capBody(body), Ignored: ignored})
	}
	defer sw.settle()

	isOAuth := rt != nil && rt.oauth
	if s.faults != nil && (!isOAuth || s.faults.cfg.IncludeOAuth) {
		if k, h := s.faults.next(); k != 0 {
			s.obs.fault()
			switch k {
			case FaultSlow:
				if !sleepCtx(r, s.faults.cfg.Latency) {
					return
				}
			case FaultConnReset:
				sw.status = -1
				if !resetConn(w) {
					sw.status = 0 // not hijackable: answer a 500, recorded as such
					writeFault(sw, Fault500, h, 0)
				}
				return
			case FaultTruncatedBody:
				sw.status = -2
				buf := &bufferedResponse{hdr: http.Header{}}
				if r.Method == http.MethodGet {
					s.serve(buf, r, rt, params, methodOK, body, berr)
				} else {
					buf.body = []byte(`{"simulated":"truncated response to a request that had no effect"}`)
				}
				if !truncate(w, "application/json; charset=utf-8", buf.body) {
					sw.status = 0
					writeFault(sw, Fault500, h, 0)
				}
				return
			default:
				writeFault(sw, k, h, s.faults.cfg.RetryAfter)
				return
			}
		}
	}
	if s.cfg.latency > 0 && !sleepCtx(r, s.cfg.latency) {
		return
	}
	s.serve(sw, r, rt, params, methodOK, body, berr)
}

// IgnoredParamsHeader names the response header in which the simulator lists
// the query parameters of a GET that it accepted but did not apply (see
// "Query parameters" in the package documentation). Zendesk sends no such
// header.
const IgnoredParamsHeader = "Zendesk-Sim-Ignored-Params"

// notApplied are the query parameters no endpoint of the simulator applies:
// the spec's sideloads, sorts and cursor extras, brand scoping, and the
// parent ids that some clients send to the account-wide lists as if they
// were filters.
var notApplied = []string{"include", "sort", "include_boundary_indicators", "include_item_cursors",
	"brand_id", "group_id", "user_id", "organization_id"}

// ignoredParams returns the parameters of notApplied that a GET to a known
// endpoint carries, in that order.
func ignoredParams(r *http.Request, rt *route, methodOK bool) []string {
	if rt == nil || !methodOK || r.Method != http.MethodGet || r.URL.RawQuery == "" {
		return nil
	}
	q := r.URL.Query()
	var out []string
	for _, name := range notApplied {
		if _, ok := q[name]; ok {
			out = append(out, name)
		}
	}
	return out
}

func sleepCtx(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// serve runs the request past fault injection.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, rt *route, params []string, methodOK bool, body []byte, berr *apiError) {
	w.Header().Set("X-Zendesk-Request-Id", strconv.FormatUint(s.obs.nextID(), 10))
	if rt != nil && rt.oauth && methodOK {
		c := &call{s: s, w: w, r: r, body: body}
		if berr != nil {
			c.fail(berr)
			return
		}
		s.handleOAuthToken(c)
		return
	}
	now := s.now()
	st := s.account.take(now)
	if !st.ok {
		s.obs.throttled()
		s.rateHeaders(w, st)
		w.Header().Set("Retry-After", strconv.Itoa(st.retryAfter))
		writeError(w, errRateLimited("Number of allowed API requests per minute exceeded", st.retryAfter))
		return
	}
	if rt != nil && rt.incremental {
		ist := s.incremental.take(now)
		s.rateHeaders(w, st)
		s.incrementalHeader(w, ist)
		if !ist.ok {
			s.account.giveBack()
			s.obs.throttled()
			w.Header().Set("Retry-After", strconv.Itoa(ist.retryAfter))
			writeError(w, errRateLimited("Number of allowed incremental export API requests per minute exceeded", ist.retryAfter))
			return
		}
	} else {
		s.rateHeaders(w, st)
	}

	c := &call{s: s, w: w, r: r, q: r.URL.Query(), body: body, base: apiBase(r)}
	if rt == nil {
		c.fail(errInvalidEndpoint())
		return
	}
	if !methodOK {
		c.fail(errMethodNotAllowed())
		return
	}
	if berr != nil {
		c.fail(berr)
		return
	}
	if e := s.authenticate(c); e != nil {
		c.fail(e)
		return
	}
	if e := c.authorize(rt); e != nil {
		c.fail(e)
		return
	}
	if rt.strIDs {
		c.strIDs = params
		params = nil
	}
	for _, p := range params {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil || id <= 0 {
			c.fail(errNotFound())
			return
		}
		c.ids = append(c.ids, id)
	}
	rt.h(c)
}

func (s *Server) rateHeaders(w http.ResponseWriter, st bucketState) {
	if !s.cfg.advertise {
		return
	}
	h := w.Header()
	l, rem := strconv.Itoa(st.limit), strconv.Itoa(st.remaining)
	h.Set("X-Rate-Limit", l)
	h.Set("X-Rate-Limit-Remaining", rem)
	h.Set("ratelimit-limit", l)
	h.Set("ratelimit-remaining", rem)
	h.Set("ratelimit-reset", strconv.Itoa(st.resetSecs))
}

func (s *Server) incrementalHeader(w http.ResponseWriter, st bucketState) {
	if !s.cfg.advertise {
		return
	}
	w.Header().Set("Zendesk-RateLimit-incremental-exports",
		fmt.Sprintf("total=%d; remaining=%d; resets=%d", st.limit, st.remaining, st.resetSecs))
}

// apiBase is the absolute API base URL as the client addressed us.
func apiBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/api/v2"
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.retryIn > 0 && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryIn))
	}
	if e.status == http.StatusUnauthorized && !e.oauth {
		w.Header().Set("WWW-Authenticate", `Basic realm="Web Password"`)
	}
	writeJSON(w, e.status, e.body())
}

// statusWriter records the status for stats and the request log, calling
// onStatus once, as soon as the status is known and before it is sent.
type statusWriter struct {
	http.ResponseWriter
	status   int
	onStatus func()
	recorded bool
}

func (w *statusWriter) setStatus(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.settle()
}

// settle records the request if it has not been recorded yet.
func (w *statusWriter) settle() {
	if !w.recorded {
		w.recorded = true
		if w.onStatus != nil {
			w.onStatus()
		}
	}
}

func (w *statusWriter) WriteHeader(code int) {
	w.setStatus(code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	w.setStatus(http.StatusOK)
	return w.ResponseWriter.Write(p)
}

// Hijack lets fault injection take over the connection.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("zendesktest: connection cannot be hijacked")
	}
	return hj.Hijack()
}

// Flush implements http.Flusher when the underlying writer does.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func capBody(b []byte) []byte {
	const max = 64 << 10
	if len(b) == 0 {
		return nil
	}
	if len(b) > max {
		b = b[:max]
	}
	return append([]byte(nil), b...)
}

// call is one request being served.
type call struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	q      map[string][]string
	ids    []int64
	strIDs []string
	body   []byte
	base   string
	actor  int64 // user id of the caller
	role   Role
	reader bool // token scope allows reads
	writer bool // token scope allows writes
}

func (c *call) fail(e *apiError) { writeError(c.w, e) }

func (c *call) ok(status int, body []byte) { writeJSON(c.w, status, body) }

func (c *call) noContent() {
	c.w.WriteHeader(http.StatusNoContent)
}

func (c *call) query(name string) string {
	if v := c.q[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (c *call) has(name string) bool { _, ok := c.q[name]; return ok }

func (c *call) nowUnix() int64 { return c.s.now().Unix() }

// isAdmin reports whether the caller is an admin.
func (c *call) isAdmin() bool { return c.role == RoleAdmin }

func lower(s string) string { return strings.ToLower(s) }
