package zendesktest

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// This file serves a simulator over an in-memory network, so that a test can
// run it and its clients inside a testing/synctest bubble. In a bubble time is
// fake and advances only when every goroutine of the bubble is blocked on
// something of the bubble (a channel, a timer); a goroutine blocked on a
// loopback socket is not, so a simulator on a real port would never let the
// clock move. Every test that waits on time (latency, job delays, Retry-After,
// rate-limit refills) runs this way: its outcome never depends on how busy the
// machine is, and its waits take no real time.

// pipeNet is an in-memory network with one listener: each dial is a net.Pipe
// whose server end the listener accepts.
type pipeNet struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeNet() *pipeNet {
	return &pipeNet{conns: make(chan net.Conn), done: make(chan struct{})}
}

// Accept implements net.Listener.
func (n *pipeNet) Accept() (net.Conn, error) {
	select {
	case c := <-n.conns:
		return c, nil
	case <-n.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener.
func (n *pipeNet) Close() error {
	n.once.Do(func() { close(n.done) })
	return nil
}

// Addr implements net.Listener.
func (n *pipeNet) Addr() net.Addr { return pipeAddr{} }

// dial connects to the listener, whatever the address.
func (n *pipeNet) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case n.conns <- server:
		return client, nil
	case <-n.done:
	case <-ctx.Done():
	}
	client.Close()
	server.Close()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, net.ErrClosed
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "127.0.0.1:80" }

// pipedURL is the URL of a piped simulator: a loopback address, as clients
// such as the zendesk package require for plain http, that is never dialed.
const pipedURL = "http://127.0.0.1"

// pipedClients maps a piped simulator to the HTTP client that reaches it, for
// the helpers of this package's tests (admin, as...).
var pipedClients sync.Map // *Server -> *http.Client

// newPipedServer starts a simulator on an in-memory network and returns it
// with an HTTP client that reaches it. Call it inside a synctest bubble:
// everything it starts ends when the test does.
func newPipedServer(t testing.TB, opts ...Option) (*Server, *http.Client) {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	n := newPipeNet()
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = hs.Serve(n)
	}()
	tr := &http.Transport{DialContext: n.dial}
	hc := &http.Client{Transport: tr}
	s.URL = pipedURL
	pipedClients.Store(s, hc)
	t.Cleanup(func() {
		pipedClients.Delete(s)
		tr.CloseIdleConnections()
		_ = hs.Close()
		<-served
		s.Close()
	})
	return s, hc
}

// httpClient returns the client that reaches s.
func httpClient(s *Server) *http.Client {
	if hc, ok := pipedClients.Load(s); ok {
		return hc.(*http.Client)
	}
	return http.DefaultClient
}

// NewPipedServer is newPipedServer for the client tests of package
// zendesktest_test.
func NewPipedServer(t testing.TB, opts ...Option) (*Server, *http.Client) {
	t.Helper()
	return newPipedServer(t, opts...)
}
