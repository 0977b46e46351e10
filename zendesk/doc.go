// Package zendesk is a typed, rate-limited, OAuth-ready client for the parts of the
// Zendesk Support API that identity governance uses: users, groups, organizations,
// their memberships, custom roles, bulk job statuses and account settings. It knows
// nothing of governance; package access and its Zendesk backend build on it.
//
// # Creating a client
//
//	c, err := zendesk.NewClient("acme",
//		zendesk.WithOAuthClientCredentials(clientID, clientSecret, "read", "write"))
//
// (The package's Example runs this code against the simulator in package zendesktest,
// which WithBaseURL points the client at.)
//
// Exactly one way of authenticating is required: WithOAuthClientCredentials,
// WithOAuthRefreshToken, WithTokenSource, WithOAuthToken, or WithAPIToken (Zendesk stops
// accepting API tokens on 2027-04-30). OAuth tokens are fetched once for all concurrent
// callers, renewed before they expire, and renewed once more, with the request replayed
// once, when Zendesk answers 401 invalid_token. Credentials never appear in logs,
// errors, or any fmt rendering of a Client.
//
// # Services and lists
//
// Each API area is a service on the client, with one method shape:
//
//	u, resp, err := c.Users.Get(ctx, 42)
//
// Lists are iterators over cursor pagination (page[size]=100), stopping at the first
// error or when ctx ends:
//
//	for u, err := range c.Users.List(ctx, &zendesk.UserListOptions{Roles: []zendesk.Role{zendesk.RoleAgent}}) {
//		if err != nil {
//			log.Fatal(err)
//		}
//		fmt.Println(u.Name)
//	}
//
// Request bodies (CreateUserRequest, UpdateUserRequest, ...) are separate from the
// response models and use pointers for optional fields, so false and null can be sent.
//
// # Rate limits and retries
//
// Requests pass, outermost first, through a retry layer (hashicorp/go-retryablehttp), a
// token-bucket limiter (golang.org/x/time/rate), authentication, and the base transport.
// The limiter starts at WithRateLimit (or 200 requests a minute), adopts the limit
// Zendesk advertises in X-Rate-Limit / ratelimit-limit (never above a configured cap),
// and slows to what remains over the reset window when X-Rate-Limit-Remaining runs
// below a tenth of the limit. Incremental exports have a bucket of their own (10 a
// minute). Client.RateLimit reports the state; WithLimiter plugs in a shared limiter.
//
// Zendesk also limits the updates of one user (five a minute per user). The client
// paces them (WithUserUpdateLimit): the sixth Users.Update, Suspend or Unsuspend of
// a user within a minute waits, in its call, until a minute after the answer to the
// first, so that a run of changes to one person (a deprovisioning) does not collect
// 429s; updates of different users never wait for each other. A 429 from that limit
// (another process updating the same user) is retried after its Retry-After and does
// not slow the account's bucket.
//
// 429 and 503 answers are retried after their Retry-After (delay-seconds or an
// HTTP-date, the two forms RFC 9110 allows; any other value counts as absent), unless
// it exceeds WithRetryAfterCap: then the call fails at once, instead of sleeping, with a
// *RateLimitError whose RetryAfter is the wait Zendesk asked for. Other 5xx answers
// (but 501), 409 conflicts and transport failures, including a body cut off mid-read,
// are retried with jittered exponential backoff for requests whose repetition is safe:
// GET, PUT, DELETE, and POSTs that are idempotent (create_or_update,
// create_or_update_many) or whose repetition is detectable (a duplicate membership
// answers 422 DuplicateValue). Other POSTs, such as Users.CreateMany, are not: a
// repeat could create users twice. A host that does not resolve (DNS answers that the
// name does not exist) is not retried.
//
// # Bulk jobs
//
// Many changes of one kind go through Zendesk's bulk endpoints, up to MaxBulkItems
// items a call: GroupMemberships and OrganizationMemberships.CreateMany and
// DestroyMany, Users.CreateMany, CreateOrUpdateMany, UpdateMany (a different update
// per user) and UpdateManyByIDs (the same update for several users). Each call
// answers at once with a queued *JobStatus; JobStatuses.Wait polls it until it ends
// and returns, beside the final status, a *JobError listing the items that failed.
// Each JobResult says what happened to one item: its ID, Index, Status (Created,
// Updated, Deleted) or Error and Details; JobResult.Failed tells them apart.
// Zendesk runs a limited number of an account's jobs at once (30, by third-party
// accounts) and answers 429 past it. It ships accounts with bulk user imports
// (Users.CreateMany and CreateOrUpdateMany) disabled: they answer 403 (ErrForbidden)
// until the account owner has Zendesk Customer Support enable them.
//
// WithLogger logs every attempt, retry and rate-limit wait, never a credential.
//
// # Errors
//
// Non-2xx answers are *APIError, decoded from every error shape Zendesk sends; answers
// that ask for a wait (429s, and 503s with a Retry-After) are *RateLimitError, which
// unwraps to *APIError; undecodable 2xx bodies are *DecodeError; a host that does not
// resolve gives an error matching ErrHostNotFound. Branch with errors.Is and the
// sentinels, or errors.As:
//
//	_, _, err := c.GroupMemberships.Create(ctx, userID, groupID)
//	switch {
//	case zendesk.IsDuplicate(err):
//		// already a member
//	case errors.Is(err, zendesk.ErrNotFound):
//		// no such user or group
//	}
//	var rl *zendesk.RateLimitError
//	if errors.As(err, &rl) {
//		log.Printf("retry after %s", rl.RetryAfter)
//	}
package zendesk
