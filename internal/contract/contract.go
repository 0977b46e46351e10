// Package contract validates HTTP requests against Zendesk's official Support API
// OpenAPI document (a copy lives beside the repository at
// ../shared/zendesk-api/support-oas.yaml). The client's and the simulator's tests use it
// to prove that every request they send or serve is one the real API accepts.
package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specRelPath is where the spec sits relative to the directory that holds the repository.
const specRelPath = "shared/zendesk-api/support-oas.yaml"

// specHost is the concrete server the loaded spec is pinned to; requests are rewritten
// to it before routing, whatever host they were sent to.
const specHost = "example.zendesk.com"

// Spec is a loaded OpenAPI document ready to validate requests.
type Spec struct {
	router routers.Router
}

// Find looks for the spec in ../shared beside the repository, walking up from the
// working directory. It returns the path and whether the file exists.
func Find() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		p := filepath.Join(dir, "..", specRelPath)
		if _, err := os.Stat(p); err == nil {
			return filepath.Clean(p), true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// Load reads and prepares the spec at path.
func Load(path string) (*Spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("contract: load %s: %w", path, err)
	}
	// The document's server has a templated host; pin it so routes match.
	doc.Servers = openapi3.Servers{{URL: "https://" + specHost}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("contract: route %s: %w", path, err)
	}
	return &Spec{router: router}, nil
}

var (
	shared     *Spec
	sharedErr  error
	sharedPath string
	sharedOnce sync.Once
)

// ForTest returns the spec, loaded once per test binary. It skips the test with a clear
// message when ../shared/zendesk-api/support-oas.yaml is not beside the repository, and
// fails it when the file is there but cannot be loaded.
func ForTest(t testing.TB) *Spec {
	t.Helper()
	sharedOnce.Do(func() {
		var ok bool
		sharedPath, ok = Find()
		if !ok {
			sharedErr = errAbsent
			return
		}
		shared, sharedErr = Load(sharedPath)
	})
	if errors.Is(sharedErr, errAbsent) {
		t.Skipf("contract: %s not found beside the repository; skipping validation against Zendesk's OpenAPI spec", specRelPath)
	}
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

var errAbsent = errors.New("spec absent")

// ValidateRequest checks r against the spec: the route must exist (a trailing .json is
// stripped, as Zendesk accepts both forms), and its path, query and JSON body must fit
// the operation. Authentication is not checked (the spec declares only basic auth, while
// Zendesk also takes OAuth bearer tokens). r's body is read and restored.
func (s *Spec) ValidateRequest(r *http.Request) error {
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(r.Body)
		if err != nil {
			return fmt.Errorf("contract: read body: %w", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	u := *r.URL
	u.Scheme, u.Host = "https", specHost
	u.Path = strings.TrimSuffix(u.Path, ".json")
	u.RawPath = ""
	req, err := http.NewRequestWithContext(context.Background(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("contract: %w", err)
	}
	req.Header = r.Header.Clone()
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("contract: %s %s: no such operation in the spec: %w", r.Method, u.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			MultiError:         true,
		},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return fmt.Errorf("contract: %s %s (%s): %w", r.Method, u.Path, route.Operation.OperationID, err)
	}
	return nil
}

// OperationID returns the spec's operationId for r, or "" if no operation matches.
func (s *Spec) OperationID(r *http.Request) string {
	u := *r.URL
	u.Scheme, u.Host = "https", specHost
	u.Path = strings.TrimSuffix(u.Path, ".json")
	req, err := http.NewRequest(r.Method, u.String(), nil)
	if err != nil {
		return ""
	}
	route, _, err := s.router.FindRoute(req)
	if err != nil {
		return ""
	}
	return route.Operation.OperationID
}
