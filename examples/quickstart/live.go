package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk"
)

// syncLive takes a snapshot of a real account and prints a summary of it, with progress
// on stderr. It only reads: it never calls Grant or Revoke.
func syncLive(ctx context.Context, stdout, stderr io.Writer, c *zendesk.Client) error {
	backend, err := zendeskaccess.New(c)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "sync: reading the account settings and custom roles, then every collection at once\n")
	snap, err := access.Sync(ctx, backend, &access.SyncOptions{
		Progress: progressReporter(stderr, c),
		// A live account may change while it is read (a user created after the users
		// stream passed); leave out what then dangles instead of failing.
		DropDangling: true,
	})
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	printSummary(stdout, snap)
	return nil
}

// progressReporter returns an access.SyncOptions.Progress callback that prints one line
// per call: the streams still being read, the items read so far, the requests sent and
// what the client knows of the rate limit. Sync calls it every 1000 items of a stream,
// when a stream ends and when the snapshot is complete.
func progressReporter(w io.Writer, c *zendesk.Client) func(access.Progress) {
	return func(p access.Progress) {
		var reading, counts []string
		done := 0
		for _, s := range p.Streams {
			if s.Done {
				done++
			} else {
				reading = append(reading, s.Name)
			}
			counts = append(counts, fmt.Sprintf("%s %d", s.Name, s.Items()))
		}
		state := "reading " + strings.Join(reading, ", ")
		switch {
		case p.Done:
			state = "snapshot complete"
		case len(reading) == 0:
			state = "checking and hashing"
		}
		fmt.Fprintf(w, "sync: %s | %d/%d streams done | items: %s | %s\n",
			state, done, len(p.Streams), strings.Join(counts, ", "), describeBudget(c))
	}
}

// describeBudget says how many requests the client has sent and what it knows of the
// account's rate limit.
func describeBudget(c *zendesk.Client) string {
	rl := c.RateLimit()
	s := fmt.Sprintf("%d requests", c.RequestCount())
	if rl.Limit > 0 {
		s += fmt.Sprintf(", rate limit %d/min", rl.Limit)
	} else {
		s += ", rate limit not reported yet"
	}
	if rl.Remaining >= 0 {
		s += fmt.Sprintf(" (%d left)", rl.Remaining)
	}
	s += fmt.Sprintf(", pacing %.0f/min", rl.PacingPerMinute)
	if rl.Throttled > 0 {
		s += fmt.Sprintf(", %d throttled (429)", rl.Throttled)
	}
	return s
}

// printSummary prints a snapshot's counts by kind: resources by type, entitlements by
// the type of their resource, grants by entitlement type (and built-in role grants by
// role, which counts the users of each role), then its requests and hash.
func printSummary(out io.Writer, s *access.Snapshot) {
	res := map[string]int{}
	for _, r := range s.Resources() {
		res[r.Type()]++
	}
	ents := map[string]int{}
	for _, e := range s.Entitlements() {
		ents[kindOf(e.ResourceID())]++
	}
	grants := map[string]int{}
	for _, g := range s.Grants() {
		k := kindOf(g.EntitlementID())
		if k == zendeskaccess.TypeRole {
			k = g.EntitlementID() // role:admin:assigned, role:agent:assigned...
		}
		grants[k]++
	}
	c := s.Counts()
	prov := s.Provenance()
	fmt.Fprintf(out, "Snapshot of %s\n", prov.Account)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  resources\t%d\t%s\n", c.Resources, breakdown(res))
	fmt.Fprintf(tw, "  entitlements\t%d\t%s\n", c.Entitlements, breakdown(ents))
	fmt.Fprintf(tw, "  grants\t%d\t%s\n", c.Grants, breakdown(grants))
	if prov.Dropped > 0 {
		fmt.Fprintf(tw, "  dropped\t%d\t(changed while the account was read)\n", prov.Dropped)
	}
	fmt.Fprintf(tw, "  requests\t%d\t\n", prov.Requests)
	fmt.Fprintf(tw, "  scope\t\t%s\n", breakdownStrings(prov.Scope))
	fmt.Fprintf(tw, "  sha256\t\t%s\n", s.Hash())
	tw.Flush()
}

// kindOf returns the type part of a resource, entitlement or grant ID.
func kindOf(id string) string {
	k, _, _ := strings.Cut(id, ":")
	return k
}

func breakdown(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func breakdownStrings(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, " ")
}
