package zendesk

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Organization is a Zendesk organization.
type Organization struct {
	ID                 int64          `json:"id"`
	URL                string         `json:"url,omitempty"`
	Name               string         `json:"name"`
	ExternalID         *string        `json:"external_id"`
	DomainNames        []string       `json:"domain_names"`
	GroupID            *int64         `json:"group_id"`
	SharedTickets      bool           `json:"shared_tickets"`
	SharedComments     bool           `json:"shared_comments"`
	Details            *string        `json:"details"`
	Notes              *string        `json:"notes"`
	Tags               []string       `json:"tags"`
	OrganizationFields map[string]any `json:"organization_fields,omitempty"`
	CreatedAt          time.Time      `json:"created_at"`
	UpdatedAt          time.Time      `json:"updated_at"`
}

// CreateOrganizationRequest is the body of an organization creation. Optional fields
// are pointers so that false and empty values can be sent.
type CreateOrganizationRequest struct {
	// Name is required and must be unique in the account (Zendesk trims it).
	Name               string         `json:"name"`
	ExternalID         *string        `json:"external_id,omitempty"`
	DomainNames        []string       `json:"domain_names,omitempty"`
	GroupID            *int64         `json:"group_id,omitempty"`
	SharedTickets      *bool          `json:"shared_tickets,omitempty"`
	SharedComments     *bool          `json:"shared_comments,omitempty"`
	Details            *string        `json:"details,omitempty"`
	Notes              *string        `json:"notes,omitempty"`
	Tags               []string       `json:"tags,omitempty"`
	OrganizationFields map[string]any `json:"organization_fields,omitempty"`
}

// UpdateOrganizationRequest is the body of an organization update: only non-nil fields
// are sent. DomainNames and Tags replace the whole list, so they are pointers to slices:
// Ptr([]string{}) clears them, nil leaves them alone.
type UpdateOrganizationRequest struct {
	Name               *string        `json:"name,omitempty"`
	ExternalID         *string        `json:"external_id,omitempty"`
	DomainNames        *[]string      `json:"domain_names,omitempty"`
	GroupID            *NullableInt64 `json:"group_id,omitempty"`
	SharedTickets      *bool          `json:"shared_tickets,omitempty"`
	SharedComments     *bool          `json:"shared_comments,omitempty"`
	Details            *string        `json:"details,omitempty"`
	Notes              *string        `json:"notes,omitempty"`
	Tags               *[]string      `json:"tags,omitempty"`
	OrganizationFields map[string]any `json:"organization_fields,omitempty"`
}

// OrganizationsService reads and changes organizations.
type OrganizationsService service

type organizationBody struct {
	Organization *Organization `json:"organization"`
}

// List iterates over the account's organizations (cursor pagination). Zendesk answers
// 403 to agents whose role restricts them to their own organization.
func (s *OrganizationsService) List(ctx context.Context) iter.Seq2[Organization, error] {
	return listCursor[Organization](ctx, s.client, "organizations", nil, "organizations")
}

// Get returns one organization.
func (s *OrganizationsService) Get(ctx context.Context, id int64) (*Organization, *Response, error) {
	if err := checkID("organization id", id); err != nil {
		return nil, nil, fmt.Errorf("zendesk: get organization: %w", err)
	}
	var body organizationBody
	resp, err := s.client.call(ctx, http.MethodGet, "organizations/"+itoa(id), nil, nil, &body)
	return body.Organization, resp, err
}

// GetMany returns the organizations with the given ids (up to 100 per request; more ids
// are fetched in several requests). Ids that do not exist are absent from the result.
func (s *OrganizationsService) GetMany(ctx context.Context, ids []int64) ([]Organization, error) {
	if err := checkIDs("organization ids", ids); err != nil {
		return nil, fmt.Errorf("zendesk: get organizations: %w", err)
	}
	return showMany[Organization](ctx, s.client, "organizations/show_many", "ids", int64Strings(ids), "organizations")
}

// SearchByName returns the organizations whose name is exactly name, ignoring case
// (normally zero or one, since names are unique).
func (s *OrganizationsService) SearchByName(ctx context.Context, name string) ([]Organization, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("zendesk: search organizations: name is required")
	}
	return Collect(listOffset[Organization](ctx, s.client, "organizations/search", url.Values{"name": {name}}, "organizations"))
}

// SearchByExternalID returns the organizations whose external id is exactly externalID,
// ignoring case.
func (s *OrganizationsService) SearchByExternalID(ctx context.Context, externalID string) ([]Organization, error) {
	if externalID == "" {
		return nil, errors.New("zendesk: search organizations: external id is required")
	}
	return Collect(listOffset[Organization](ctx, s.client, "organizations/search", url.Values{"external_id": {externalID}}, "organizations"))
}

// Create creates an organization. Zendesk answers 422 (*APIError, ErrInvalid) when the
// name is taken.
func (s *OrganizationsService) Create(ctx context.Context, org *CreateOrganizationRequest) (*Organization, *Response, error) {
	if org == nil || strings.TrimSpace(org.Name) == "" {
		return nil, nil, errors.New("zendesk: create organization: name is required")
	}
	var body organizationBody
	resp, err := s.client.call(ctx, http.MethodPost, "organizations", nil, map[string]any{"organization": org}, &body)
	return body.Organization, resp, err
}

// Update changes the fields of update that are not nil.
func (s *OrganizationsService) Update(ctx context.Context, id int64, update *UpdateOrganizationRequest) (*Organization, *Response, error) {
	if err := checkID("organization id", id); err != nil {
		return nil, nil, fmt.Errorf("zendesk: update organization: %w", err)
	}
	if update == nil {
		return nil, nil, fmt.Errorf("zendesk: update organization %d: nothing to update", id)
	}
	if update.Name != nil && strings.TrimSpace(*update.Name) == "" {
		return nil, nil, fmt.Errorf("zendesk: update organization %d: name must not be blank", id)
	}
	var body organizationBody
	resp, err := s.client.call(ctx, http.MethodPut, "organizations/"+itoa(id), nil, map[string]any{"organization": update}, &body)
	return body.Organization, resp, err
}

// Delete deletes an organization and, with it, its memberships.
func (s *OrganizationsService) Delete(ctx context.Context, id int64) (*Response, error) {
	if err := checkID("organization id", id); err != nil {
		return nil, fmt.Errorf("zendesk: delete organization: %w", err)
	}
	return s.client.call(ctx, http.MethodDelete, "organizations/"+itoa(id), nil, nil, nil)
}
