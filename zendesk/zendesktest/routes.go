package zendesktest

import (
	"net/http"
	"strings"
)

// route is one endpoint. Patterns are relative to /api/v2 and use {id} for
// path parameters.
type route struct {
	method      string
	pattern     string
	segs        []string
	h           func(*call)
	admin       bool // admins only (agents get 403)
	incremental bool // own rate-limit bucket
	oauth       bool // POST /oauth/tokens: no API auth, no rate limit
	strIDs      bool // path parameters are strings (job status ids)
}

func (s *Server) routes() []*route {
	type r = route
	const admin = true
	list := []*r{
		{method: "GET", pattern: "/users", h: handleListUsers},
		{method: "POST", pattern: "/users", h: handleCreateUser},
		{method: "GET", pattern: "/users/count", h: handleCountUsers},
		{method: "GET", pattern: "/users/me", h: handleShowMe},
		{method: "GET", pattern: "/users/search", h: handleSearchUsers},
		{method: "GET", pattern: "/users/show_many", h: handleShowManyUsers},
		{method: "POST", pattern: "/users/create_or_update", h: handleCreateOrUpdateUser},
		{method: "POST", pattern: "/users/create_many", h: handleCreateManyUsers},
		{method: "POST", pattern: "/users/create_or_update_many", h: handleCreateOrUpdateManyUsers},
		{method: "PUT", pattern: "/users/update_many", h: handleUpdateManyUsers},
		{method: "GET", pattern: "/users/{id}", h: handleShowUser},
		{method: "PUT", pattern: "/users/{id}", h: handleUpdateUser},
		{method: "DELETE", pattern: "/users/{id}", h: handleDeleteUser, admin: admin},
		{method: "GET", pattern: "/deleted_users", h: handleListDeletedUsers},
		{method: "GET", pattern: "/deleted_users/count", h: handleCountDeletedUsers},
		{method: "GET", pattern: "/deleted_users/{id}", h: handleShowDeletedUser},
		{method: "DELETE", pattern: "/deleted_users/{id}", h: handlePurgeUser, admin: admin},
		{method: "GET", pattern: "/incremental/users/cursor", h: handleIncrementalUsers, admin: admin, incremental: true},

		{method: "GET", pattern: "/groups", h: handleListGroups},
		{method: "POST", pattern: "/groups", h: handleCreateGroup, admin: admin},
		{method: "GET", pattern: "/groups/count", h: handleCountGroups},
		{method: "GET", pattern: "/groups/{id}", h: handleShowGroup},
		{method: "PUT", pattern: "/groups/{id}", h: handleUpdateGroup, admin: admin},
		{method: "DELETE", pattern: "/groups/{id}", h: handleDeleteGroup, admin: admin},
		{method: "GET", pattern: "/groups/{id}/memberships", h: handleListGroupMembershipsByGroup},
		{method: "GET", pattern: "/groups/{id}/memberships/assignable", h: handleListAssignableGroupMembershipsByGroup},
		{method: "GET", pattern: "/groups/{id}/users", h: handleListGroupUsers},
		{method: "GET", pattern: "/groups/{id}/users/count", h: handleCountGroupUsers},
		{method: "GET", pattern: "/users/{id}/groups", h: handleListUserGroups},
		{method: "GET", pattern: "/users/{id}/groups/count", h: handleCountUserGroups},

		{method: "GET", pattern: "/group_memberships", h: handleListGroupMemberships},
		{method: "GET", pattern: "/group_memberships/assignable", h: handleListAssignableGroupMemberships},
		{method: "POST", pattern: "/group_memberships", h: handleCreateGroupMembership, admin: admin},
		{method: "POST", pattern: "/group_memberships/create_many", h: handleCreateManyGroupMemberships, admin: admin},
		{method: "DELETE", pattern: "/group_memberships/destroy_many", h: handleDestroyManyGroupMemberships, admin: admin},
		{method: "GET", pattern: "/group_memberships/{id}", h: handleShowGroupMembership},
		{method: "DELETE", pattern: "/group_memberships/{id}", h: handleDeleteGroupMembership, admin: admin},
		{method: "GET", pattern: "/users/{id}/group_memberships", h: handleListGroupMembershipsByUser},
		{method: "POST", pattern: "/users/{id}/group_memberships", h: handleCreateGroupMembership, admin: admin},
		{method: "GET", pattern: "/users/{id}/group_memberships/{id}", h: handleShowGroupMembership},
		{method: "DELETE", pattern: "/users/{id}/group_memberships/{id}", h: handleDeleteGroupMembership, admin: admin},
		{method: "PUT", pattern: "/users/{id}/group_memberships/{id}/make_default", h: handleMakeDefaultGroupMembership, admin: admin},

		{method: "GET", pattern: "/organizations", h: handleListOrganizations},
		{method: "POST", pattern: "/organizations", h: handleCreateOrganization, admin: admin},
		{method: "GET", pattern: "/organizations/count", h: handleCountOrganizations},
		{method: "GET", pattern: "/organizations/show_many", h: handleShowManyOrganizations},
		{method: "GET", pattern: "/organizations/{id}", h: handleShowOrganization},
		{method: "PUT", pattern: "/organizations/{id}", h: handleUpdateOrganization, admin: admin},
		{method: "DELETE", pattern: "/organizations/{id}", h: handleDeleteOrganization, admin: admin},
		{method: "GET", pattern: "/organizations/{id}/organization_memberships", h: handleListOrgMembershipsByOrg},
		{method: "GET", pattern: "/organizations/{id}/users", h: handleListOrganizationUsers},
		{method: "GET", pattern: "/organizations/{id}/users/count", h: handleCountOrganizationUsers},
		{method: "GET", pattern: "/users/{id}/organizations", h: handleListUserOrganizations},
		{method: "GET", pattern: "/users/{id}/organizations/count", h: handleCountUserOrganizations},

		{method: "GET", pattern: "/organization_memberships", h: handleListOrgMemberships},
		{method: "POST", pattern: "/organization_memberships", h: handleCreateOrgMembership},
		{method: "POST", pattern: "/organization_memberships/create_many", h: handleCreateManyOrgMemberships, admin: admin},
		{method: "DELETE", pattern: "/organization_memberships/destroy_many", h: handleDestroyManyOrgMemberships, admin: admin},
		{method: "GET", pattern: "/organization_memberships/{id}", h: handleShowOrgMembership},
		{method: "DELETE", pattern: "/organization_memberships/{id}", h: handleDeleteOrgMembership},
		{method: "GET", pattern: "/users/{id}/organization_memberships", h: handleListOrgMembershipsByUser},
		{method: "POST", pattern: "/users/{id}/organization_memberships", h: handleCreateOrgMembership},
		{method: "GET", pattern: "/users/{id}/organization_memberships/{id}", h: handleShowOrgMembership},
		{method: "DELETE", pattern: "/users/{id}/organization_memberships/{id}", h: handleDeleteOrgMembership},
		{method: "PUT", pattern: "/users/{id}/organization_memberships/{id}/make_default", h: handleMakeDefaultOrgMembership},
		{method: "DELETE", pattern: "/users/{id}/organizations/{id}", h: handleUnassignOrganization},
		{method: "PUT", pattern: "/users/{id}/organizations/{id}/make_default", h: handleMakeDefaultOrganization},

		{method: "GET", pattern: "/job_statuses", h: handleListJobStatuses},
		{method: "GET", pattern: "/job_statuses/show_many", h: handleShowManyJobStatuses},
		{method: "GET", pattern: "/job_statuses/{id}", h: handleShowJobStatus, strIDs: true},

		{method: "GET", pattern: "/custom_roles", h: handleListCustomRoles},
		{method: "GET", pattern: "/custom_roles/{id}", h: handleShowCustomRole},

		{method: "GET", pattern: "/account/settings", h: handleShowAccountSettings},
		{method: "PUT", pattern: "/account/settings", h: handleUpdateAccountSettings, admin: admin},
	}
	for _, rt := range list {
		rt.segs = strings.Split(strings.TrimPrefix(rt.pattern, "/"), "/")
	}
	return list
}

var oauthRoute = &route{method: http.MethodPost, pattern: "/oauth/tokens", oauth: true}

// match finds the route for a path. When the path matches a pattern but not
// with this method, it returns that route with methodOK false.
func (s *Server) match(method, path string) (*route, []string, bool) {
	if path == "/oauth/tokens" || path == "/oauth/tokens.json" {
		return oauthRoute, nil, method == http.MethodPost
	}
	rest, ok := strings.CutPrefix(path, "/api/v2/")
	if !ok {
		return nil, nil, false
	}
	rest = strings.TrimSuffix(strings.TrimSuffix(rest, "/"), ".json")
	segs := strings.Split(rest, "/")
	var best []*route
	bestScore := -1
	for _, rt := range s.routeTable() {
		if len(rt.segs) != len(segs) {
			continue
		}
		score := 0
		matched := true
		for i, p := range rt.segs {
			if p == "{id}" {
				if segs[i] == "" {
					matched = false
					break
				}
				continue
			}
			if p != segs[i] {
				matched = false
				break
			}
			score++
		}
		if !matched {
			continue
		}
		switch {
		case score > bestScore:
			best, bestScore = []*route{rt}, score
		case score == bestScore && rt.pattern == best[0].pattern:
			best = append(best, rt)
		}
	}
	if len(best) == 0 {
		return nil, nil, false
	}
	var params []string
	for i, p := range best[0].segs {
		if p == "{id}" {
			params = append(params, segs[i])
		}
	}
	for _, rt := range best {
		if rt.method == method {
			return rt, params, true
		}
	}
	return best[0], params, false
}

func routeKey(method string, rt *route, methodOK bool) string {
	if rt == nil {
		return method + " (unknown)"
	}
	if rt.oauth {
		return method + " /oauth/tokens"
	}
	return method + " /api/v2" + rt.pattern
}
