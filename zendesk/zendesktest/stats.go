package zendesktest

import (
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// Stats counts the requests a Server has seen since it started or since
// the last ResetStats.
type Stats struct {
	// Requests counts requests per endpoint, keyed "METHOD /api/v2/route"
	// with ids replaced by {id} and without .json, e.g.
	// "GET /api/v2/users/{id}/group_memberships". Unknown paths are counted
	// under "METHOD (unknown)".
	Requests map[string]int
	// Total is the number of requests.
	Total int
	// Throttled is the number of 429s sent because a rate-limit budget was spent.
	Throttled int
	// Faults is the number of injected faults.
	Faults int
}

// RequestRecord is one entry of the request log.
type RequestRecord struct {
	Time   time.Time
	Method string
	Path   string
	Query  string // raw query
	// Status is the HTTP status sent; -1 for a reset connection and -2 for a
	// truncated body (fault injection).
	Status int
	Body   []byte // request body, capped at 64 KiB
	// Ignored lists the query parameters of a GET that the simulator
	// accepted but did not apply, as in the IgnoredParamsHeader answer.
	Ignored []string
}

type observer struct {
	mu        sync.Mutex
	stats     Stats
	log       []RequestRecord // ring buffer
	logStart  int
	logCap    int
	requestID atomic.Uint64
}

func (o *observer) init(logCap int) {
	o.logCap = logCap
	o.stats.Requests = map[string]int{}
}

func (o *observer) nextID() uint64 { return o.requestID.Add(1) }

func (o *observer) record(key string, rec RequestRecord) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.stats.Requests[key]++
	o.stats.Total++
	if o.logCap == 0 {
		return
	}
	if len(o.log) < o.logCap {
		o.log = append(o.log, rec)
		return
	}
	o.log[o.logStart] = rec
	o.logStart = (o.logStart + 1) % o.logCap
}

func (o *observer) throttled() {
	o.mu.Lock()
	o.stats.Throttled++
	o.mu.Unlock()
}

func (o *observer) fault() {
	o.mu.Lock()
	o.stats.Faults++
	o.mu.Unlock()
}

// Stats returns a copy of the request counters.
func (s *Server) Stats() Stats {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	st := s.obs.stats
	st.Requests = maps.Clone(st.Requests)
	return st
}

// RequestLog returns the most recent requests, oldest first (at most the
// WithRequestLog size, 1000 by default).
func (s *Server) RequestLog() []RequestRecord {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	out := make([]RequestRecord, 0, len(s.obs.log))
	out = append(out, s.obs.log[s.obs.logStart:]...)
	out = append(out, s.obs.log[:s.obs.logStart]...)
	return out
}

// ResetStats clears the counters and the request log.
func (s *Server) ResetStats() {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	s.obs.stats = Stats{Requests: map[string]int{}}
	s.obs.log = nil
	s.obs.logStart = 0
}
