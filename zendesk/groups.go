package zendesk

import "time"

// Group is a Zendesk group of agents.
type Group struct {
	ID          int64     `json:"id"`
	URL         string    `json:"url,omitempty"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Default     bool      `json:"default"`
	Deleted     bool      `json:"deleted"`
	IsPublic    bool      `json:"is_public"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// GroupsService reads and changes groups.
type GroupsService service
