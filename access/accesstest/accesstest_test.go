package accesstest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/accesstest"
	"github.com/zgov-io/zgov/access/memaccess"
)

func newMem(t *testing.T) *memaccess.Backend {
	b, err := memaccess.New(memaccess.Generate(50, 3, 3))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRunMemaccess(t *testing.T) {
	t.Parallel()
	accesstest.Run(t, accesstest.Harness{NewBackend: func(t *testing.T) access.Backend { return newMem(t) }})
}

// readOnly hides memaccess's Grant and Revoke.
type readOnly struct{ *memaccess.Backend }

func (readOnly) Grant(context.Context, access.GrantRequest) (access.GrantResult, error) {
	return access.GrantResult{}, fmt.Errorf("read-only: %w", access.ErrUnsupported)
}

func (readOnly) Revoke(context.Context, access.RevokeRequest) (access.RevokeResult, error) {
	return access.RevokeResult{}, fmt.Errorf("read-only: %w", access.ErrUnsupported)
}

func TestRunReadOnly(t *testing.T) {
	t.Parallel()
	accesstest.Run(t, accesstest.Harness{
		NewBackend: func(t *testing.T) access.Backend { return readOnly{newMem(t)} },
		ReadOnly:   true,
	})
}

// broken wraps memaccess with one fault each, to check the suite notices.
type broken struct {
	*memaccess.Backend
	fault string
	calls atomic.Int64
}

func (b *broken) Info(ctx context.Context) (access.Info, error) {
	info, err := b.Backend.Info(ctx)
	if b.fault == "nondeterministic" {
		info.Scope = map[string]string{"call": fmt.Sprint(b.calls.Add(1))}
	}
	return info, err
}

func (b *broken) Grant(ctx context.Context, req access.GrantRequest) (access.GrantResult, error) {
	switch b.fault {
	case "grant-not-idempotent":
		res, err := b.Backend.Grant(ctx, req)
		if res.Status == access.StatusAlreadyGranted {
			res.Status = access.StatusGranted
		}
		return res, err
	case "grant-no-effect":
		return access.GrantResult{Status: access.StatusGranted, Grant: access.NewGrant(req.EntitlementID, req.PrincipalID, nil)}, nil
	case "untyped-errors":
		res, err := b.Backend.Grant(ctx, req)
		if err != nil {
			err = errors.New(err.Error())
		}
		return res, err
	}
	return b.Backend.Grant(ctx, req)
}

func (b *broken) Revoke(ctx context.Context, req access.RevokeRequest) (access.RevokeResult, error) {
	res, err := b.Backend.Revoke(ctx, req)
	if b.fault == "revoke-fails-when-gone" && res.Status == access.StatusAlreadyRevoked {
		return res, errors.New("no such grant")
	}
	return res, err
}

func (b *broken) Holders(ctx context.Context, entitlementID string) ([]string, error) {
	ps, err := b.Backend.Holders(ctx, entitlementID)
	if b.fault == "holders-incomplete" && len(ps) > 0 {
		ps = ps[1:]
	}
	return ps, err
}

func (b *broken) GrantsFor(ctx context.Context, principalID string) ([]access.Grant, error) {
	gs, err := b.Backend.GrantsFor(ctx, principalID)
	if b.fault == "grants-for-incomplete" && len(gs) > 0 {
		gs = gs[1:]
	}
	return gs, err
}

// TestRunCatchesBrokenBackends runs the suite against faulty backends in a
// child process (a failing suite fails its test) and checks the right
// subtest fails.
func TestRunCatchesBrokenBackends(t *testing.T) {
	if fault := os.Getenv("ACCESSTEST_FAULT"); fault != "" {
		accesstest.Run(t, accesstest.Harness{NewBackend: func(t *testing.T) access.Backend {
			return &broken{Backend: newMem(t), fault: fault}
		}})
		return
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	t.Parallel()
	tests := []struct {
		fault    string
		failures []string
	}{
		{"nondeterministic", []string{"Deterministic"}},
		{"grant-not-idempotent", []string{"Grant"}},
		{"grant-no-effect", []string{"Grant"}},
		{"untyped-errors", []string{"RequestErrors/UnknownEntitlement", "RequestErrors/UnknownPrincipal", "NotGrantable"}},
		{"revoke-fails-when-gone", []string{"Revoke"}},
		{"grants-for-incomplete", []string{"PrincipalGrantsLister"}},
		{"holders-incomplete", []string{"HolderLister"}},
	}
	for _, tc := range tests {
		t.Run(tc.fault, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestRunCatchesBrokenBackends$", "-test.v")
			cmd.Env = append(os.Environ(), "ACCESSTEST_FAULT="+tc.fault)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a backend with fault %q", tc.fault)
			}
			var failed []string
			for _, line := range strings.Split(string(out), "\n") {
				if name, ok := strings.CutPrefix(strings.TrimSpace(line), "--- FAIL: TestRunCatchesBrokenBackends/"); ok {
					failed = append(failed, strings.Fields(name)[0])
				}
			}
			for _, want := range tc.failures {
				found := false
				for _, f := range failed {
					found = found || f == want
				}
				if !found {
					t.Errorf("subtest %s did not fail; failed: %v\n%s", want, failed, out)
				}
			}
		})
	}
}
