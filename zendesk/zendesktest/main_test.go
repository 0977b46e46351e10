package zendesktest

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/zgov-io/zgov/internal/contract"
)

// TestMain runs the suite and then validates every request the tests sent
// (except those marked as deliberately invalid) against Zendesk's official
// OpenAPI spec, when the spec is found (see contract.Dir). When every test
// ran, it also checks that each endpoint of the simulator was reached by at
// least one valid request.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		code = checkContract()
	}
	os.Exit(code)
}

// unexercisedRoutes lists the simulator's endpoints (other than
// /oauth/tokens, which the spec does not describe) that no valid request of
// the tests reached, so that every endpoint, new ones included, is checked
// against the spec.
func unexercisedRoutes(spec *contract.Spec, exercised map[string]bool) []string {
	var missing []string
	for _, rt := range (&Server{}).routes() {
		req, err := http.NewRequest(rt.method, "http://127.0.0.1/api/v2"+strings.ReplaceAll(rt.pattern, "{id}", "1"), nil)
		if err != nil {
			missing = append(missing, rt.method+" "+rt.pattern+": "+err.Error())
			continue
		}
		if op := spec.OperationID(req); op == "" || !exercised[rt.method+" "+op] {
			missing = append(missing, fmt.Sprintf("%s /api/v2%s (%s)", rt.method, rt.pattern, op))
		}
	}
	return missing
}

// allTestsRan reports whether the run selected every test (no -run or
// -skip), without which endpoint coverage means nothing.
func allTestsRan() bool {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return true
}

func checkContract() int {
	path, ok := contract.Find()
	if !ok {
		fmt.Fprintln(os.Stderr, "contract: requests not validated against the spec: "+contract.Where())
		return 0
	}
	spec, err := contract.Load(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sent.mu.Lock()
	defer sent.mu.Unlock()
	failures := 0
	seen := map[string]bool{}
	exercised := map[string]bool{} // "METHOD operationId" of the valid requests
	for _, r := range sent.reqs {
		req, err := http.NewRequest(r.method, r.url, bytes.NewReader(r.body))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if r.contentType != "" {
			req.Header.Set("Content-Type", r.contentType)
		}
		if err := spec.ValidateRequest(req); err != nil {
			if key := r.method + " " + r.url; !seen[key] {
				seen[key] = true
				fmt.Fprintf(os.Stderr, "contract violation: %v\n", err)
			}
			failures++
			continue
		}
		exercised[r.method+" "+spec.OperationID(req)] = true
	}
	if failures > 0 {
		fmt.Fprintf(os.Stderr, "contract: %d of %d requests sent by the tests do not fit the spec\n", failures, len(sent.reqs))
		return 1
	}
	if missing := unexercisedRoutes(spec, exercised); len(missing) > 0 && allTestsRan() {
		fmt.Fprintf(os.Stderr, "contract: no test sent a valid request to %d endpoints of the simulator:\n  %s\n",
			len(missing), strings.Join(missing, "\n  "))
		return 1
	}
	if testing.Verbose() {
		fmt.Printf("contract: all %d requests sent by the tests fit the spec\n", len(sent.reqs))
	}
	return 0
}
