package provision

import (
	"context"
	"errors"

	"github.com/zgov-io/zgov/access"
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
		if id := requestID(err); id != "" {
			o.RequestIDs = []string{id}
		}
	}
	return o
}

// requestID returns the id the system gave the failed request, from the
// first access.TracedError in err's chain, if any.
func requestID(err error) string {
	var t access.TracedError
	if errors.As(err, &t) {
		return t.TraceID()
	}
	return ""
}

// JournalErrorClass classifies an error for JournalOutcome.ErrorClass by the
// sentinels in its chain, the first that matches in this order:
// "canceled", "deadline_exceeded", "malformed_id", "unknown_entitlement",
// "unknown_principal", "not_grantable", "unsupported", "bad_result"; then by
// the class of the first access.ClassifiedError in the chain (Zendesk's:
// "rate_limited", "unauthorized", "forbidden", "not_found", "duplicate",
// "invalid", "zendesk_api", "zendesk_decode"); and "error" for anything
// else; "" for nil.
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
	} {
		if errors.Is(err, c.target) {
			return c.class
		}
	}
	var ce access.ClassifiedError
	if errors.As(err, &ce) {
		if class := ce.ErrorClass(); class != "" {
			return class
		}
	}
	return "error"
}
