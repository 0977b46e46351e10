package zendeskaccess

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/zendesk"
)

var _ access.AccountManager = (*Backend)(nil)

// createAttempts is how often CreateAccount sends a create whose outcome is
// unknown, looking for the account in between.
const createAttempts = 3

// CreateAccount gives a person a Zendesk account with the role asked for
// (agent by default, as other IGA products provision; "end-user", "agent"
// or "admin"), unless they have one: a live user whose e-mail address
// matches (GET /users/search?query=email:…, compared case-insensitively), or
// else whose external id matches, is reported as AccountExists and left
// unchanged, whatever its role. Creates for one e-mail address are
// serialised within the backend, and a create that Zendesk refuses because
// the address was taken meanwhile (by another process) is answered by
// searching again, so concurrent creates for one person make one account.
// The new account's role and the groups Zendesk puts a new agent in are
// reported in Added.
func (b *Backend) CreateAccount(ctx context.Context, req access.AccountRequest) (access.AccountResult, error) {
	p := req.Person
	if err := p.Validate(); err != nil {
		return access.AccountResult{}, fmt.Errorf("zendeskaccess: create account: %w", err)
	}
	role := zendesk.RoleAgent
	if req.Role != "" {
		role = zendesk.Role(req.Role)
		if !isBuiltIn(role) {
			return access.AccountResult{}, fmt.Errorf("zendeskaccess: create account for %q: no built-in role %q (want end-user, agent or admin): %w", p.Email, req.Role, access.ErrNotGrantable)
		}
	}
	unlock, err := b.emailLocks.lock(ctx, strings.ToLower(p.Email))
	if err != nil {
		return access.AccountResult{}, fmt.Errorf("zendeskaccess: create account for %q: %w", p.Email, err)
	}
	defer unlock()

	if res, found, err := b.findPerson(ctx, p); err != nil || found {
		return res, err
	}
	name := p.Name
	if name == "" {
		name = p.Email
	}
	cr := &zendesk.CreateUserRequest{Name: name, Email: p.Email, Role: role, SkipVerifyEmail: zendesk.Ptr(true)}
	if p.ExternalID != "" {
		cr.ExternalID = zendesk.Ptr(p.ExternalID)
	}
	u, _, err := b.client.Users.Create(ctx, cr)
	for attempt := 1; err != nil && attempt < createAttempts && ctx.Err() == nil && !errors.Is(err, zendesk.ErrInvalid) && !zendesk.IsRateLimited(err); attempt++ {
		// The outcome is unknown (a 5xx, a lost answer; the client does not
		// repeat a create): if the account is not there, create it again.
		if res, found, ferr := b.findPerson(ctx, p); ferr == nil && found {
			res.Status, res.MatchedBy = access.AccountCreated, ""
			res.Note = fmt.Sprintf("the create's answer was lost (%v), but the account is there", err)
			return res, nil
		}
		u, _, err = b.client.Users.Create(ctx, cr)
	}
	if err != nil {
		// A create refused because the address was taken meanwhile (by
		// another process, or by our own create whose answer was lost and
		// which the client retried), or whose answer was lost: look again.
		if ctx.Err() == nil {
			if res, found, ferr := b.findPerson(ctx, p); ferr == nil && found {
				if errors.Is(err, zendesk.ErrInvalid) {
					res.Note = "Zendesk refused the create because the person has an account now (created concurrently, or by a create whose answer was lost)"
				} else {
					// The answer was lost, the account is there: this call
					// made it, as far as anyone can tell.
					res.Status, res.MatchedBy = access.AccountCreated, ""
					res.Note = fmt.Sprintf("the create's answer was lost (%v), but the account is there", err)
				}
				return res, nil
			}
		}
		return access.AccountResult{}, fmt.Errorf("zendeskaccess: create account for %q: %w", p.Email, err)
	}
	res := access.AccountResult{Status: access.AccountCreated, PrincipalID: userRID(u.ID), Added: b.roleGrantOf(u, u.Role)}
	if u.IsTeamMember() && b.cfg.types[TypeGroup] {
		gs, err := b.userGroupGrants(ctx, u)
		if err != nil {
			return res, fmt.Errorf("zendeskaccess: created user %d for %q, but reading the groups Zendesk gave them failed: %w", u.ID, p.Email, err)
		}
		res.Added = append(res.Added, gs...)
	}
	return res, nil
}

// findPerson looks for a live user with p's e-mail address, then with p's
// external id.
func (b *Backend) findPerson(ctx context.Context, p access.Person) (access.AccountResult, bool, error) {
	users, err := b.client.Users.SearchByEmail(ctx, p.Email)
	if err != nil {
		return access.AccountResult{}, false, fmt.Errorf("zendeskaccess: search users by e-mail: %w", err)
	}
	for _, u := range users {
		if u.Active && strings.EqualFold(u.Email, p.Email) {
			return access.AccountResult{Status: access.AccountExists, PrincipalID: userRID(u.ID), MatchedBy: "email"}, true, nil
		}
	}
	if p.ExternalID == "" {
		return access.AccountResult{}, false, nil
	}
	users, err = b.client.Users.SearchByExternalID(ctx, p.ExternalID)
	if err != nil {
		return access.AccountResult{}, false, fmt.Errorf("zendeskaccess: search users by external id: %w", err)
	}
	for _, u := range users {
		if u.Active && u.ExternalID != nil && *u.ExternalID == p.ExternalID {
			return access.AccountResult{Status: access.AccountExists, PrincipalID: userRID(u.ID), MatchedBy: "external_id"}, true, nil
		}
	}
	return access.AccountResult{}, false, nil
}

// parseUserID parses a canonical user principal ID.
func parseUserID(principalID string) (int64, error) {
	ref, err := access.ParseResourceID(principalID)
	if err == nil {
		err = checkNumeric("resource", principalID, ref)
	}
	if err != nil {
		return 0, err
	}
	if ref.Type != TypeUser {
		return 0, fmt.Errorf("%s is a %s: only users have accounts: %w", principalID, ref.Type, access.ErrUnknownPrincipal)
	}
	id, _ := access.ParsePositiveInt(ref.ID)
	return id, nil
}

// Deprovision takes one step of the ladder for a user, serialised with the
// other changes to the user:
//
//   - DeprovisionSuspend: PUT /users/{id} suspended=true. The agent keeps
//     their role, grants and seat; sign-in is blocked. Nothing is reported
//     in Replaced, because a snapshot still shows the grants (with
//     principal_suspended "true").
//   - DeprovisionDowngrade: PUT /users/{id} role=end-user. Replaced holds the
//     role, the custom role and the group memberships Zendesk removes with
//     it; Added the end-user role. The seat is freed.
//   - DeprovisionSoftDelete: DELETE /users/{id}. Replaced holds every grant
//     the user held, read just before.
//   - DeprovisionPermanentDelete: the soft delete if not done yet, then
//     DELETE /deleted_users/{id}, which purges the user's personal data and
//     cannot be undone.
//
// The account owner is refused every step with access.ErrNotGrantable when
// WithAccountOwner names them (provision's guards refuse them, the last
// admin and the credential's own user before any request). A step already
// taken is AccountUnchanged. Zendesk limits updates to one user (about 5 a
// minute); the client paces and retries them.
func (b *Backend) Deprovision(ctx context.Context, principalID string, step access.DeprovisionStep) (access.AccountResult, error) {
	uid, err := parseUserID(principalID)
	if err != nil {
		return access.AccountResult{}, fmt.Errorf("zendeskaccess: deprovision: %w", err)
	}
	if !step.Valid() {
		return access.AccountResult{}, fmt.Errorf("zendeskaccess: deprovision %s: unknown step %q", principalID, step)
	}
	if b.cfg.owner != 0 && uid == b.cfg.owner && step != access.DeprovisionNone {
		return access.AccountResult{}, fmt.Errorf("zendeskaccess: deprovision %s: user %d is the account owner: %w", principalID, uid, access.ErrNotGrantable)
	}
	if step != access.DeprovisionNone {
		// Never lock zgov out: the user its credential acts as keeps its
		// account, whoever calls.
		me, err := b.me(ctx)
		if err != nil {
			return access.AccountResult{}, fmt.Errorf("zendeskaccess: deprovision %s: %w", principalID, err)
		}
		if uid == me {
			return access.AccountResult{}, fmt.Errorf("zendeskaccess: deprovision %s: user %d is the user zgov's credential acts as: %w", principalID, uid, access.ErrNotGrantable)
		}
	}
	unlock, err := b.locks.lock(ctx, uid)
	if err != nil {
		return access.AccountResult{}, fmt.Errorf("zendeskaccess: deprovision %s: %w", principalID, err)
	}
	defer unlock()
	res := access.AccountResult{PrincipalID: principalID, Status: access.AccountUnchanged}
	fail := func(err error) (access.AccountResult, error) {
		if len(res.Added) > 0 || len(res.Replaced) > 0 || res.Status == access.AccountChanged {
			if res.Status != access.AccountChanged {
				res.Status = access.AccountIncomplete
			}
			return res, fmt.Errorf("zendeskaccess: deprovision %s (%s): %w", principalID, step, err)
		}
		return access.AccountResult{}, fmt.Errorf("zendeskaccess: deprovision %s (%s): %w", principalID, step, err)
	}

	u, _, err := b.client.Users.Get(ctx, uid)
	switch {
	case zendesk.IsNotFound(err) && step == access.DeprovisionPermanentDelete:
		u = nil // purged already, or never existed: the deleted users tell
	case zendesk.IsNotFound(err):
		return fail(fmt.Errorf("user %d: %w", uid, access.ErrUnknownPrincipal))
	case err != nil:
		return fail(fmt.Errorf("read user %d: %w", uid, err))
	}
	live := u != nil && u.Active

	switch step {
	case access.DeprovisionNone:
		res.Note = "deprovisioning step none changes nothing"
		return res, nil
	case access.DeprovisionSuspend:
		if !live {
			return fail(fmt.Errorf("user %d is deleted: %w", uid, access.ErrUnknownPrincipal))
		}
		if u.Suspended {
			return res, nil
		}
		if _, _, err := b.client.Users.Suspend(ctx, uid); err != nil {
			return fail(fmt.Errorf("suspend user %d: %w", uid, err))
		}
		res.Status = access.AccountChanged
		res.Note = fmt.Sprintf("suspended user %d: they cannot sign in, but keep their role, grants and (as an agent) their seat", uid)
		return res, nil
	case access.DeprovisionDowngrade:
		if !live {
			return fail(fmt.Errorf("user %d is deleted: %w", uid, access.ErrUnknownPrincipal))
		}
		if u.Role == zendesk.RoleEndUser {
			return res, nil
		}
		nu, changed, err := b.changeRole(ctx, u, zendesk.RoleEndUser)
		if nu != nil {
			res.Status, res.Added, res.Replaced = access.AccountChanged, changed.Added, changed.Replaced
		}
		if err != nil {
			return fail(err)
		}
		res.Note = fmt.Sprintf("downgraded user %d from %s to end user: Zendesk removed their group memberships and custom role, and their seat is free", uid, u.Role)
		return res, nil
	}

	// Soft or permanent delete.
	if live {
		st, err := b.currentState(ctx)
		if err != nil {
			return fail(err)
		}
		held, err := b.userGrants(ctx, u, st)
		if err != nil {
			return fail(err)
		}
		if _, _, err := b.client.Users.Delete(ctx, uid); err != nil && !zendesk.IsNotFound(err) {
			return fail(fmt.Errorf("delete user %d: %w", uid, err))
		}
		res.Status, res.Replaced = access.AccountChanged, held
		res.Note = fmt.Sprintf("deleted user %d (soft: Zendesk keeps them among the deleted users until purged)", uid)
	}
	if step == access.DeprovisionSoftDelete {
		return res, nil
	}
	// Zendesk keeps a purged user among the deleted users, renamed
	// "Permanently Deleted User" without an e-mail address, and refuses a
	// second purge: read first, so that a purge already done (by a retried
	// call whose answer was lost, or by someone else) is AccountUnchanged.
	du, _, err := b.client.DeletedUsers.Get(ctx, uid)
	switch {
	case zendesk.IsNotFound(err):
		return fail(fmt.Errorf("user %d is neither a user nor a deleted user: %w", uid, access.ErrUnknownPrincipal))
	case err != nil:
		return fail(fmt.Errorf("read deleted user %d: %w", uid, err))
	case purged(du):
		if res.Status == access.AccountUnchanged {
			res.Note = fmt.Sprintf("user %d was permanently deleted already", uid)
		}
		return res, nil
	}
	if _, _, err := b.client.DeletedUsers.PermanentlyDelete(ctx, uid); err != nil {
		// A purge whose first answer was lost is refused on its retry;
		// the deleted user's record says whether it took effect.
		if du, _, gerr := b.client.DeletedUsers.Get(ctx, uid); gerr != nil || !purged(du) {
			return fail(fmt.Errorf("permanently delete user %d: %w", uid, err))
		}
	}
	res.Status = access.AccountChanged
	res.Note = strings.TrimPrefix(res.Note+"; ", "; ") + fmt.Sprintf("permanently deleted user %d: their personal data is purged and this cannot be undone", uid)
	return res, nil
}

// purged reports whether a deleted user has been permanently deleted: Zendesk
// then names it "Permanently Deleted User" and clears its e-mail address.
func purged(u *zendesk.User) bool {
	return u.Name == "Permanently Deleted User" && u.Email == ""
}

// Reactivate undoes a suspension and gives the user role ("end-user",
// "agent" or "admin"; agent when empty): PUT /users/{id} for each of the
// two that differ. Added and Replaced report the role change and what
// Zendesk adds or removes with it. A deleted user cannot be reactivated.
func (b *Backend) Reactivate(ctx context.Context, principalID, role string) (access.AccountResult, error) {
	uid, err := parseUserID(principalID)
	if err != nil {
		return access.AccountResult{}, fmt.Errorf("zendeskaccess: reactivate: %w", err)
	}
	want := zendesk.RoleAgent
	if role != "" {
		want = zendesk.Role(role)
		if !isBuiltIn(want) {
			return access.AccountResult{}, fmt.Errorf("zendeskaccess: reactivate %s: no built-in role %q (want end-user, agent or admin): %w", principalID, role, access.ErrNotGrantable)
		}
	}
	unlock, err := b.locks.lock(ctx, uid)
	if err != nil {
		return access.AccountResult{}, fmt.Errorf("zendeskaccess: reactivate %s: %w", principalID, err)
	}
	defer unlock()
	u, err := b.getUser(ctx, uid)
	if err != nil {
		return access.AccountResult{}, fmt.Errorf("zendeskaccess: reactivate %s: %w", principalID, err)
	}
	res := access.AccountResult{PrincipalID: principalID, Status: access.AccountUnchanged}
	if u.Suspended {
		if _, _, err := b.client.Users.Unsuspend(ctx, uid); err != nil {
			return access.AccountResult{}, fmt.Errorf("zendeskaccess: reactivate %s: unsuspend: %w", principalID, err)
		}
		res.Status, res.Note = access.AccountChanged, fmt.Sprintf("unsuspended user %d", uid)
	}
	if u.Role != want {
		nu, changed, err := b.changeRole(ctx, u, want)
		if nu != nil {
			res.Status, res.Added, res.Replaced = access.AccountChanged, changed.Added, changed.Replaced
		}
		if err != nil {
			if res.Status == access.AccountChanged {
				return res, fmt.Errorf("zendeskaccess: reactivate %s: %w", principalID, err)
			}
			return access.AccountResult{}, fmt.Errorf("zendeskaccess: reactivate %s: %w", principalID, err)
		}
		res.Note = strings.TrimPrefix(res.Note+"; ", "; ") + fmt.Sprintf("changed user %d from %s to %s", uid, u.Role, want)
	}
	return res, nil
}
