package zendesktest

import (
	"errors"
	"fmt"
	"time"
)

// Plan is a Zendesk Suite plan. It decides the default API rate limit and
// which features (custom roles, multiple organizations) are available.
type Plan string

// The plans the simulator knows.
const (
	PlanTeam         Plan = "team"
	PlanGrowth       Plan = "growth"
	PlanProfessional Plan = "professional"
	PlanEnterprise   Plan = "enterprise"
	// PlanHighVolume is Enterprise with the High Volume API add-on.
	PlanHighVolume Plan = "high_volume"
)

// RequestsPerMinute returns the plan's default account-wide API budget.
func (p Plan) RequestsPerMinute() int {
	switch p {
	case PlanTeam:
		return 200
	case PlanGrowth, PlanProfessional:
		return 400
	case PlanEnterprise:
		return 700
	case PlanHighVolume:
		return 2500
	}
	return 0
}

func (p Plan) valid() bool { return p.RequestsPerMinute() > 0 }

// customRoles reports whether the plan has custom agent roles (Enterprise and above).
func (p Plan) customRoles() bool { return p == PlanEnterprise || p == PlanHighVolume }

// multipleOrganizations reports whether the plan may enable the
// "users can belong to multiple organizations" setting (Professional and above).
func (p Plan) multipleOrganizations() bool {
	return p == PlanProfessional || p == PlanEnterprise || p == PlanHighVolume
}

// SingleOrgMode says what adding a second organization membership does on an
// account where users may belong to one organization only.
type SingleOrgMode int

const (
	// ReplaceMembership moves the user: the existing membership is removed and
	// the new one becomes the default. This is what integrations report Zendesk doing.
	ReplaceMembership SingleOrgMode = iota
	// RefuseMembership answers 422 RecordInvalid instead.
	RefuseMembership
)

// Option configures a Server. Options validate their input; NewServer returns
// the first error.
type Option func(*config) error

type config struct {
	plan           Plan
	rpm            int
	unlimited      bool
	incrementalRPM int
	advertise      bool
	account        *AccountSpec
	agentSeats     int
	multipleOrgs   bool
	singleOrgMode  SingleOrgMode
	faults         *Faults
	latency        time.Duration
	tokenTTL       time.Duration
	clock          func() time.Time
	creds          *Credentials
	requestLogSize int
	jobDelay       time.Duration
	maxOrgsPerUser int
	progress       func(GenerateProgress)
	// bulkUserImports enables POST /users/create_many and create_or_update_many.
	bulkUserImports bool
	// userUpdateLimit is how many PUT /users/{id} one user may receive in a
	// minute; 0 means no limit.
	userUpdateLimit int
}

func defaultConfig() config {
	return config{
		plan:           PlanEnterprise,
		incrementalRPM: 10,
		advertise:      true,
		agentSeats:     0, // unlimited
		tokenTTL:       2 * time.Hour,
		clock:          time.Now,
		requestLogSize: 1000,
		jobDelay:       20 * time.Millisecond,
		maxOrgsPerUser: 300,
		// Zendesk's limit on updates of one user, as third parties transcribe it
		// (the current OpenAPI document does not state it).
		userUpdateLimit: 5,
	}
}

// WithPlan selects the account's plan. The default is PlanEnterprise.
func WithPlan(p Plan) Option {
	return func(c *config) error {
		if !p.valid() {
			return fmt.Errorf("zendesktest: WithPlan: unknown plan %q", p)
		}
		c.plan = p
		return nil
	}
}

// WithRateLimit overrides the plan's account-wide budget in requests per
// minute. 0 means the plan default; negative values are invalid.
func WithRateLimit(requestsPerMinute int) Option {
	return func(c *config) error {
		if requestsPerMinute < 0 {
			return fmt.Errorf("zendesktest: WithRateLimit: requests per minute must be >= 0, got %d", requestsPerMinute)
		}
		c.rpm = requestsPerMinute
		c.unlimited = false
		return nil
	}
}

// WithoutRateLimit disables rate limiting, the per-user update limit included
// (the headers still advertise the plan limit with a full budget). Useful for
// benchmarks.
func WithoutRateLimit() Option {
	return func(c *config) error {
		c.unlimited = true
		return nil
	}
}

// WithIncrementalRateLimit sets the budget of the incremental export
// endpoints in requests per minute (default 10). It must be positive.
func WithIncrementalRateLimit(rpm int) Option {
	return func(c *config) error {
		if rpm <= 0 {
			return fmt.Errorf("zendesktest: WithIncrementalRateLimit: requests per minute must be > 0, got %d", rpm)
		}
		c.incrementalRPM = rpm
		return nil
	}
}

// WithAdvertiseRateLimit controls whether responses carry the X-Rate-Limit
// and ratelimit-* headers (default true). With false a client must discover
// the limit from 429 responses.
func WithAdvertiseRateLimit(advertise bool) Option {
	return func(c *config) error {
		c.advertise = advertise
		return nil
	}
}

// WithAccount seeds the account with the deterministic generator.
func WithAccount(spec AccountSpec) Option {
	return func(c *config) error {
		if err := spec.validate(); err != nil {
			return fmt.Errorf("zendesktest: WithAccount: %w", err)
		}
		s := spec
		c.account = &s
		return nil
	}
}

// WithAgentSeats limits the number of agent seats (admins and agents, suspended
// ones included; light agents and contributors excluded). Past it, creating or
// promoting an agent is refused with 422. n must be positive; the default is
// unlimited.
func WithAgentSeats(n int) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("zendesktest: WithAgentSeats: seats must be > 0, got %d", n)
		}
		c.agentSeats = n
		return nil
	}
}

// WithMultipleOrganizations sets the account setting
// user.multiple_organizations (default false). It needs PlanProfessional or above.
func WithMultipleOrganizations(on bool) Option {
	return func(c *config) error {
		c.multipleOrgs = on
		return nil
	}
}

// WithSingleOrganizationMode chooses what adding a second organization does
// while multiple organizations are off (default ReplaceMembership).
func WithSingleOrganizationMode(m SingleOrgMode) Option {
	return func(c *config) error {
		if m != ReplaceMembership && m != RefuseMembership {
			return fmt.Errorf("zendesktest: WithSingleOrganizationMode: unknown mode %d", m)
		}
		c.singleOrgMode = m
		return nil
	}
}

// WithFaults enables fault injection. See Faults.
func WithFaults(f Faults) Option {
	return func(c *config) error {
		if err := f.validate(); err != nil {
			return fmt.Errorf("zendesktest: WithFaults: %w", err)
		}
		f.Kinds = append([]FaultKind(nil), f.Kinds...)
		c.faults = &f
		return nil
	}
}

// WithLatency adds d to every response (waited before the response is written).
func WithLatency(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("zendesktest: WithLatency: negative duration %v", d)
		}
		c.latency = d
		return nil
	}
}

// WithTokenTTL sets the lifetime of OAuth access tokens (default 2h).
func WithTokenTTL(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("zendesktest: WithTokenTTL: duration must be > 0, got %v", d)
		}
		c.tokenTTL = d
		return nil
	}
}

// WithClock sets the time source used for token expiry, rate-limit windows,
// job expiry and the timestamps of records created at run time.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("zendesktest: WithClock: nil clock")
		}
		c.clock = now
		return nil
	}
}

// WithCredentials replaces the generated credentials. Empty fields keep their
// generated value. AdminEmail, if set, names the account owner's email.
func WithCredentials(cr Credentials) Option {
	return func(c *config) error {
		if cr.Subdomain != "" && !validSubdomain(cr.Subdomain) {
			return fmt.Errorf("zendesktest: WithCredentials: invalid subdomain %q", cr.Subdomain)
		}
		if cr.AdminEmail != "" && !validEmail(cr.AdminEmail) {
			return fmt.Errorf("zendesktest: WithCredentials: invalid admin email %q", cr.AdminEmail)
		}
		x := cr
		c.creds = &x
		return nil
	}
}

// WithRequestLog sets how many requests RequestLog keeps (default 1000); 0
// disables the log (for benchmarks).
func WithRequestLog(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("zendesktest: WithRequestLog: size must be >= 0, got %d", n)
		}
		c.requestLogSize = n
		return nil
	}
}

// WithJobDelay sets how long a bulk job stays queued, and then working, before
// it completes (default 20ms). 0 runs jobs as soon as the worker picks them up.
func WithJobDelay(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("zendesktest: WithJobDelay: negative duration %v", d)
		}
		c.jobDelay = d
		return nil
	}
}

// WithGenerateProgress calls f, from NewServer or New and in their
// goroutine, as the account of WithAccount is generated: at the start and
// end of each stage and about every 1% of it. Generating millions of users
// takes seconds; f lets a program show how far it has come. Nil means no
// reports.
func WithGenerateProgress(f func(GenerateProgress)) Option {
	return func(c *config) error {
		c.progress = f
		return nil
	}
}

// WithBulkUserImports enables or disables Zendesk's bulk user imports, which
// POST /users/create_many and POST /users/create_or_update_many need. Zendesk
// ships accounts with them disabled (those endpoints answer 403 Forbidden
// until the account owner asks Zendesk Customer Support to enable them), and
// so does the simulator: the default is false, so that a client meets the
// refusal it will meet on most real accounts unless a test opts in. PUT
// /users/update_many is not an import and works either way.
func WithBulkUserImports(enabled bool) Option {
	return func(c *config) error {
		c.bulkUserImports = enabled
		return nil
	}
}

// WithUserUpdateLimit sets how many updates (PUT /users/{id}) one user may
// receive in any minute (default 5, Zendesk's per-user limit); the next one
// answers 429 with a Retry-After. 0 removes the limit; negative values are
// invalid. See "Rate limits" in the package documentation.
func WithUserUpdateLimit(perMinute int) Option {
	return func(c *config) error {
		if perMinute < 0 {
			return fmt.Errorf("zendesktest: WithUserUpdateLimit: updates per minute must be >= 0, got %d", perMinute)
		}
		c.userUpdateLimit = perMinute
		return nil
	}
}

func (c *config) effectiveRPM() int {
	if c.rpm > 0 {
		return c.rpm
	}
	return c.plan.RequestsPerMinute()
}

func (c *config) validate() error {
	if c.multipleOrgs && !c.plan.multipleOrganizations() {
		return fmt.Errorf("zendesktest: multiple organizations need plan professional or above, have %s", c.plan)
	}
	if c.account != nil {
		if c.account.CustomRoles > 0 && !c.plan.customRoles() {
			return fmt.Errorf("zendesktest: WithAccount: custom roles need plan enterprise, have %s", c.plan)
		}
		if c.agentSeats > 0 && c.account.Agents+c.account.Admins+1 > c.agentSeats {
			return fmt.Errorf("zendesktest: WithAccount: %d agents and admins (plus owner) exceed %d agent seats", c.account.Agents+c.account.Admins, c.agentSeats)
		}
	}
	return nil
}
