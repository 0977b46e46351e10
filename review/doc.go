// Package review runs user access reviews of a system that package access
// reads (Zendesk, through access/zendeskaccess): campaigns over a snapshot,
// reviewers, decisions, remediation through package provision, and the
// evidence an auditor tests.
//
// Work in progress: see the package's files for the API as it stands.
package review
