package zendesktest

import (
	"net/http"
	"strconv"
)

// apiError is an error answer in one of Zendesk's shapes.
type apiError struct {
	status  int
	code    string // the "error" member
	desc    string // the "description" member; omitted when ""
	field   string // details key, when the error is about one field
	detail  string // details[field][0].error
	ddesc   string // details[field][0].description
	oauth   bool   // {"error","error_description"} shape
	jsonAPI bool   // {"errors":[{"code","title"}]} shape: code and desc
	retryIn int    // Retry-After seconds, when > 0
}

func (e *apiError) Error() string { return strconv.Itoa(e.status) + " " + e.code + ": " + e.desc }

func (e *apiError) body() []byte {
	var w jw
	w.open()
	if e.jsonAPI {
		w.key("errors")
		w.openArray()
		w.elem()
		w.open()
		w.str("code", e.code)
		w.str("title", e.desc)
		w.close()
		w.closeArray()
		w.close()
		return w.b
	}
	w.str("error", e.code)
	if e.oauth {
		w.str("error_description", e.desc)
	} else if e.desc != "" {
		w.str("description", e.desc)
	}
	if e.field != "" {
		w.key("details")
		w.open()
		w.key(e.field)
		w.openArray()
		w.elem()
		w.open()
		w.str("description", e.ddesc)
		w.str("error", e.detail)
		w.close()
		w.closeArray()
		w.close()
	}
	w.close()
	return w.b
}

const forbiddenDescription = "You do not have access to this page. Please contact the account owner of this help desk for further help."

func errNotFound() *apiError {
	return &apiError{status: http.StatusNotFound, code: "RecordNotFound", desc: "Not found"}
}

func errInvalidEndpoint() *apiError {
	return &apiError{status: http.StatusNotFound, code: "InvalidEndpoint", desc: "Not found"}
}

func errMethodNotAllowed() *apiError {
	return &apiError{status: http.StatusMethodNotAllowed, code: "MethodNotAllowed", desc: "Method not allowed for this endpoint"}
}

func errForbidden() *apiError {
	return &apiError{status: http.StatusForbidden, code: "Forbidden", desc: forbiddenDescription}
}

func errForbiddenBecause(desc string) *apiError {
	return &apiError{status: http.StatusForbidden, code: "Forbidden", desc: desc}
}

func errUnauthenticated() *apiError {
	return &apiError{status: http.StatusUnauthorized, code: "Couldn't authenticate you"}
}

func errInvalidToken() *apiError {
	return &apiError{status: http.StatusUnauthorized, code: "invalid_token", oauth: true,
		desc: "The access token provided is expired, revoked, malformed or invalid for other reasons."}
}

func errBadRequest(code, desc string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, desc: desc}
}

func errPagination(desc string) *apiError {
	return errBadRequest("InvalidPaginationParameter", desc)
}

// errInvalid is a 422 RecordInvalid about one field.
func errInvalid(field, detailCode, detailDesc string) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, code: "RecordInvalid", desc: "Record validation errors",
		field: field, detail: detailCode, ddesc: detailDesc}
}

func errRateLimited(desc string, retryIn int) *apiError {
	return &apiError{status: http.StatusTooManyRequests, code: "APIRateLimitExceeded", desc: desc, retryIn: retryIn}
}

// errUserUpdateLimited is the 429 of the per-user update limit, in the shape
// Zendesk documents for its per-record update limits (Update Organization's
// 429 in the OpenAPI document; Zendesk introduced that limit "in alignment"
// with the one on users, whose answer it does not document).
func errUserUpdateLimited(retryIn int) *apiError {
	return &apiError{status: http.StatusTooManyRequests, code: "TooManyRequests", desc: "Too many requests to update",
		jsonAPI: true, retryIn: retryIn}
}
