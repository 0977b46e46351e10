package access

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"
)

// bulkConcurrency is how many single calls GrantMany, RevokeMany and
// CreateAccounts run at once for a backend without the bulk capability.
const bulkConcurrency = 8

// GrantMany grants many entitlements: through the backend's BulkChanger if
// it has one, else one Grant at a time (a few at once). Each request is
// checked and its answer shaped as Grant does; results come back in request
// order. progress, if not nil, is called with the number finished so far.
func (s *System) GrantMany(ctx context.Context, reqs []GrantRequest, progress func(done int)) []BulkResult {
	return bulk(ctx, s, reqs, progress,
		func(r GrantRequest) (string, string) { return r.EntitlementID, r.PrincipalID },
		func(bc BulkChanger, ok []GrantRequest, p func(int)) []BulkResult { return bc.GrantMany(ctx, ok, p) },
		func(r GrantRequest) (Result, error) { return s.Grant(ctx, r) },
		"grant", StatusGranted, StatusAlreadyGranted)
}

// RevokeMany revokes many grants, as GrantMany grants them.
func (s *System) RevokeMany(ctx context.Context, reqs []RevokeRequest, progress func(done int)) []BulkResult {
	return bulk(ctx, s, reqs, progress,
		func(r RevokeRequest) (string, string) { return r.EntitlementID, r.PrincipalID },
		func(bc BulkChanger, ok []RevokeRequest, p func(int)) []BulkResult { return bc.RevokeMany(ctx, ok, p) },
		func(r RevokeRequest) (Result, error) { return s.Revoke(ctx, r) },
		"revoke", StatusRevoked, StatusAlreadyRevoked)
}

func bulk[R any](ctx context.Context, s *System, reqs []R, progress func(int),
	ids func(R) (string, string),
	many func(BulkChanger, []R, func(int)) []BulkResult,
	one func(R) (Result, error),
	op string, changed, unchanged Status) []BulkResult {
	out := make([]BulkResult, len(reqs))
	var mu sync.Mutex
	done := 0
	report := func(n int) {
		mu.Lock()
		defer mu.Unlock()
		done += n
		if progress != nil {
			progress(done)
		}
	}
	bc, isBulk := s.b.(BulkChanger)
	if !isBulk {
		g, _ := errgroup.WithContext(ctx)
		g.SetLimit(bulkConcurrency)
		for i, r := range reqs {
			g.Go(func() error {
				res, err := one(r)
				out[i] = BulkResult{Result: res, Err: err}
				report(1)
				return nil
			})
		}
		_ = g.Wait()
		return out
	}
	var okIdx []int
	var okReqs []R
	refs := make([]GrantRef, len(reqs))
	for i, r := range reqs {
		e, p := ids(r)
		ref, err := s.CheckRequest(ctx, e, p)
		if err != nil {
			out[i] = BulkResult{Err: fmt.Errorf("access: %s: %w", op, err)}
			report(1)
			continue
		}
		refs[i] = ref
		okIdx = append(okIdx, i)
		okReqs = append(okReqs, r)
	}
	base := done
	res := many(bc, okReqs, func(n int) {
		mu.Lock()
		defer mu.Unlock()
		if progress != nil {
			progress(base + n)
		}
	})
	for k, i := range okIdx {
		var br BulkResult
		if k < len(res) {
			br = res[k]
		} else {
			br = BulkResult{Err: ErrBadResult}
		}
		r, err := s.finish(op, refs[i], br.Result, br.Err, changed, unchanged)
		out[i] = BulkResult{Result: r, Err: err}
	}
	return out
}

// CreateAccounts creates many accounts: through the backend's
// BulkAccountCreator if it has one, else one CreateAccount at a time (a few
// at once), each person validated first. Results come back in request
// order.
func (s *System) CreateAccounts(ctx context.Context, reqs []AccountRequest, progress func(done int)) []AccountBulkResult {
	out := make([]AccountBulkResult, len(reqs))
	var mu sync.Mutex
	done := 0
	report := func() {
		done++
		if progress != nil {
			progress(done)
		}
	}
	bc, isBulk := s.b.(BulkAccountCreator)
	_, noAccounts := s.accounts("create account")
	var okIdx []int
	var okReqs []AccountRequest
	for i, r := range reqs {
		if noAccounts != nil {
			out[i] = AccountBulkResult{Err: noAccounts}
			report()
			continue
		}
		if err := r.Person.Validate(); err != nil {
			out[i] = AccountBulkResult{Err: err}
			report()
			continue
		}
		okIdx = append(okIdx, i)
		okReqs = append(okReqs, r)
	}
	if !isBulk {
		g, _ := errgroup.WithContext(ctx)
		g.SetLimit(bulkConcurrency)
		for _, i := range okIdx {
			g.Go(func() error {
				res, err := s.CreateAccount(ctx, reqs[i])
				mu.Lock()
				out[i] = AccountBulkResult{Result: res, Err: err}
				report()
				mu.Unlock()
				return nil
			})
		}
		_ = g.Wait()
		return out
	}
	base := done
	res := bc.CreateAccounts(ctx, okReqs, func(n int) {
		mu.Lock()
		defer mu.Unlock()
		if progress != nil {
			progress(base + n)
		}
	})
	for k, i := range okIdx {
		var br AccountBulkResult
		if k < len(res) {
			br = res[k]
		} else {
			br = AccountBulkResult{Err: ErrBadResult}
		}
		r, err := s.finishAccount("create account for "+quoteShort(reqs[i].Person.Email), br.Result, br.Err)
		out[i] = AccountBulkResult{Result: r, Err: err}
	}
	return out
}
