package zendesktest

import (
	"fmt"
	"regexp"
	"strings"
)

// Credentials are what a client needs to talk to the simulator. Their String,
// GoString and Format methods redact the secrets (APIToken and
// OAuthClientSecret), so they can be logged.
type Credentials struct {
	Subdomain         string
	AdminEmail        string // the account owner's email, for API-token auth
	APIToken          string // secret
	OAuthClientID     string
	OAuthClientSecret string // secret
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return "REDACTED"
}

// String returns the credentials with the secrets redacted.
func (c Credentials) String() string {
	return fmt.Sprintf("{Subdomain:%s AdminEmail:%s APIToken:%s OAuthClientID:%s OAuthClientSecret:%s}",
		c.Subdomain, c.AdminEmail, redact(c.APIToken), c.OAuthClientID, redact(c.OAuthClientSecret))
}

// GoString returns the credentials as Go syntax with the secrets redacted.
func (c Credentials) GoString() string {
	return fmt.Sprintf("zendesktest.Credentials{Subdomain:%q, AdminEmail:%q, APIToken:%q, OAuthClientID:%q, OAuthClientSecret:%q}",
		c.Subdomain, c.AdminEmail, redact(c.APIToken), c.OAuthClientID, redact(c.OAuthClientSecret))
}

// Format implements fmt.Formatter so that every verb (%v, %+v, %#v, %s, %q...)
// redacts the secrets.
func (c Credentials) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, c.GoString())
	case verb == 'q':
		fmt.Fprintf(f, "%q", c.String())
	default:
		fmt.Fprint(f, c.String())
	}
}

var subdomainRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func validSubdomain(s string) bool { return subdomainRE.MatchString(s) }

func validEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n/") && strings.Count(s, "@") == 1
}
