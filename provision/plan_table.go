package provision

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable prints the plan for people to read: a line saying what it was
// made against, one line per change (who, what, which access, the guard
// that blocks it, what else it does in Zendesk), the conflicts the policy's
// rules resolved, and a summary: how many creates, grants, revokes and
// deprovisioning steps, how many are blocked, and the blast-radius verdict.
//
//	plan for zendesk account acme: snapshot 3f2a1b9c0d1e taken 2026-03-01T09:00:00Z, policy 9ab0c1d2e3f4, made 2026-03-01T09:05:00Z
//	PRINCIPAL                          CHANGE                 ACCESS        BLOCKED  EFFECTS
//	ann@example.com (user:10000000004) grant                  role agent    -        replaces role end-user; ...
//	bob@example.com (new)              create account         role agent    -        creates an account for ...
//	...
//	2 creates, 5 grants, 1 revoke, 2 deprovisions; 1 blocked; blast radius: within the caps (...)
func (p *Plan) WriteTable(w io.Writer) error {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "plan for %s account %s: snapshot %s taken %s, policy %s, made %s\n",
		p.Backend, p.Account, shortHash(p.SnapshotHash), p.SnapshotTakenAt.UTC().Format(time.RFC3339), shortHash(p.PolicyDigest),
		p.CreatedAt.UTC().Format(time.RFC3339))
	tw := tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PRINCIPAL\tCHANGE\tACCESS\tBLOCKED\tEFFECTS")
	var creates, grants, revokes, steps, blocked int
	for _, c := range p.Changes {
		who := c.PrincipalID
		switch {
		case c.PrincipalID == "" && c.Person != nil:
			who = c.Person.Email + " (new)"
		case p.Labels[c.PrincipalID] != "":
			who = p.Labels[c.PrincipalID] + " (" + c.PrincipalID + ")"
		}
		what, acc := string(c.Kind), "-"
		switch c.Kind {
		case ChangeCreateAccount:
			creates++
			what = "create account"
			if c.Role != "" {
				acc = "role " + c.Role
			}
		case ChangeGrant, ChangeRevoke:
			if c.Kind == ChangeGrant {
				grants++
			} else {
				revokes++
			}
			acc = c.EntitlementID
			if l := p.Labels[c.EntitlementID]; l != "" {
				acc = l
			}
		case ChangeDeprovision:
			steps++
			what = "deprovision: " + string(c.Step)
		}
		guard := "-"
		if c.Blocked != nil {
			blocked++
			guard = string(c.Blocked.Guard)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", cell(who), what, cell(acc), guard, cell(strings.Join(c.SideEffects, "; ")))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(p.Conflicts) > 0 {
		buf.WriteString("conflicts:\n")
		for _, c := range p.Conflicts {
			who := c.Principal
			if l := p.Labels[c.Principal]; l != "" {
				who = l + " (" + c.Principal + ")"
			}
			kept := "none"
			if c.Kept != "" {
				kept = p.label(c.Kept)
			}
			dropped := make([]string, len(c.Dropped))
			for i, d := range c.Dropped {
				dropped[i] = p.label(d)
			}
			fmt.Fprintf(&buf, "  %s: %s: kept %s, dropped %s: %s\n", cell(who), typeWords(c.Type), kept, strings.Join(dropped, ", "), c.Reason)
		}
	}
	fmt.Fprintf(&buf, "%s, %s, %s, %s; %d blocked; blast radius: %s\n",
		plural(creates, "create", "creates"), plural(grants, "grant", "grants"), plural(revokes, "revoke", "revokes"),
		plural(steps, "deprovision", "deprovisions"), blocked, p.verdict())
	// Cells are padded to their column; the last cell of a line must not
	// leave trailing spaces.
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	bw := bufio.NewWriter(w)
	for sc.Scan() {
		bw.WriteString(strings.TrimRight(sc.Text(), " "))
		bw.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return bw.Flush()
}

// label names an entitlement: its label, or its ID.
func (p *Plan) label(eid string) string {
	if l := p.Labels[eid]; l != "" {
		return l
	}
	return eid
}

// verdict is the blast-radius line of the summary.
func (p *Plan) verdict() string {
	g := p.Guards
	if g.Run != nil {
		return "refused: " + g.Run.Detail
	}
	return fmt.Sprintf("within the caps (%d of %d destructive changes; %d of %d team members touched, cap %.0f%%)",
		g.Destructive, g.MaxDestructive, g.TeamTouched, g.TeamMembers, 100*g.MaxTeamShare)
}

// cell keeps a table cell on its line and in its column: tabs and line
// breaks in names become spaces.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' {
			return ' '
		}
		return r
	}, s)
}
