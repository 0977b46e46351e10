package zendesk

import "time"

// GroupMembership places an agent in a group. Its ID is the membership's own id, which
// is what Delete and MakeDefault take.
type GroupMembership struct {
	ID        int64     `json:"id"`
	URL       string    `json:"url,omitempty"`
	UserID    int64     `json:"user_id"`
	GroupID   int64     `json:"group_id"`
	Default   bool      `json:"default"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// GroupMembershipsService reads and changes group memberships.
type GroupMembershipsService service
