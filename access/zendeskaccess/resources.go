package zendeskaccess

import (
	"strconv"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/zendesk"
)

// User is a Zendesk user as a resource ("user:<id>"). Streams emit it and
// callers may type-assert to it.
//
// Attributes: email, role (end-user, agent, admin), role_type (Zendesk's
// number, absent when null), suspended, active, last_login_at (RFC 3339 UTC,
// absent when the user never logged in), external_id (absent when null) and,
// when the backend was given WithAccountOwner, owner.
type User struct {
	zendesk.User
	// Owner reports whether the user is the account owner named with
	// WithAccountOwner (false when none was named).
	Owner bool
	// ownerKnown records whether an owner was named at all.
	ownerKnown bool
}

// ID returns "user:<id>".
func (u *User) ID() string { return userRID(u.User.ID) }

// DisplayName returns the user's name.
func (u *User) DisplayName() string { return u.Name }

// Attributes returns the user's attributes (a new map on each call).
func (u *User) Attributes() access.Attributes {
	a := access.Attributes{
		"role":      string(u.Role),
		"suspended": strconv.FormatBool(u.Suspended),
		"active":    strconv.FormatBool(u.Active),
	}
	if u.Email != "" {
		a["email"] = u.Email
	}
	if u.RoleType != nil {
		a["role_type"] = strconv.Itoa(*u.RoleType)
	}
	if u.LastLoginAt != nil {
		a["last_login_at"] = formatTime(*u.LastLoginAt)
	}
	if u.ExternalID != nil && *u.ExternalID != "" {
		a["external_id"] = *u.ExternalID
	}
	if u.ownerKnown {
		a["owner"] = strconv.FormatBool(u.Owner)
	}
	return a
}

// Group is a Zendesk group as a resource ("group:<id>"). Attributes:
// default (the account's default group) and is_public.
type Group struct {
	zendesk.Group
}

// ID returns "group:<id>".
func (g *Group) ID() string { return access.ResourceID(TypeGroup, itoa(g.Group.ID)) }

// DisplayName returns the group's name.
func (g *Group) DisplayName() string { return g.Name }

// Attributes returns the group's attributes.
func (g *Group) Attributes() access.Attributes {
	return access.Attributes{"default": strconv.FormatBool(g.Default), "is_public": strconv.FormatBool(g.IsPublic)}
}

// Organization is a Zendesk organization as a resource
// ("organization:<id>"). Attributes: external_id (absent when null).
type Organization struct {
	zendesk.Organization
}

// ID returns "organization:<id>".
func (o *Organization) ID() string {
	return access.ResourceID(TypeOrganization, itoa(o.Organization.ID))
}

// DisplayName returns the organization's name.
func (o *Organization) DisplayName() string { return o.Name }

// Attributes returns the organization's attributes.
func (o *Organization) Attributes() access.Attributes {
	if o.ExternalID == nil || *o.ExternalID == "" {
		return nil
	}
	return access.Attributes{"external_id": *o.ExternalID}
}

// CustomRole is a Zendesk custom agent role as a resource
// ("custom_role:<id>"). Attributes: role_type.
type CustomRole struct {
	zendesk.CustomRole
}

// ID returns "custom_role:<id>".
func (r *CustomRole) ID() string { return access.ResourceID(TypeCustomRole, itoa(r.CustomRole.ID)) }

// DisplayName returns the role's name.
func (r *CustomRole) DisplayName() string { return r.Name }

// Attributes returns the role's attributes.
func (r *CustomRole) Attributes() access.Attributes {
	return access.Attributes{"role_type": strconv.Itoa(r.RoleType)}
}

// BuiltInRole is one of Zendesk's built-in roles as a resource:
// "role:end-user", "role:agent" or "role:admin".
type BuiltInRole zendesk.Role

// ID returns "role:<name>".
func (r BuiltInRole) ID() string { return access.ResourceID(TypeRole, string(r)) }

// DisplayName returns "End user", "Agent" or "Admin".
func (r BuiltInRole) DisplayName() string {
	switch zendesk.Role(r) {
	case zendesk.RoleEndUser:
		return "End user"
	case zendesk.RoleAgent:
		return "Agent"
	case zendesk.RoleAdmin:
		return "Admin"
	}
	return string(r)
}

// Attributes returns nil: built-in roles have none.
func (r BuiltInRole) Attributes() access.Attributes { return nil }

// builtInRoles lists the built-in roles, lowest first.
var builtInRoles = []zendesk.Role{zendesk.RoleEndUser, zendesk.RoleAgent, zendesk.RoleAdmin}

// Grant is a grant of this backend: GrantResult.Grant, RevokeResult.Grant,
// GrantResult.Replaced and GrantsFor hold *Grant values, which callers may
// type-assert to read the Zendesk ids.
//
// Attributes: every grant carries principal_suspended ("true" when the user
// is suspended, "false" otherwise); group and organization memberships also
// carry default ("true" for the user's default group or organization).
// Grants returned by Grant and Revoke carry what the call read.
type Grant struct {
	// EntitlementID is the entitlement held, e.g. "group:123:member".
	EntitlementID string
	// UserID is the Zendesk id of the user holding it.
	UserID int64
	// MembershipID is the id of the group or organization membership, when
	// known (0 for roles, and for organizations read from a user's
	// organization_id).
	MembershipID int64
	attrs        access.Attributes
}

// ID returns "<entitlement>@user:<id>".
func (g *Grant) ID() string { return access.GrantID(g.EntitlementID, userRID(g.UserID)) }

// DisplayName returns "".
func (g *Grant) DisplayName() string { return "" }

// Attributes returns the grant's attributes. The map may be shared with
// other grants: do not modify it.
func (g *Grant) Attributes() access.Attributes { return g.attrs }

// PrincipalID returns "user:<id>".
func (g *Grant) PrincipalID() string { return userRID(g.UserID) }

// grantAttrs holds the few attribute maps grants can have, shared by every
// grant of a backend: with 300,000 grants one map each would cost tens of
// megabytes. Nobody modifies them (access.Attributes are read-only to
// callers and to Sync).
type grantAttrs struct {
	plain      [2]access.Attributes    // [suspended]
	membership [2][2]access.Attributes // [suspended][default]
}

func newGrantAttrs() *grantAttrs {
	ga := &grantAttrs{}
	for s := range 2 {
		ga.plain[s] = access.Attributes{"principal_suspended": strconv.FormatBool(s == 1)}
		for d := range 2 {
			ga.membership[s][d] = access.Attributes{"principal_suspended": strconv.FormatBool(s == 1), "default": strconv.FormatBool(d == 1)}
		}
	}
	return ga
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// roleGrant returns a built-in or custom role grant.
func (ga *grantAttrs) roleGrant(entitlementID string, userID int64, suspended bool) *Grant {
	return &Grant{EntitlementID: entitlementID, UserID: userID, attrs: ga.plain[b2i(suspended)]}
}

// membershipGrant returns a group or organization membership grant.
func (ga *grantAttrs) membershipGrant(entitlementID string, userID, membershipID int64, suspended, isDefault bool) *Grant {
	return &Grant{EntitlementID: entitlementID, UserID: userID, MembershipID: membershipID,
		attrs: ga.membership[b2i(suspended)][b2i(isDefault)]}
}

// Entitlement IDs.

func userRID(id int64) string { return access.ResourceID(TypeUser, itoa(id)) }

func groupEID(id int64) string {
	return access.EntitlementID(access.ResourceID(TypeGroup, itoa(id)), SlugMember)
}

func orgEID(id int64) string {
	return access.EntitlementID(access.ResourceID(TypeOrganization, itoa(id)), SlugMember)
}

func customRoleEID(id int64) string {
	return access.EntitlementID(access.ResourceID(TypeCustomRole, itoa(id)), SlugAssigned)
}

func roleEID(r zendesk.Role) string {
	return access.EntitlementID(access.ResourceID(TypeRole, string(r)), SlugAssigned)
}

var toUsers = []string{TypeUser}

func groupEntitlement(g *zendesk.Group) access.EntitlementRecord {
	return access.NewEntitlement(groupEID(g.ID), "Member of "+g.Name, access.PurposeMembership, toUsers, nil)
}

func orgEntitlement(o *zendesk.Organization) access.EntitlementRecord {
	return access.NewEntitlement(orgEID(o.ID), "Member of "+o.Name, access.PurposeMembership, toUsers, nil)
}

func customRoleEntitlement(r *zendesk.CustomRole) access.EntitlementRecord {
	return access.NewEntitlement(customRoleEID(r.ID), "Custom role "+r.Name, access.PurposeAssignment, toUsers, nil)
}

func roleEntitlement(r zendesk.Role) access.EntitlementRecord {
	return access.NewEntitlement(roleEID(r), "Role "+BuiltInRole(r).DisplayName(), access.PurposeAssignment, toUsers, nil)
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
