package zendesktest

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/zgov-io/zgov/internal/contract"
)

// TestMain runs the suite and then validates every request the tests sent
// (except those marked as deliberately invalid) against Zendesk's official
// OpenAPI spec, when the spec is found (see contract.Dir).
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		code = checkContract()
	}
	os.Exit(code)
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
		}
	}
	if failures > 0 {
		fmt.Fprintf(os.Stderr, "contract: %d of %d requests sent by the tests do not fit the spec\n", failures, len(sent.reqs))
		return 1
	}
	if testing.Verbose() {
		fmt.Printf("contract: all %d requests sent by the tests fit the spec\n", len(sent.reqs))
	}
	return 0
}
