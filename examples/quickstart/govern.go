package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk"
)

// governDemo takes a snapshot of the simulated account, grants one access (an agent who
// is not yet in a group joins it), takes a second snapshot, and prints the difference.
// It runs only against the simulator: the quickstart never changes a real account.
func governDemo(ctx context.Context, out io.Writer, c *zendesk.Client) error {
	backend, err := zendeskaccess.New(c)
	if err != nil {
		return err
	}
	sys, err := access.NewSystem(backend)
	if err != nil {
		return err
	}
	before, err := sys.Sync(ctx, nil)
	if err != nil {
		return fmt.Errorf("first snapshot: %w", err)
	}
	counts := before.Counts()
	fmt.Fprintf(out, "\nSnapshot 1: %d resources, %d entitlements, %d grants in %d requests (sha256 %s…)\n",
		counts.Resources, counts.Entitlements, counts.Grants, before.Provenance().Requests, before.Hash()[:12])

	req, ok := pickGrant(before)
	if !ok {
		return fmt.Errorf("the demo account has no agent outside a group to grant")
	}
	res, err := sys.Grant(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Grant %s: %s\n", req.GrantID(), res.Status)

	after, err := sys.Sync(ctx, nil)
	if err != nil {
		return fmt.Errorf("second snapshot: %w", err)
	}
	fmt.Fprintf(out, "Snapshot 2: sha256 %s…\n\nWhat changed:\n", after.Hash()[:12])
	_, err = access.Diff(before, after).WriteTo(out)
	return err
}

// pickGrant finds the first group membership an agent does not hold yet.
func pickGrant(s *access.Snapshot) (access.GrantRequest, bool) {
	for _, e := range s.Entitlements() {
		if !strings.HasPrefix(e.ID(), "group:") {
			continue
		}
		for _, r := range s.Resources() {
			if !strings.HasPrefix(r.ID(), "user:") || r.Attributes()["role"] != string(zendesk.RoleAgent) || r.Attributes()["suspended"] == "true" {
				continue
			}
			req := access.GrantRequest{EntitlementID: e.ID(), PrincipalID: r.ID()}
			if _, held := s.Grant(req.GrantID()); !held {
				return req, true
			}
		}
	}
	return access.GrantRequest{}, false
}
