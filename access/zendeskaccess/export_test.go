package zendeskaccess

// ReadUsersOnly makes b's RevokeMany find memberships only by reading each
// affected user, as it did before it could list a group's memberships.
func ReadUsersOnly(b *Backend) { b.readUsersOnly = true }
