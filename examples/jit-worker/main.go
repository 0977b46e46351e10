// Command jit-worker ends time-bound (just-in-time) grants when their time is up. It is
// the worker of provision.TimeBound as a process of its own: the grants are made
// elsewhere (an IGA platform, a chat bot, a script calling TimeBound.Grant) and recorded
// in a database with their expiry jobs; this process runs those jobs, revoking each grant
// at its expiry (or keeping access the person held before), sweeping for grants a lost
// job missed, logging notices before expiries and failures, until SIGINT or SIGTERM.
//
// Which notices a grant gets is decided where it is granted (TimeBoundOptions.Notices of
// the process that calls Grant or Extend schedules them with the grant); this worker
// runs them and logs each one ("time-bound grant ends soon"), as a platform's OnNotice
// would offer an extension. A revoke that failed on every attempt, or that a guard
// refused, is logged at ERROR: the access is still there.
//
//	ZENDESK_SUBDOMAIN=acme ZENDESK_OAUTH_CLIENT_ID=... ZENDESK_OAUTH_CLIENT_SECRET=... \
//	go run ./examples/jit-worker -db sqlite:///var/lib/zgov/zgov.db
//
// The database is a SQLite file (one machine: this worker and the processes that grant
// share the file) or PostgreSQL, on which any number of workers on any number of
// machines share the jobs, each expiry run by one of them:
//
//	go run ./examples/jit-worker -db 'postgres://zgov:password@db.example.com:5432/zgov?sslmode=verify-full'
//
// -db may be left out and the DSN set in ZGOV_DB instead, which keeps a password out of
// the process list. The Zendesk credentials come from the environment as the
// quickstart's live mode reads them: ZENDESK_SUBDOMAIN with ZENDESK_OAUTH_CLIENT_ID and
// ZENDESK_OAUTH_CLIENT_SECRET (OAuth client credentials, scopes read and write: the
// worker revokes), or ZENDESK_EMAIL and ZENDESK_API_TOKEN; ZENDESK_BASE_URL or -base-url
// sends the requests elsewhere, such as to a zendesk-sim. Logs go to stderr (log/slog,
// text); they never show a credential or a DSN's password.
//
// Exit status: 0 after a clean stop, 2 for a bad command line, 1 for any other error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/internal/sqldb"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "jit-worker:", err)
		os.Exit(1)
	}
}

// errUsage marks a command line that was refused (and explained on stderr).
var errUsage = errors.New("usage")

// config is the command line.
type config struct {
	dsn      string
	baseURL  string
	sweep    time.Duration
	workers  int
	logLevel slog.Level
}

// parseFlags reads the command line; the environment fills in what it leaves out.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("jit-worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: jit-worker -db DSN [flags]\n\n"+
			"Ends time-bound grants at expiry. Zendesk credentials come from ZENDESK_SUBDOMAIN and\n"+
			"ZENDESK_OAUTH_CLIENT_ID + ZENDESK_OAUTH_CLIENT_SECRET, or ZENDESK_EMAIL + ZENDESK_API_TOKEN.\n\n")
		fs.PrintDefaults()
	}
	// Defaults from the environment are applied after parsing, not shown in the usage:
	// they may hold a password.
	fs.StringVar(&cfg.dsn, "db", "", "the database of the time-bound grants: sqlite:///path/zgov.db, or\n"+
		"postgres://user:password@host:5432/zgov?sslmode=verify-full for many workers (default $ZGOV_DB)")
	fs.StringVar(&cfg.baseURL, "base-url", "",
		"send requests to this URL instead of https://{ZENDESK_SUBDOMAIN}.zendesk.com (default $ZENDESK_BASE_URL)")
	fs.DurationVar(&cfg.sweep, "sweep", time.Minute, "how often to look for grants past their expiry that no job ended")
	fs.IntVar(&cfg.workers, "workers", 10, "how many expiries and notices to run at once")
	fs.TextVar(&cfg.logLevel, "log-level", slog.LevelInfo, "the least level logged: DEBUG, INFO, WARN or ERROR")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, errUsage
	}
	bad := func(msg string) (config, error) {
		fmt.Fprintln(stderr, "jit-worker:", msg)
		fs.Usage()
		return cfg, errUsage
	}
	if fs.NArg() > 0 {
		return bad(fmt.Sprintf("unexpected argument %q: jit-worker takes only flags", fs.Arg(0)))
	}
	if cfg.dsn == "" {
		cfg.dsn = getenv("ZGOV_DB")
	}
	if cfg.baseURL == "" {
		cfg.baseURL = getenv("ZENDESK_BASE_URL")
	}
	switch {
	case cfg.dsn == "":
		return bad("-db is required (or ZGOV_DB): the database the time-bound grants are recorded in")
	case cfg.sweep <= 0:
		return bad("-sweep must be a positive duration")
	case cfg.workers <= 0:
		return bad("-workers must be at least 1")
	}
	return cfg, nil
}

// run is main without the process: it works time-bound jobs until ctx ends, logging to
// stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))

	client, how, err := connect(getenv, cfg.baseURL, log)
	if err != nil {
		return err
	}
	// Fail now, not at the first expiry, if the credentials do not work.
	me, _, err := client.Users.Me(ctx)
	if err != nil {
		return fmt.Errorf("check the Zendesk credentials (%s) at %s: %w", how, client.BaseURL(), err)
	}
	backend, err := zendeskaccess.New(client)
	if err != nil {
		return err
	}
	sys, err := access.NewSystem(backend)
	if err != nil {
		return err
	}

	store, err := provision.OpenStore(ctx, cfg.dsn) // its errors show the DSN redacted
	if err != nil {
		return err
	}
	defer store.Close()
	journal, err := provision.NewJournal(loggedJournal{JournalStore: store.Journal(), log: log})
	if err != nil {
		return err
	}
	tb, err := provision.NewTimeBound(ctx, store, sys, journal, &provision.TimeBoundOptions{
		SweepInterval: cfg.sweep,
		Workers:       cfg.workers,
		// The notices themselves are scheduled by the processes that grant.
		OnNotice: func(ctx context.Context, g provision.TimeBoundGrant, before time.Duration) error {
			log.InfoContext(ctx, "time-bound grant ends soon", grantAttrs(g, "in", before)...)
			return nil
		},
		OnFailure: func(ctx context.Context, g provision.TimeBoundGrant, err error) {
			log.ErrorContext(ctx, "time-bound grant not revoked: the access is still there",
				grantAttrs(g, "failures", g.Failures, "error", err)...)
		},
		Logger: log,
	})
	if err != nil {
		return err
	}
	open, err := tb.List(ctx, provision.TimeBoundPending, provision.TimeBoundActive, provision.TimeBoundEnding, provision.TimeBoundFailed)
	if err != nil {
		return err
	}
	attrs := []any{"db", sqldb.Redact(cfg.dsn), "zendesk", client.BaseURL(), "auth", how, "acting_as", me.ID,
		"workers", cfg.workers, "sweep", cfg.sweep, "open_grants", len(open)}
	if len(open) > 0 {
		attrs = append(attrs, "next_expiry", open[0].ExpiresAt.Format(time.RFC3339))
	}
	log.InfoContext(ctx, "time-bound worker running", attrs...)
	if err := tb.Run(ctx); err != nil {
		return err
	}
	log.Info("time-bound worker stopped")
	return nil
}

// grantAttrs returns the log attributes of g, then more.
func grantAttrs(g provision.TimeBoundGrant, more ...any) []any {
	return append([]any{"id", g.ID, "grant", g.GrantID(), "expires_at", g.ExpiresAt.Format(time.RFC3339),
		"asked_by", g.Actor.Who}, more...)
}

// loggedJournal is the journal store, logging each change it records as finished: the
// worker's revokes, and the standing access it kept, appear in its log as they happen.
type loggedJournal struct {
	provision.JournalStore
	log *slog.Logger
}

// Append appends as the store does, then logs the finished entries appended.
func (j loggedJournal) Append(ctx context.Context, entries ...provision.JournalEntry) error {
	if err := j.JournalStore.Append(ctx, entries...); err != nil {
		return err
	}
	for _, e := range entries {
		if e.Kind != provision.JournalFinished || e.Outcome == nil {
			continue
		}
		level, attrs := slog.LevelInfo, []any{"change", e.ChangeID, "op", string(e.Op.Name),
			"grant", access.GrantID(e.Op.EntitlementID, e.Op.PrincipalID), "status", e.Outcome.Status, "by", e.Actor.Who}
		if e.Outcome.Error != "" {
			level, attrs = slog.LevelWarn, append(attrs, "error", e.Outcome.Error)
		}
		j.log.Log(ctx, level, "journaled", attrs...)
	}
	return nil
}

// connect returns a client for the account the environment names, and says how it
// authenticates. It reads the environment as the quickstart's live mode does, but asks
// OAuth for write as well as read: the worker revokes. Errors never include a credential.
func connect(getenv func(string) string, baseURL string, log *slog.Logger) (*zendesk.Client, string, error) {
	subdomain := getenv("ZENDESK_SUBDOMAIN")
	if subdomain == "" {
		return nil, "", errors.New("ZENDESK_SUBDOMAIN is not set: set it and the credentials, ZENDESK_OAUTH_CLIENT_ID and " +
			"ZENDESK_OAUTH_CLIENT_SECRET, or ZENDESK_EMAIL and ZENDESK_API_TOKEN (zendesk-sim prints all of them)")
	}
	var auth zendesk.Option
	var how string
	switch {
	case getenv("ZENDESK_OAUTH_CLIENT_ID") != "":
		auth = zendesk.WithOAuthClientCredentials(getenv("ZENDESK_OAUTH_CLIENT_ID"), getenv("ZENDESK_OAUTH_CLIENT_SECRET"), "read", "write")
		how = "OAuth client credentials, scopes read write"
	case getenv("ZENDESK_API_TOKEN") != "":
		auth = zendesk.WithAPIToken(getenv("ZENDESK_EMAIL"), getenv("ZENDESK_API_TOKEN"))
		how = "API token of " + getenv("ZENDESK_EMAIL")
	default:
		return nil, "", errors.New("ZENDESK_SUBDOMAIN is set but no credentials: set ZENDESK_OAUTH_CLIENT_ID and ZENDESK_OAUTH_CLIENT_SECRET, or ZENDESK_EMAIL and ZENDESK_API_TOKEN")
	}
	opts := []zendesk.Option{auth, zendesk.WithLogger(log)}
	if baseURL != "" {
		// Checked here so that a malformed URL is never echoed: it could hold a password.
		u, err := url.Parse(baseURL)
		switch {
		case err != nil:
			return nil, "", errors.New("the base URL (ZENDESK_BASE_URL or -base-url) is not a valid URL")
		case u.User != nil:
			return nil, "", errors.New("the base URL (ZENDESK_BASE_URL or -base-url) must not carry credentials: use the ZENDESK_* variables")
		}
		opts = append(opts, zendesk.WithBaseURL(baseURL))
	}
	c, err := zendesk.NewClient(subdomain, opts...)
	if err != nil {
		return nil, "", err
	}
	return c, how, nil
}
