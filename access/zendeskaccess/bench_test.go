package zendeskaccess_test

import (
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// heapPeak samples the live heap until stop is closed and returns the
// highest value seen.
func heapPeak(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

func heapNow() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkSync100k syncs an account of 100,000 users and about 300,000
// grants (all users in scope) and reports the peak heap the sync added on
// top of the simulator's own (client, backend and snapshot), and requests.
func BenchmarkSync100k(b *testing.B) {
	spec := zendesktest.AccountSpec{Seed: 3, EndUsers: 90_000, Agents: 9_000, Admins: 999, Groups: 200,
		Organizations: 5_000, GroupMemberships: 120_000, OrganizationMemberships: 80_000, CustomRoles: 20, Suspended: 500}
	srv := newServer(b, zendesktest.WithAccount(spec))
	be := newBackend(b, srv, zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers))
	var peakMB atomic.Uint64
	b.ResetTimer()
	for range b.N {
		base := heapNow()
		stop := make(chan struct{})
		peak := heapPeak(stop)
		snap, err := access.Sync(b.Context(), be, nil)
		close(stop)
		if err != nil {
			b.Fatal(err)
		}
		p := <-peak
		if p > base {
			peakMB.Store(max(peakMB.Load(), (p-base)>>20))
		}
		c := snap.Counts()
		b.ReportMetric(float64(c.Resources), "resources")
		b.ReportMetric(float64(c.Grants), "grants")
		b.ReportMetric(float64(snap.Provenance().Requests), "requests")
		b.ReportMetric(float64((heapNow()-base)>>20), "snapshot-heap-MB")
		runtime.KeepAlive(snap)
	}
	b.ReportMetric(float64(peakMB.Load()), "peak-heap-MB")
}

// BenchmarkSyncLatency syncs the cost tests' account (all users, multiple
// organizations, per-user membership lists) from a server that takes 20ms
// per response, and reports how many requests were in flight on average:
// above 1 the streams overlap, so latency does not bound the sync to one
// request at a time.
func BenchmarkSyncLatency(b *testing.B) {
	const latency = 20 * time.Millisecond
	srv := newServer(b, zendesktest.WithAccount(costSpec()), zendesktest.WithMultipleOrganizations(true),
		zendesktest.WithLatency(latency))
	be := newBackend(b, srv, zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers),
		zendeskaccess.WithMembershipStrategy(zendeskaccess.StrategyPerUser), zendeskaccess.WithConcurrency(8))
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		snap, err := access.Sync(b.Context(), be, &access.SyncOptions{Concurrency: 8})
		if err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		n := snap.Provenance().Requests
		b.ReportMetric(float64(n), "requests")
		b.ReportMetric(float64(n)/elapsed.Seconds()*60, "requests/min")
		b.ReportMetric(float64(time.Duration(n)*latency)/float64(elapsed), "in-flight")
	}
}
