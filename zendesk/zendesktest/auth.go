package zendesktest

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

type accessToken struct {
	userID  int64
	scope   string
	expires time.Time
}

type refreshToken struct {
	userID int64
	scope  string
}

type authState struct {
	mu      sync.Mutex
	access  map[string]accessToken
	refresh map[string]refreshToken
}

func (a *authState) init() {
	a.access = map[string]accessToken{}
	a.refresh = map[string]refreshToken{}
}

func secretEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// authenticate identifies the caller from an API token (Basic
// "email/token:TOKEN") or an OAuth bearer token.
func (s *Server) authenticate(c *call) *apiError {
	h := c.r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	var userID int64
	switch strings.ToLower(scheme) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err != nil {
			return errUnauthenticated()
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		email, isToken := strings.CutSuffix(user, "/token")
		if !ok || !isToken || !secretEqual(pass, s.creds.APIToken) {
			return errUnauthenticated() // password authentication is disabled
		}
		s.mu.RLock()
		p, found := s.st.byEmail[lower(email)]
		if found {
			userID = s.st.users[p].id
		}
		s.mu.RUnlock()
		if !found {
			return errUnauthenticated()
		}
		c.reader, c.writer = true, true
	case "bearer":
		tok := strings.TrimSpace(cred)
		s.auth.mu.Lock()
		at, found := s.auth.access[tok]
		s.auth.mu.Unlock()
		if !found || !s.now().Before(at.expires) {
			return errInvalidToken()
		}
		userID = at.userID
		c.reader, c.writer = scopeAllows(at.scope)
	default:
		return errUnauthenticated()
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.st.liveUserPos(userID)
	if p < 0 {
		return errUnauthenticated()
	}
	u := &s.st.users[p]
	// End users cannot use API tokens, and suspended users cannot sign in.
	if !u.role.isStaff() || u.suspended {
		return errUnauthenticated()
	}
	c.actor, c.role = u.id, u.role
	return nil
}

// scopeAllows interprets OAuth scopes: "read", "write", "RESOURCE:read",
// "RESOURCE:write". write implies read.
func scopeAllows(scope string) (read, write bool) {
	for _, f := range strings.Fields(scope) {
		switch {
		case f == "write" || strings.HasSuffix(f, ":write"):
			read, write = true, true
		case f == "read" || strings.HasSuffix(f, ":read"):
			read = true
		}
	}
	return read, write
}

// authorize applies the route's permission and the token's scope.
func (c *call) authorize(rt *route) *apiError {
	if rt.method == http.MethodGet {
		if !c.reader {
			return errForbidden()
		}
	} else if !c.writer {
		return errForbidden()
	}
	if rt.admin && !c.isAdmin() {
		return errForbidden()
	}
	return nil
}

// --- OAuth ---

func oauthError(status int, code, desc string) *apiError {
	return &apiError{status: status, code: code, desc: desc, oauth: true}
}

// handleOAuthToken is POST /oauth/tokens (client_credentials and refresh_token grants).
func (s *Server) handleOAuthToken(c *call) {
	params, e := oauthParams(c.r, c.body)
	if e != nil {
		c.fail(e)
		return
	}
	id, secret := params.Get("client_id"), params.Get("client_secret")
	if u, p, ok := c.r.BasicAuth(); ok && id == "" {
		id, secret = u, p
	}
	if !secretEqual(id, s.creds.OAuthClientID) || !secretEqual(secret, s.creds.OAuthClientSecret) {
		c.fail(oauthError(http.StatusUnauthorized, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."))
		return
	}
	var userID int64
	scope := params.Get("scope")
	switch params.Get("grant_type") {
	case "client_credentials":
		s.mu.RLock()
		userID = s.st.users[s.st.ownerPos].id
		s.mu.RUnlock()
		if scope == "" {
			scope = "read write"
		}
	case "refresh_token":
		rt := params.Get("refresh_token")
		s.auth.mu.Lock()
		old, ok := s.auth.refresh[rt]
		if ok {
			delete(s.auth.refresh, rt) // refresh tokens rotate
		}
		s.auth.mu.Unlock()
		if !ok {
			c.fail(oauthError(http.StatusBadRequest, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, or was issued to another client."))
			return
		}
		userID = old.userID
		if scope == "" {
			scope = old.scope
		}
	case "":
		c.fail(oauthError(http.StatusBadRequest, "invalid_request", "The request is missing a required parameter: grant_type."))
		return
	default:
		c.fail(oauthError(http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server."))
		return
	}
	if r, _ := scopeAllows(scope); !r {
		c.fail(oauthError(http.StatusBadRequest, "invalid_scope", "The requested scope is invalid, unknown, or malformed."))
		return
	}
	access, refresh, err := s.issue(userID, scope)
	if err != nil {
		c.fail(&apiError{status: http.StatusInternalServerError, code: "server_error", desc: err.Error(), oauth: true})
		return
	}
	body, _ := json.Marshal(map[string]any{
		"access_token":  access,
		"token_type":    "bearer",
		"scope":         scope,
		"expires_in":    int64(s.cfg.tokenTTL / time.Second),
		"refresh_token": refresh,
	})
	c.w.Header().Set("Cache-Control", "no-store")
	c.ok(http.StatusOK, body)
}

func oauthParams(r *http.Request, body []byte) (url.Values, *apiError) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, oauthError(http.StatusBadRequest, "invalid_request", "The request body is not valid JSON.")
		}
		v := url.Values{}
		for k, x := range m {
			switch t := x.(type) {
			case string:
				v.Set(k, t)
			case nil:
			default:
				v.Set(k, fmt.Sprint(t))
			}
		}
		return v, nil
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, oauthError(http.StatusBadRequest, "invalid_request", "The request body is not a valid form.")
	}
	return v, nil
}

func (s *Server) issue(userID int64, scope string) (string, string, error) {
	access, err := randomHex(32)
	if err != nil {
		return "", "", err
	}
	refresh, err := randomHex(32)
	if err != nil {
		return "", "", err
	}
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	s.auth.access[access] = accessToken{userID: userID, scope: scope, expires: s.now().Add(s.cfg.tokenTTL)}
	s.auth.refresh[refresh] = refreshToken{userID: userID, scope: scope}
	return access, refresh, nil
}

// IssueAccessToken returns an OAuth access token acting as the live agent or
// admin with the given email, as if that user had authorised an OAuth app.
// scope defaults to "read write".
func (s *Server) IssueAccessToken(email, scope string) (string, error) {
	s.mu.RLock()
	p, ok := s.st.byEmail[lower(email)]
	var id int64
	staff := false
	if ok {
		id, staff = s.st.users[p].id, s.st.users[p].role.isStaff()
	}
	s.mu.RUnlock()
	if !ok || !staff {
		return "", fmt.Errorf("zendesktest: IssueAccessToken: no agent or admin with email %q", email)
	}
	if scope == "" {
		scope = "read write"
	}
	access, _, err := s.issue(id, scope)
	return access, err
}

// ExpireTokens makes every OAuth access token issued so far invalid (refresh
// tokens stay valid), as if they had all reached their expiry.
func (s *Server) ExpireTokens() {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	clear(s.auth.access)
}
