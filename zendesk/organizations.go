package zendesk

import "time"

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

// OrganizationsService reads and changes organizations.
type OrganizationsService service
