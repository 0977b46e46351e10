package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// The day-one policy and directory, as files a team would keep.
var (
	//go:embed policy.yaml
	policyYAML []byte
	//go:embed directory.yaml
	directoryYAML []byte
)

// dayOneDemo provisions day-one access on the simulated account: a policy maps the
// directory's "Support Team" to role agent and group Tier 2; the plan creates the new
// hires' accounts, moves an agent into the group and makes an end user an agent; it is
// printed, applied with a journal, and the journal is verified and exported. It runs only
// against the simulator: the quickstart never changes a real account.
func dayOneDemo(ctx context.Context, out io.Writer, srv *zendesktest.Server, c *zendesk.Client) error {
	// What the company set up for the new team: its group, and two of its people who
	// already use Zendesk.
	srv.AddGroup("Tier 2")
	for _, u := range []zendesktest.UserSpec{
		{Name: "Dan Cole", Email: "dan.cole@example.com", Role: zendesktest.RoleAgent},
		{Name: "Erin Fox", Email: "erin.fox@example.com", Role: zendesktest.RoleEndUser},
	} {
		if _, err := srv.AddUser(u); err != nil {
			return err
		}
	}

	// All users in scope, so that the plan sees Erin's end-user account; the owner
	// named, so that the guards protect them.
	backend, err := zendeskaccess.New(c, zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers),
		zendeskaccess.WithAccountOwner(srv.OwnerID()))
	if err != nil {
		return err
	}
	sys, err := access.NewSystem(backend)
	if err != nil {
		return err
	}
	snap, err := sys.Sync(ctx, nil)
	if err != nil {
		return fmt.Errorf("day one: snapshot: %w", err)
	}
	facts, err := backend.GuardFacts(ctx)
	if err != nil {
		return err
	}
	objectTypes, err := backend.ObjectTypes(ctx)
	if err != nil {
		return err
	}
	policy, err := provision.ParsePolicy("policy.yaml", policyYAML)
	if err != nil {
		return err
	}
	dir, err := provision.ParseDirectory("directory.yaml", directoryYAML)
	if err != nil {
		return err
	}
	plan, err := provision.NewPlan(ctx, policy, dir, snap, &provision.PlanOptions{Facts: facts, ObjectTypes: objectTypes})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nDay one: the plan for policy.yaml and directory.yaml\n")
	if err := plan.WriteTable(out); err != nil {
		return err
	}

	j, err := provision.NewJournal(provision.NewMemoryJournalStore())
	if err != nil {
		return err
	}
	rep, err := provision.Apply(ctx, sys, j, plan, &provision.ApplyOptions{
		Actor: provision.JournalActor{Who: "quickstart", Reason: "day-one access for the Support Team"},
	})
	if err != nil {
		return fmt.Errorf("day one: apply: %w", err)
	}
	fmt.Fprintf(out, "\nApplied: %d applied, %d done already, %d stale, %d blocked, %d failed\n",
		rep.Applied, rep.Done, rep.Stale, rep.Blocked, rep.Failed)
	for _, r := range rep.Results {
		status := string(r.State)
		if r.Outcome != nil && r.Outcome.Status != "" {
			status += " (" + r.Outcome.Status + ")"
		}
		if r.Err != nil {
			status += ": " + r.Err.Error()
		}
		fmt.Fprintf(out, "  %s: %s\n", r.Change.ID, status)
	}

	vr, err := j.Verify(ctx)
	if err != nil {
		return fmt.Errorf("day one: the journal does not verify: %w", err)
	}
	var export bytes.Buffer
	if err := j.ExportJSONL(ctx, &export); err != nil {
		return err
	}
	fmt.Fprintf(out, "Journal verified: %d entries, head %d:%s…; exported %d lines of JSON (%d bytes) for auditors\n",
		vr.Entries, vr.Head.Seq, vr.Head.Hash[:12], bytes.Count(export.Bytes(), []byte("\n")), export.Len())
	return nil
}
