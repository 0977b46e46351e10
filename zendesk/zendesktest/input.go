package zendesktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

const maxBodyBytes = 4 << 20

// object is a decoded JSON object whose members are read one by one, so
// absent, null and present values can be told apart.
type object map[string]json.RawMessage

// readBody reads a size-capped request body.
func readBody(r *http.Request) ([]byte, *apiError) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, errBadRequest("InvalidRequest", "could not read the request body")
	}
	if len(b) > maxBodyBytes {
		return nil, &apiError{status: http.StatusRequestEntityTooLarge, code: "RequestTooLarge", desc: "request body too large"}
	}
	return b, nil
}

// decodeObject parses body as a JSON object.
func decodeObject(body []byte) (object, *apiError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errBadRequest("InvalidJSON", "request body is empty; expected a JSON object")
	}
	var o object
	if err := json.Unmarshal(body, &o); err != nil {
		return nil, errBadRequest("InvalidJSON", "request body is not a valid JSON object: "+jsonErrText(err))
	}
	if o == nil {
		return nil, errBadRequest("InvalidJSON", "request body must be a JSON object, not null")
	}
	return o, nil
}

func jsonErrText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "expected " + te.Type.String() + ", got " + te.Value
	}
	return "malformed JSON"
}

// member returns the object member name, which must itself be an object.
func (o object) member(name string) (object, *apiError) {
	raw, ok := o[name]
	if !ok || isNull(raw) {
		return nil, errBadRequest("InvalidJSON", fmt.Sprintf("request body must have a %q object", name))
	}
	var m object
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errBadRequest("InvalidJSON", fmt.Sprintf("%q must be a JSON object", name))
	}
	return m, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

type optStr struct {
	set, null bool
	v         string
}

type optInt struct {
	set, null bool
	v         int64
}

type optBool struct {
	set bool
	v   bool
}

func invalidType(field, want string) *apiError {
	return errInvalid(field, "InvalidValue", fmt.Sprintf("%s: must be %s", fieldLabel(field), want))
}

func fieldLabel(f string) string {
	f = strings.TrimSuffix(f, "_id")
	f = strings.ReplaceAll(f, "_", " ")
	if f == "" {
		return f
	}
	return strings.ToUpper(f[:1]) + f[1:]
}

func (o object) str(name string) (optStr, *apiError) {
	raw, ok := o[name]
	if !ok {
		return optStr{}, nil
	}
	if isNull(raw) {
		return optStr{set: true, null: true}, nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return optStr{}, invalidType(name, "a string")
	}
	return optStr{set: true, v: v}, nil
}

// id reads an integer id; numeric strings are accepted as Zendesk does.
func (o object) id(name string) (optInt, *apiError) {
	raw, ok := o[name]
	if !ok {
		return optInt{}, nil
	}
	if isNull(raw) {
		return optInt{set: true, null: true}, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return optInt{}, invalidType(name, "an integer")
		}
		n = json.Number(s)
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || v < 0 {
		return optInt{}, invalidType(name, "a positive integer")
	}
	return optInt{set: true, v: v}, nil
}

func (o object) boolean(name string) (optBool, *apiError) {
	raw, ok := o[name]
	if !ok || isNull(raw) {
		return optBool{}, nil
	}
	var v bool
	if err := json.Unmarshal(raw, &v); err != nil {
		return optBool{}, invalidType(name, "true or false")
	}
	return optBool{set: true, v: v}, nil
}

func (o object) strings(name string) ([]string, bool, *apiError) {
	raw, ok := o[name]
	if !ok {
		return nil, false, nil
	}
	if isNull(raw) {
		return []string{}, true, nil
	}
	var v []string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, false, invalidType(name, "an array of strings")
	}
	return v, true, nil
}

// parseIDList parses "1,2,3" (the ids= query parameter).
// idsParam reads the ids query parameter: ids separated by commas, as
// Zendesk documents (ids=1,2,3). The spec describes the ids of
// DELETE /organization_memberships/destroy_many as a repeated parameter
// (ids=1&ids=2), which Zendesk's documentation does not; rather than act on
// one of several ids silently, the simulator refuses a repeated ids with 400.
func (c *call) idsParam(max int) ([]int64, *apiError) {
	if len(c.q["ids"]) > 1 {
		return nil, errBadRequest("InvalidValue", "ids: give the ids once, separated by commas (ids=1,2,3), not as repeated ids parameters")
	}
	return parseIDList(c.query("ids"), max)
}

func parseIDList(s string, max int) ([]int64, *apiError) {
	if strings.TrimSpace(s) == "" {
		return nil, errBadRequest("InvalidValue", "ids: must list at least one id")
	}
	parts := strings.Split(s, ",")
	if len(parts) > max {
		return nil, errBadRequest("TooManyValues", fmt.Sprintf("ids: at most %d ids are allowed", max))
	}
	ids := make([]int64, 0, len(parts))
	for _, p := range parts {
		v, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		if err != nil || v <= 0 {
			return nil, errBadRequest("InvalidValue", fmt.Sprintf("ids: %q is not an id", p))
		}
		ids = append(ids, v)
	}
	return ids, nil
}
