package zendesk

// AccountSettings holds the account settings identity governance depends on.
type AccountSettings struct {
	User UserSettings `json:"user"`
}

// UserSettings is the "user" section of the account settings.
type UserSettings struct {
	// MultipleOrganizations reports whether users may belong to more than one
	// organization. Without it, adding a user to a second organization moves them.
	MultipleOrganizations bool `json:"multiple_organizations"`
	Tagging               bool `json:"tagging"`
}

// AccountService reads account settings.
type AccountService service
