package review

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/zgov-io/zgov/access"
)

// verify re-reads the principals of items and sets each item's status
// and verification; it returns the method that read the most.
func verify(ctx context.Context, r *Remediator, items []*remItem, syncCost int64, clock func() time.Time) (VerifyMethod, error) {
	var objectTypes []string
	reader, _ := r.System.Backend().(access.PrincipalReader)
	if reader != nil {
		var err error
		if objectTypes, err = reader.ObjectTypes(ctx); err != nil {
			return "", err
		}
	}
	covered := func(it *remItem) bool {
		for _, g := range it.grants {
			eid, _ := cutGrant(g.ID)
			if !slices.Contains(objectTypes, typeOf(eid)) {
				return false
			}
		}
		return true
	}
	var byReader, byList []*remItem
	readerPrincipals, listPrincipals := map[string]bool{}, map[string]bool{}
	for _, it := range items {
		if reader != nil && covered(it) {
			byReader = append(byReader, it)
			readerPrincipals[it.principal] = true
		} else {
			byList = append(byList, it)
			listPrincipals[it.principal] = true
		}
	}
	perCost := int64(r.GrantsForCost)
	if perCost == 0 {
		perCost = 2
	}
	cost := int64(len(listPrincipals)) * perCost
	if n := len(readerPrincipals); n > 0 {
		cost += int64((n + 99) / 100)
	}
	if syncCost > 0 && syncCost < cost {
		snap, err := r.System.Sync(ctx, &access.SyncOptions{DropDangling: true})
		if err != nil {
			return VerifySync, err
		}
		at := clock()
		for _, it := range items {
			var held []string
			for _, g := range it.grants {
				if _, ok := snap.Grant(g.ID); ok {
					held = append(held, g.ID)
				}
			}
			settle(it, &Verification{At: at, Method: VerifySync, SnapshotHash: snap.Hash()}, held)
		}
		return VerifySync, nil
	}
	method := VerifyReadPrincipals
	if len(byList) > 0 {
		method = VerifyGrantsFor
	}
	if len(byReader) > 0 {
		ids := make([]string, 0, len(readerPrincipals))
		for p := range readerPrincipals {
			ids = append(ids, p)
		}
		slices.Sort(ids)
		states := map[string]access.PrincipalState{}
		for chunk := range slices.Chunk(ids, 100) {
			got, err := reader.ReadPrincipals(ctx, chunk)
			if err != nil {
				return method, err
			}
			for k, v := range got {
				states[k] = v
			}
		}
		at := clock()
		for _, it := range byReader {
			st := states[it.principal]
			now := map[string]bool{}
			for _, g := range st.Grants {
				now[g.ID()] = true
			}
			var held []string
			for _, g := range it.grants {
				if st.Exists && now[g.ID] {
					held = append(held, g.ID)
				}
			}
			settle(it, &Verification{At: at, Method: VerifyReadPrincipals}, held)
		}
	}
	// Each principal's grants, a few principals at a time.
	listed := map[string]map[string]bool{}
	at := map[string]time.Time{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(grantsForConcurrency)
	for p := range listPrincipals {
		g.Go(func() error {
			gs, err := r.System.GrantsFor(gctx, p)
			if err != nil && !errors.Is(err, access.ErrUnknownPrincipal) {
				return err
			}
			now := make(map[string]bool, len(gs))
			for _, g := range gs {
				now[g.ID()] = true
			}
			mu.Lock()
			defer mu.Unlock()
			listed[p], at[p] = now, clock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return method, err
	}
	for _, it := range byList {
		var held []string
		for _, g := range it.grants {
			if listed[it.principal][g.ID] {
				held = append(held, g.ID)
			}
		}
		settle(it, &Verification{At: at[it.principal], Method: VerifyGrantsFor}, held)
	}
	return method, nil
}

// grantsForConcurrency bounds the principals whose grants verify reads at
// once.
const grantsForConcurrency = 8

// settle sets an item's status from its re-read: done if no revoked grant
// is held, failed otherwise.
func settle(it *remItem, v *Verification, held []string) {
	v.Held = held
	for _, g := range it.grants {
		if gr := it.detail.Grants[g.ID]; gr != nil {
			gr.Held = slices.Contains(held, g.ID)
		}
	}
	if len(held) == 0 {
		v.Verified = true
		v.Result = fmt.Sprintf("re-read of %s at %s (%s): %d revoked grant(s) absent", it.principal, v.At.Format(time.RFC3339), v.Method, len(it.grants))
		it.status = RemediationDone
	} else {
		v.Result = fmt.Sprintf("re-read of %s at %s (%s): still held: %s", it.principal, v.At.Format(time.RFC3339), v.Method, strings.Join(held, ", "))
		it.status = RemediationFailed
		it.detail.Error = "the revoke went through but access is still held: " + strings.Join(held, ", ")
		it.attempt++
	}
	it.detail.Verification = v
}
