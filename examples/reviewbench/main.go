// Command reviewbench measures an access review at the size of a large account: a
// campaign over a generated snapshot of -users users and -grants grants (created,
// decided in batches, exported in every format), and the remediation of -remediate
// revokes on the Zendesk simulator at a realistic rate limit.
//
//	go run ./examples/reviewbench
//	go run ./examples/reviewbench -users 20000 -grants 60000 -remediate 2000
//	go run ./examples/reviewbench -phases campaign -db 'postgres://zgov:zgov@localhost:5432/zgov?sslmode=disable'
//
// # Phase 1: the campaign
//
// A snapshot of memaccess.Generate(-users, 200, 1000) (three grants a user: a role, an
// organization and a group, so -grants must be three times -users) is reviewed by a
// campaign over every grant, reviewers the owners of the groups and a fallback. The
// run times Store.Create (target: under 3 s), reads the items and records a decision
// on each (a revoke on every tenth, certify otherwise) in DecideMany calls of -batch
// (target: under 10 s for 300,000 decisions on SQLite; only the DecideMany calls are
// timed), then drops the snapshot and writes each format to a file on its own
// (WriteCSV, WriteXLSX, WriteJSON, WriteHTML), timing each and sampling the heap every
// 5 ms while it runs (internal/measure). Targets: CSV under 2 s, XLSX under 30 s, a
// peak heap under 500 MB. The HTML report of a campaign larger than
// review.DefaultHTMLMaxRows items is a report of summaries (and every revoke in full);
// "usable" is judged here, a heuristic of this command's, as a file under 10 MB.
//
// # Phase 2: remediation at the rate limit
//
// A simulator (zendesk/zendesktest) holding an account of -remediate+500 agents and
// 2.5 x -remediate group memberships, with a rate limit of -rpm requests a minute (700:
// Zendesk Enterprise), and a client pacing itself at -rpm, as
// review's TestRemediateZendesk10k sets it up. A campaign over the group memberships
// revokes the first -remediate of them and Campaign.Remediate carries them out through
// the bulk endpoint (destroy_many, 100 a job). The report gives the requests by
// endpoint against the expectation: ceil(revokes/100) jobs + their polls + the
// membership lookup (at most ceil(memberships/100) reads) + the verification re-read,
// with 10 requests of slack for fixed reads, and the 429s the simulator sent (target:
// 0). The sync that sets the campaign up runs at the rate limit too but is not counted.
//
// # The database
//
// -db "" (the default) is a SQLite file in a temporary directory, removed afterwards.
// A sqlite: DSN or a postgres:// URL is used as given (campaigns get fresh ids). The
// DSN is only ever shown with its password redacted.
//
// Progress goes to stderr, the report to stdout; the last line of the report is one
// JSON object, for scripts. A run that fails, or in which a remediation failed or the
// simulator answered 429, exits with status 1 after its report; refused flags exit 2.
// Targets missed are reported (targets_missed), not an error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// params are the command's flags.
type params struct {
	db        string
	users     int
	grants    int
	batch     int
	remediate int
	rpm       int
	phases    string // "all", "campaign" or "remediate"
}

func main() {
	os.Exit(cli(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// cli is main without the process: it returns the exit status.
func cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	p, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	}
	if err := run(ctx, stdout, stderr, p); err != nil {
		fmt.Fprintln(stderr, "reviewbench:", err)
		return 1
	}
	return 0
}

// parseFlags parses and checks the command line. Errors have been written to stderr.
func parseFlags(args []string, stderr io.Writer) (params, error) {
	var p params
	fs := flag.NewFlagSet("reviewbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&p.db, "db", "", "database DSN: sqlite:<file> or postgres://... (default: a SQLite file in a temporary directory)")
	fs.IntVar(&p.users, "users", 100_000, "users of the generated snapshot")
	fs.IntVar(&p.grants, "grants", 300_000, "grants of the generated snapshot: three a user")
	fs.IntVar(&p.batch, "batch", 10_000, "decisions a DecideMany call")
	fs.IntVar(&p.remediate, "remediate", 10_000, "group-membership revokes carried out on the simulator")
	fs.IntVar(&p.rpm, "rpm", 700, "the simulator's rate limit and the client's pace, requests a minute")
	fs.StringVar(&p.phases, "phases", "all", "which phases to run: all, campaign or remediate")
	if err := fs.Parse(args); err != nil {
		return p, err
	}
	err := p.validate()
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q: reviewbench takes only flags", fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintln(stderr, "reviewbench:", err)
		fmt.Fprintln(stderr, "run 'reviewbench -h' for the flags")
	}
	return p, err
}

// validate refuses sizes that make no sense and unknown names.
func (p params) validate() error {
	switch {
	case p.users < 1:
		return fmt.Errorf("-users %d: want at least 1", p.users)
	case p.grants != 3*p.users:
		return fmt.Errorf("-grants %d: the generated snapshot holds three grants a user, want %d", p.grants, 3*p.users)
	case p.batch < 1:
		return fmt.Errorf("-batch %d: want at least 1", p.batch)
	case p.remediate < 1:
		return fmt.Errorf("-remediate %d: want at least 1", p.remediate)
	case p.rpm < 1:
		return fmt.Errorf("-rpm %d: want at least 1", p.rpm)
	case p.phases != "all" && p.phases != "campaign" && p.phases != "remediate":
		return fmt.Errorf("-phases %q: want all, campaign or remediate", p.phases)
	}
	if p.db != "" && !strings.HasPrefix(p.db, "sqlite:") && !strings.HasPrefix(p.db, "postgres://") && !strings.HasPrefix(p.db, "postgresql://") {
		return errors.New("-db: want sqlite:<file> or a postgres:// URL")
	}
	return nil
}
