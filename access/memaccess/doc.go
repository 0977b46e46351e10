// Package memaccess provides an in-memory access.Backend: for tests, for dry
// runs against a copy of a real system (FromSnapshot), and as the reference
// implementation of the access SPI, which it shows in a few hundred lines.
//
// A Backend is built from declared resource types and items (New), validated
// as access.Sync would. Grant and Revoke check entitlements, principals and
// GrantableTo, and are idempotent. PutResource, PutEntitlement, PutGrant and
// DeleteResource simulate changes made in the system between syncs.
//
// It passes the access/accesstest conformance suite.
package memaccess
