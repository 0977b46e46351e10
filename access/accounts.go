package access

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// Person is someone who may need an account: the identity an identity
// provider knows, before the governed system does.
type Person struct {
	// Email is the person's primary e-mail address. It is required: it is
	// what accounts are matched by.
	Email string `json:"email"`
	// Name is the display name. If empty, the backend uses the e-mail
	// address.
	Name string `json:"name,omitempty"`
	// ExternalID is the identity provider's id for the person, matched when
	// no account has the e-mail address. Optional.
	ExternalID string `json:"external_id,omitempty"`
}

// maxEmail is the longest address SMTP allows (RFC 5321).
const maxEmail = 254

// Validate checks the person: an e-mail address of the form local@domain,
// without a display name or white space, names and ids of valid UTF-8 and
// reasonable length. Errors wrap ErrInvalidPerson.
func (p Person) Validate() error {
	fail := func(reason string) error {
		return fmt.Errorf("access: person %s: %s: %w", quoteShort(p.Email), reason, ErrInvalidPerson)
	}
	switch {
	case p.Email == "":
		return fail("no e-mail address")
	case len(p.Email) > maxEmail:
		return fail("e-mail address longer than 254 bytes")
	case strings.ContainsAny(p.Email, " \t\r\n<>"):
		return fail("e-mail address holds white space or angle brackets")
	}
	if a, err := mail.ParseAddress(p.Email); err != nil || a.Address != p.Email || !strings.Contains(p.Email[strings.LastIndexByte(p.Email, '@'):], ".") {
		return fail("not an e-mail address of the form name@example.com")
	}
	if !utf8.ValidString(p.Name) || len(p.Name) > 255 {
		return fail("name is not valid UTF-8 of at most 255 bytes")
	}
	if !utf8.ValidString(p.ExternalID) || len(p.ExternalID) > 255 || strings.TrimSpace(p.ExternalID) != p.ExternalID {
		return fail("external id is not trimmed valid UTF-8 of at most 255 bytes")
	}
	return nil
}

// ErrInvalidPerson means a Person failed validation (no e-mail address, a
// malformed one, an overlong name).
var ErrInvalidPerson = errors.New("invalid person")

// AccountRequest asks for an account for a person.
type AccountRequest struct {
	// Person is who the account is for.
	Person Person
	// Role is the built-in role the account gets, in the backend's terms;
	// empty means the backend's default (Zendesk: agent, as other IGA
	// products provision).
	Role string
}

// AccountStatus says what an account operation did.
type AccountStatus string

// The statuses of an AccountResult.
const (
	// AccountCreated: the account was created.
	AccountCreated AccountStatus = "created"
	// AccountExists: the person already had an account (MatchedBy says
	// how it was found); nothing was changed.
	AccountExists AccountStatus = "exists"
	// AccountChanged: the deprovisioning step or reactivation was done.
	AccountChanged AccountStatus = "changed"
	// AccountUnchanged: the account already was in the state asked for.
	AccountUnchanged AccountStatus = "unchanged"
	// AccountIncomplete: the call failed after changing something; Added
	// and Replaced say what. It comes only with an error.
	AccountIncomplete AccountStatus = "incomplete"
)

// AccountResult reports what an account operation did, in the shape of
// Result: the principal, and every grant it created or removed.
type AccountResult struct {
	// Status says what happened.
	Status AccountStatus
	// PrincipalID is the account's resource ID, such as "user:42".
	PrincipalID string
	// MatchedBy is "email" or "external_id" for AccountExists.
	MatchedBy string
	// Added lists grants the operation created (a new agent's role and
	// default group, the role a reactivation restored).
	Added []Grant
	// Replaced lists grants the operation removed (a downgrade's group
	// memberships and custom role, everything a deletion removes).
	Replaced []Grant
	// Note is a human-readable remark: what a step does that grants do not
	// show (a suspended agent keeps their seat and grants but cannot sign
	// in).
	Note string
}

// DeprovisionStep is one rung of the deprovisioning ladder, from the least
// to the most destructive: DeprovisionSuspend < DeprovisionDowngrade <
// DeprovisionSoftDelete < DeprovisionPermanentDelete.
type DeprovisionStep string

// The rungs of the ladder.
const (
	// DeprovisionNone changes nothing: for a policy that only stops
	// managing the person.
	DeprovisionNone DeprovisionStep = "none"
	// DeprovisionSuspend blocks sign-in; the account keeps its role, grants
	// and (in Zendesk) its agent seat.
	DeprovisionSuspend DeprovisionStep = "suspend"
	// DeprovisionDowngrade makes the account the lowest role (Zendesk: end
	// user), which removes its group memberships and custom role and frees
	// its seat.
	DeprovisionDowngrade DeprovisionStep = "downgrade"
	// DeprovisionSoftDelete deletes the account in a way the system can
	// still undo or purge later (Zendesk: DELETE /users/{id}).
	DeprovisionSoftDelete DeprovisionStep = "soft_delete"
	// DeprovisionPermanentDelete deletes the account and purges it, as
	// GDPR erasure needs (Zendesk: soft delete, then DELETE
	// /deleted_users/{id}). It cannot be undone.
	DeprovisionPermanentDelete DeprovisionStep = "permanent_delete"
)

// DefaultLadder is Zendesk's own guidance for people who leave: downgrade,
// which frees the seat and removes group memberships and custom role while
// keeping the account and its ticket history, then suspend, which blocks
// sign-in. Deleting loses the person's link to their tickets and cannot be
// fully undone, so it is a step the caller must choose.
var DefaultLadder = []DeprovisionStep{DeprovisionDowngrade, DeprovisionSuspend}

// Valid reports whether s is one of the defined steps.
func (s DeprovisionStep) Valid() bool {
	switch s {
	case DeprovisionNone, DeprovisionSuspend, DeprovisionDowngrade, DeprovisionSoftDelete, DeprovisionPermanentDelete:
		return true
	}
	return false
}

// Destructive reports whether the step takes anything away (every step but
// none: a suspension is reversible, but a mass suspension is the accident
// blast-radius caps exist for).
func (s DeprovisionStep) Destructive() bool {
	return s != DeprovisionNone && s.Valid()
}

// AccountManager is an optional Backend capability: the lifecycle of the
// accounts that hold access. Implementations must be idempotent: creating
// an account for a person who has one reports AccountExists, and two
// concurrent creates for one person make one account; a step already taken
// reports AccountUnchanged.
type AccountManager interface {
	// CreateAccount gives a person an account, unless one matches by
	// e-mail address, then by external id.
	CreateAccount(ctx context.Context, req AccountRequest) (AccountResult, error)
	// Deprovision takes one step of the ladder for the account principalID.
	Deprovision(ctx context.Context, principalID string, step DeprovisionStep) (AccountResult, error)
	// Reactivate undoes suspension and gives the account role (in the
	// backend's terms; empty means the backend's default), for mistakes.
	// A deleted account cannot be reactivated: ErrUnknownPrincipal.
	Reactivate(ctx context.Context, principalID string, role string) (AccountResult, error)
}

func (s *System) accounts(op string) (AccountManager, error) {
	m, ok := s.b.(AccountManager)
	if !ok {
		return nil, fmt.Errorf("access: %s: the backend manages no accounts: %w", op, ErrUnsupported)
	}
	return m, nil
}

// CreateAccount gives a person an account through the backend's
// AccountManager (ErrUnsupported without one), after validating the person
// (ErrInvalidPerson).
func (s *System) CreateAccount(ctx context.Context, req AccountRequest) (AccountResult, error) {
	m, err := s.accounts("create account")
	if err != nil {
		return AccountResult{}, err
	}
	if err := req.Person.Validate(); err != nil {
		return AccountResult{}, err
	}
	res, err := m.CreateAccount(ctx, req)
	return s.finishAccount("create account for "+quoteShort(req.Person.Email), res, err)
}

// Deprovision takes one step of the ladder for principalID, whose ID is
// checked as Grant checks IDs.
func (s *System) Deprovision(ctx context.Context, principalID string, step DeprovisionStep) (AccountResult, error) {
	m, err := s.accounts("deprovision")
	if err != nil {
		return AccountResult{}, err
	}
	if !step.Valid() {
		return AccountResult{}, fmt.Errorf("access: deprovision %s: unknown step %q", principalID, step)
	}
	if err := s.checkPrincipal(ctx, principalID); err != nil {
		return AccountResult{}, fmt.Errorf("access: deprovision: %w", err)
	}
	if step == DeprovisionNone {
		return AccountResult{Status: AccountUnchanged, PrincipalID: principalID, Note: "deprovisioning step none changes nothing"}, nil
	}
	res, err := m.Deprovision(ctx, principalID, step)
	return s.finishAccount(fmt.Sprintf("deprovision %s (%s)", principalID, step), res, err)
}

// Reactivate undoes suspension and restores role for principalID.
func (s *System) Reactivate(ctx context.Context, principalID, role string) (AccountResult, error) {
	m, err := s.accounts("reactivate")
	if err != nil {
		return AccountResult{}, err
	}
	if err := s.checkPrincipal(ctx, principalID); err != nil {
		return AccountResult{}, fmt.Errorf("access: reactivate: %w", err)
	}
	res, err := m.Reactivate(ctx, principalID, role)
	return s.finishAccount("reactivate "+principalID, res, err)
}

// checkPrincipal checks a principal ID as CheckRequest does.
func (s *System) checkPrincipal(ctx context.Context, principalID string) error {
	if _, err := ParseResourceID(principalID); err != nil {
		return err
	}
	syntax, err := s.syntaxes(ctx)
	if err != nil {
		return err
	}
	return checkSyntax(syntax, "resource", principalID, principalID)
}

// finishAccount gives an account operation's answer the one shape callers
// see, as finish does for grants.
func (s *System) finishAccount(what string, res AccountResult, err error) (AccountResult, error) {
	for _, gs := range [][]Grant{res.Added, res.Replaced} {
		for _, g := range gs {
			if isNil(g) {
				return AccountResult{}, fmt.Errorf("access: %s: result lists a nil grant: %w", what, ErrBadResult)
			}
		}
	}
	if err != nil {
		if len(res.Added) == 0 && len(res.Replaced) == 0 && res.Status != AccountCreated && res.Status != AccountChanged {
			return AccountResult{}, fmt.Errorf("access: %s: %w", what, err)
		}
		if res.Status != AccountCreated && res.Status != AccountChanged {
			res.Status = AccountIncomplete
		}
		return res, &AccountError{What: what, Result: res, Err: err}
	}
	switch res.Status {
	case AccountCreated, AccountExists, AccountChanged, AccountUnchanged:
	default:
		return AccountResult{}, fmt.Errorf("access: %s: status %q: %w", what, res.Status, ErrBadResult)
	}
	if _, perr := ParseResourceID(res.PrincipalID); perr != nil {
		return AccountResult{}, fmt.Errorf("access: %s: result names principal %s: %w", what, quoteShort(res.PrincipalID), ErrBadResult)
	}
	return res, nil
}

// AccountError reports an account operation that changed something and
// then failed, as PartialError does for grants. It unwraps to Err.
type AccountError struct {
	// What names the operation.
	What string
	// Result says what was changed.
	Result AccountResult
	// Err is why the operation did not finish.
	Err error
}

// Error says what was asked, what changed and what failed.
func (e *AccountError) Error() string {
	return changeFailed(fmt.Sprintf("%s failed after changing %s", e.What, e.Result.PrincipalID), e.Result.Status, e.Result.Added, e.Result.Replaced, e.Err)
}

// Unwrap returns Err.
func (e *AccountError) Unwrap() error { return e.Err }

// GuardFacts are what a backend knows that provisioning guards need and a
// snapshot does not say.
type GuardFacts struct {
	// Owners are the principals who own the account: they must never lose
	// access or their account.
	Owners []string
	// Self is the principal the backend's credential acts as: taking its
	// access away would lock zgov out. Empty if unknown.
	Self string
	// AdminEntitlementID is the entitlement whose last active holder must
	// keep it (Zendesk: role:admin:assigned); empty if none.
	AdminEntitlementID string
	// TeamEntitlementIDs are the entitlements that make a principal a team
	// member (Zendesk: the agent and admin roles), whom blast-radius caps
	// count.
	TeamEntitlementIDs []string
	// ExclusiveTypes are the resource types of which a principal holds one
	// entitlement at most, so that a grant replaces the one held (Zendesk:
	// role, custom_role, and organization without multiple organizations).
	ExclusiveTypes []string
}

// GuardFactsProvider is an optional Backend capability: the facts guards
// need (see GuardFacts).
type GuardFactsProvider interface {
	GuardFacts(ctx context.Context) (GuardFacts, error)
}

// PrincipalState is what a cheap read of one principal shows: whether it
// exists and is suspended, and the grants the principal's own record holds
// (Zendesk: the built-in role, the custom role and, without multiple
// organizations, the organization), those on the resource types
// PrincipalReader.ObjectTypes names.
type PrincipalState struct {
	// Exists is false for a principal that is gone (deleted, purged).
	Exists bool
	// Suspended reports a suspended account.
	Suspended bool
	// Grants are the grants on ObjectTypes the principal holds.
	Grants []Grant
}

// PrincipalReader is an optional Backend capability: the state of many
// principals at once, far cheaper than GrantsFor each (Zendesk: GET
// /users/show_many, 100 users a request). Apply uses it to check, per
// principal, that access is still what a plan saw.
type PrincipalReader interface {
	// ObjectTypes are the resource types whose grants ReadPrincipals
	// reports.
	ObjectTypes(ctx context.Context) ([]string, error)
	// ReadPrincipals returns the state of each principal, by ID; a
	// principal that does not exist has Exists false.
	ReadPrincipals(ctx context.Context, principalIDs []string) (map[string]PrincipalState, error)
}

// BulkResult is the outcome of one request of a bulk change.
type BulkResult struct {
	// Result is what the request did (as Grant or Revoke reports it).
	Result Result
	// Err is why it failed, if it did.
	Err error
}

// BulkChanger is an optional Backend capability: many grants or revokes at
// once, through the system's bulk endpoints where it has them (Zendesk:
// group memberships' create_many and destroy_many, 100 items a job, jobs
// run concurrently), one by one where it does not. Results come back in
// request order. progress, if not nil, is called with the number of
// requests finished so far, from one goroutine at a time.
type BulkChanger interface {
	GrantMany(ctx context.Context, reqs []GrantRequest, progress func(done int)) []BulkResult
	RevokeMany(ctx context.Context, reqs []RevokeRequest, progress func(done int)) []BulkResult
}

// AccountBulkResult is the outcome of one request of CreateAccounts.
type AccountBulkResult struct {
	// Result is what the request did.
	Result AccountResult
	// Err is why it failed, if it did.
	Err error
}

// BulkAccountCreator is an optional Backend capability: many accounts at
// once, through the system's bulk endpoint where it has one (Zendesk:
// users/create_many, 100 a job), with CreateAccount's semantics for each
// (a person who has an account is AccountExists), except that Added may
// leave out grants the system adds to new accounts by itself (Zendesk's
// default group) when reading them back would cost a request per account. Results come back in
// request order; progress is as for BulkChanger.
type BulkAccountCreator interface {
	CreateAccounts(ctx context.Context, reqs []AccountRequest, progress func(done int)) []AccountBulkResult
}
