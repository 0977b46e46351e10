package zendesktest

import "time"

// Role is a Zendesk built-in role.
type Role string

// The built-in roles.
const (
	RoleEndUser Role = "end-user"
	RoleAgent   Role = "agent"
	RoleAdmin   Role = "admin"
)

func (r Role) valid() bool { return r == RoleEndUser || r == RoleAgent || r == RoleAdmin }

// isStaff reports whether the role may use the API and belong to groups.
func (r Role) isStaff() bool { return r == RoleAgent || r == RoleAdmin }

// User is a copy of a simulated user. Zero IDs mean null.
type User struct {
	ID             int64
	Name           string
	Email          string
	ExternalID     string // "" means null
	Role           Role
	RoleType       *int // nil for end-users and agents without a custom role, 4 for admins
	CustomRoleID   int64
	OrganizationID int64 // the default organization
	DefaultGroupID int64
	Active         bool // false once soft-deleted
	Suspended      bool
	// PermanentlyDeleted is true once the user was purged through /deleted_users.
	PermanentlyDeleted bool
	// Owner is true for the account owner, who cannot be deleted, suspended or downgraded.
	Owner       bool
	Tags        []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	LastLoginAt time.Time // zero means null
}

// UserSpec describes a user to add with Server.AddUser.
type UserSpec struct {
	Name         string
	Email        string
	Role         Role // default RoleEndUser
	ExternalID   string
	CustomRoleID int64
	Suspended    bool
	Tags         []string
}

// Group is a copy of a simulated group.
type Group struct {
	ID          int64
	Name        string
	Description string
	Default     bool
	Deleted     bool
	IsPublic    bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Organization is a copy of a simulated organization.
type Organization struct {
	ID         int64
	Name       string
	ExternalID string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// CustomRole is a copy of a simulated custom agent role.
type CustomRole struct {
	ID              int64
	Name            string
	Description     string
	RoleType        int // 0 custom agent, 1 light agent, 2 chat agent, 3 contributor, 4 admin, 5 billing admin
	TeamMemberCount int
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// GroupMembership is a copy of a simulated group membership.
type GroupMembership struct {
	ID        int64
	UserID    int64
	GroupID   int64
	Default   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OrganizationMembership is a copy of a simulated organization membership.
type OrganizationMembership struct {
	ID             int64
	UserID         int64
	OrganizationID int64
	Default        bool // serialised as true or null, as Zendesk does
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// AccountCounts summarises the account's live records.
type AccountCounts struct {
	EndUsers, Agents, Admins int
	Suspended                int // live users with suspended=true
	SoftDeletedUsers         int // in /deleted_users, not yet purged
	PermanentlyDeletedUsers  int
	SeatsUsed                int
	Groups                   int // not deleted
	Organizations            int
	CustomRoles              int
	GroupMemberships         int
	OrganizationMemberships  int
	Jobs                     int
}

// Internal compact records. Times are Unix seconds; zero ids mean null.

type userState uint8

const (
	userLive userState = iota
	userSoftDeleted
	userPurged
)

type userRec struct {
	id             int64
	name           string
	email          string
	externalID     string
	tags           []string
	customRoleID   int64
	orgID          int64
	defaultGroupID int64
	createdAt      int64
	updatedAt      int64
	lastLoginAt    int64
	changeIdx      int32
	role           Role
	state          userState
	suspended      bool
	owner          bool
}

type groupRec struct {
	id          int64
	name        string
	description string
	createdAt   int64
	updatedAt   int64
	isDefault   bool
	deleted     bool
	isPublic    bool
}

type orgRec struct {
	id         int64
	name       string
	externalID string
	createdAt  int64
	updatedAt  int64
	deleted    bool
	details    string
	notes      string
	tags       []string
	domains    []string
}

type roleRec struct {
	id          int64
	name        string
	description string
	roleType    int
	createdAt   int64
	updatedAt   int64
	conf        roleConfig
	members     int
}

// membership is what group and organization memberships have in common;
// see membership.go for the bookkeeping they share.
type membership struct {
	id        int64
	userID    int64
	createdAt int64
	updatedAt int64
	isDefault bool
	gone      bool
}

type gmRec struct {
	membership
	groupID int64
}

type omRec struct {
	membership
	orgID int64
}

func unixTime(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}
