package provision

import (
	"context"
	"errors"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/zendesk"
)

// JournalOutcomeOf returns the outcome of a grant or revoke from what
// access.System's Grant or Revoke returned: the Result's status, grant,
// added and replaced grants and note (the Result of a *access.PartialError
// if res is empty), and for an error its message, its class (see
// JournalErrorClass) and the request id of a Zendesk error in its chain.
// Callers add the request ids of successful calls when they have them.
func JournalOutcomeOf(res access.Result, err error) JournalOutcome {
	var pe *access.PartialError
	if err != nil && res.Status == "" && errors.As(err, &pe) {
		res = pe.Result
	}
	o := JournalOutcome{Status: string(res.Status), Note: res.Note}
	if !isNil(res.Grant) {
		o.GrantID = res.Grant.ID()
	}
	for _, g := range res.Added {
		if !isNil(g) {
			o.Added = append(o.Added, g.ID())
		}
	}
	for _, g := range res.Replaced {
		if !isNil(g) {
			o.Replaced = append(o.Replaced, g.ID())
		}
	}
	if err != nil {
		o.Error = err.Error()
		o.ErrorClass = JournalErrorClass(err)
		if id := zendeskRequestID(err); id != "" {
			o.RequestIDs = []string{id}
		}
	}
	return o
}

// zendeskRequestID returns the request id of the Zendesk error in err's
// chain, if any.
func zendeskRequestID(err error) string {
	var api *zendesk.APIError
	if errors.As(err, &api) {
		return api.RequestID
	}
	var dec *zendesk.DecodeError
	if errors.As(err, &dec) {
		return dec.RequestID
	}
	return ""
}

// JournalErrorClass classifies an error for JournalOutcome.ErrorClass by the
// sentinels and types in its chain, the first that matches in this order:
// "canceled", "deadline_exceeded", "malformed_id", "unknown_entitlement",
// "unknown_principal", "not_grantable", "unsupported", "bad_result",
// "rate_limited", "unauthorized", "forbidden", "not_found", "duplicate",
// "invalid", "host_not_found", "zendesk_api" (another Zendesk error
// answer), "zendesk_decode" (an answer that could not be read), and
// "error" for anything else; "" for nil.
func JournalErrorClass(err error) string {
	if err == nil {
		return ""
	}
	for _, c := range []struct {
		target error
		class  string
	}{
		{context.Canceled, "canceled"},
		{context.DeadlineExceeded, "deadline_exceeded"},
		{access.ErrMalformedID, "malformed_id"},
		{access.ErrUnknownEntitlement, "unknown_entitlement"},
		{access.ErrUnknownPrincipal, "unknown_principal"},
		{access.ErrNotGrantable, "not_grantable"},
		{access.ErrUnsupported, "unsupported"},
		{access.ErrBadResult, "bad_result"},
		{zendesk.ErrRateLimited, "rate_limited"},
		{zendesk.ErrUnauthorized, "unauthorized"},
		{zendesk.ErrForbidden, "forbidden"},
		{zendesk.ErrNotFound, "not_found"},
		{zendesk.ErrDuplicate, "duplicate"},
		{zendesk.ErrInvalid, "invalid"},
		{zendesk.ErrHostNotFound, "host_not_found"},
	} {
		if errors.Is(err, c.target) {
			return c.class
		}
	}
	var rl *zendesk.RateLimitError
	if errors.As(err, &rl) {
		return "rate_limited" // a 503 with Retry-After, which ErrRateLimited does not match
	}
	var api *zendesk.APIError
	if errors.As(err, &api) {
		return "zendesk_api"
	}
	var dec *zendesk.DecodeError
	if errors.As(err, &dec) {
		return "zendesk_decode"
	}
	return "error"
}
