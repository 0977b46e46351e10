package zendesk

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
)

// AccountSettings holds the account settings identity governance depends on. Raw keeps
// the whole "settings" object for the many settings this type does not model.
type AccountSettings struct {
	User UserSettings `json:"user"`
	// Raw is the "settings" object as Zendesk sent it, e.g. for
	// json.Unmarshal(settings.Raw, &struct{ Brands struct{...} `json:"brands"` }{}).
	Raw json.RawMessage `json:"-"`
}

// UserSettings is the "user" section of the account settings.
type UserSettings struct {
	// MultipleOrganizations reports whether users may belong to more than one
	// organization (Professional plans and above). Without it a user has one
	// organization, and adding them to another appears to move them (not documented by
	// Zendesk).
	MultipleOrganizations bool `json:"multiple_organizations"`
	// Tagging reports whether users can be tagged.
	Tagging bool `json:"tagging"`
}

// AccountService reads account settings.
type AccountService service

// Settings returns the account's settings (any agent may read them).
func (s *AccountService) Settings(ctx context.Context) (*AccountSettings, *Response, error) {
	var body struct {
		Settings json.RawMessage `json:"settings"`
	}
	// The path comes from req: resp.Request is not guaranteed by every RoundTripper.
	req, err := s.client.newRequest(ctx, http.MethodGet, "account/settings", nil, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := s.client.do(req, &body)
	if err != nil {
		return nil, resp, err
	}
	if len(body.Settings) == 0 || string(body.Settings) == "null" {
		return nil, resp, &DecodeError{Method: req.Method, Path: req.URL.Path, StatusCode: resp.StatusCode, RequestID: resp.RequestID, Err: errors.New("no settings object")}
	}
	var settings AccountSettings
	if err := json.Unmarshal(body.Settings, &settings); err != nil {
		return nil, resp, &DecodeError{Method: req.Method, Path: req.URL.Path, StatusCode: resp.StatusCode, RequestID: resp.RequestID, Err: err}
	}
	settings.Raw = body.Settings
	return &settings, resp, nil
}
