package zendesktest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// FaultKind is a kind of injected failure.
type FaultKind int

// The fault kinds. Error faults are injected before the request reaches the
// account state, so a faulted request has no effect.
const (
	// Fault500 answers 500 with a JSON body.
	Fault500 FaultKind = iota + 1
	// Fault502 answers 502 with a JSON body.
	Fault502
	// Fault503 answers 503 without Retry-After (maintenance, internal issues).
	Fault503
	// Fault503RetryAfter answers 503 with Retry-After (database timeout or deadlock).
	Fault503RetryAfter
	// FaultConnReset closes the connection without any response.
	FaultConnReset
	// FaultTruncatedBody sends a 200 status and the full Content-Length, then
	// half of the body, then closes the connection: a transport error for
	// the client, not a short valid JSON document. GET requests are served
	// for real (their body is the real one); other methods get a placeholder
	// body and have no effect.
	FaultTruncatedBody
	// FaultHTMLError answers 502 or 503 with a text/html body, as a load
	// balancer does.
	FaultHTMLError
	// Fault429Storm answers Faults.StormLength consecutive requests with 429
	// and Retry-After: 1, whatever the rate-limit budget.
	Fault429Storm
	// FaultSlow delays the request by Faults.Latency and then serves it normally.
	FaultSlow
)

var faultNames = map[FaultKind]string{
	Fault500: "500", Fault502: "502", Fault503: "503", Fault503RetryAfter: "503-retry-after",
	FaultConnReset: "conn-reset", FaultTruncatedBody: "truncated-body", FaultHTMLError: "html-error",
	Fault429Storm: "429-storm", FaultSlow: "slow",
}

// String returns the fault kind's name as accepted by ParseFaultKind.
func (k FaultKind) String() string {
	if n, ok := faultNames[k]; ok {
		return n
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// ParseFaultKind parses a name returned by FaultKind.String.
func ParseFaultKind(s string) (FaultKind, error) {
	for k, n := range faultNames {
		if n == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("zendesktest: unknown fault kind %q", s)
}

// AllFaultKinds lists every fault kind except FaultSlow.
func AllFaultKinds() []FaultKind {
	return []FaultKind{Fault500, Fault502, Fault503, Fault503RetryAfter, FaultConnReset,
		FaultTruncatedBody, FaultHTMLError, Fault429Storm}
}

// Faults configures fault injection. Whether the n-th request (counted from
// 1 over the requests eligible for faults) fails, and how, is a pure function
// of (Seed, n), so a sequential run is reproducible.
type Faults struct {
	Seed int64
	// Rate is the probability, in [0, 1], that a request is faulted.
	Rate float64
	// Kinds to choose from, uniformly. Empty means AllFaultKinds().
	Kinds []FaultKind
	// Latency is the delay of FaultSlow (default 2s).
	Latency time.Duration
	// StormLength is the number of consecutive 429s of Fault429Storm (default 5).
	StormLength int
	// RetryAfter is the Retry-After of Fault503RetryAfter in seconds (default 1).
	RetryAfter int
	// IncludeOAuth also injects faults on POST /oauth/tokens.
	IncludeOAuth bool
}

func (f Faults) validate() error {
	if f.Rate < 0 || f.Rate > 1 || f.Rate != f.Rate {
		return fmt.Errorf("rate must be in [0, 1], got %v", f.Rate)
	}
	for _, k := range f.Kinds {
		if _, ok := faultNames[k]; !ok {
			return fmt.Errorf("unknown fault kind %d", int(k))
		}
	}
	if f.Latency < 0 || f.StormLength < 0 || f.RetryAfter < 0 {
		return errors.New("latency, storm length and retry-after must not be negative")
	}
	return nil
}

// faultInjector decides and counts faults.
type faultInjector struct {
	cfg   Faults
	kinds []FaultKind
	mu    sync.Mutex
	seq   uint64
	storm int // 429s left in the current storm
}

func newFaultInjector(f Faults) *faultInjector {
	fi := &faultInjector{cfg: f, kinds: f.Kinds}
	if len(fi.kinds) == 0 {
		fi.kinds = AllFaultKinds()
	}
	if fi.cfg.Latency == 0 {
		fi.cfg.Latency = 2 * time.Second
	}
	if fi.cfg.StormLength == 0 {
		fi.cfg.StormLength = 5
	}
	if fi.cfg.RetryAfter == 0 {
		fi.cfg.RetryAfter = 1
	}
	return fi
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// next returns the fault for the next request, or 0.
func (fi *faultInjector) next() (FaultKind, uint64) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	fi.seq++
	h := splitmix64(uint64(fi.cfg.Seed) ^ splitmix64(fi.seq))
	if fi.storm > 0 {
		fi.storm--
		return Fault429Storm, h
	}
	if fi.cfg.Rate <= 0 {
		return 0, h
	}
	u := float64(h>>11) / (1 << 53)
	if u >= fi.cfg.Rate {
		return 0, h
	}
	k := fi.kinds[splitmix64(h)%uint64(len(fi.kinds))]
	if k == Fault429Storm {
		fi.storm = fi.cfg.StormLength - 1
	}
	return k, h
}

const htmlErrorBody = `<html><head><title>%d %s</title></head><body><center><h1>%d %s</h1></center><hr><center>nginx</center></body></html>`

// writeFault writes an error fault (not FaultSlow, FaultTruncatedBody or
// FaultConnReset).
func writeFault(w http.ResponseWriter, k FaultKind, h uint64, retryAfter int) int {
	hdr := w.Header()
	switch k {
	case Fault500:
		writeJSON(w, http.StatusInternalServerError, []byte(`{"error":"InternalServerError","description":"Something went wrong (simulated)"}`))
		return http.StatusInternalServerError
	case Fault502:
		writeJSON(w, http.StatusBadGateway, []byte(`{"error":"BadGateway","description":"Bad gateway (simulated)"}`))
		return http.StatusBadGateway
	case Fault503:
		writeJSON(w, http.StatusServiceUnavailable, []byte(`{"error":"ServiceUnavailable","description":"Maintenance (simulated)"}`))
		return http.StatusServiceUnavailable
	case Fault503RetryAfter:
		hdr.Set("Retry-After", strconv.Itoa(retryAfter))
		writeJSON(w, http.StatusServiceUnavailable, []byte(`{"error":"DatabaseTimeout","description":"Database timeout (simulated); retry later"}`))
		return http.StatusServiceUnavailable
	case FaultHTMLError:
		status := http.StatusBadGateway
		if h&1 == 1 {
			status = http.StatusServiceUnavailable
		}
		hdr.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, htmlErrorBody, status, http.StatusText(status), status, http.StatusText(status))
		return status
	case Fault429Storm:
		hdr.Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, []byte(`{"error":"APIRateLimitExceeded","description":"Too many requests (simulated storm)"}`))
		return http.StatusTooManyRequests
	}
	return 0
}

// resetConn closes the client connection without a response. It returns
// false when the ResponseWriter cannot be hijacked (HTTP/2, recorders).
func resetConn(w http.ResponseWriter) bool {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return false
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // send RST rather than FIN
	}
	_ = conn.Close()
	return true
}

// truncate writes a 200 response head announcing len(body) bytes, writes half
// of them and closes the connection.
func truncate(w http.ResponseWriter, contentType string, body []byte) bool {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return false
	}
	defer conn.Close()
	if len(body) < 2 {
		body = []byte(`{"error":"padding"}`)
	}
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", contentType, len(body))
	_, _ = buf.Write(body[:len(body)/2])
	_ = buf.Flush()
	return true
}

// bufferedResponse records a response so that FaultTruncatedBody can send half of it.
type bufferedResponse struct {
	hdr    http.Header
	status int
	body   []byte
}

func (b *bufferedResponse) Header() http.Header { return b.hdr }
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	b.body = append(b.body, p...)
	return len(p), nil
}
func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
