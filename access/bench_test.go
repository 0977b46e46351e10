package access_test

import (
	"bytes"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
)

// BenchmarkSync syncs an in-memory account of 100,000 users and 300,000
// grants. Besides time and allocations it reports peak-heap-MB, the largest
// heap (live and not yet collected, backend included) sampled every
// millisecond during the syncs, and snapshot-MB, the live heap one snapshot
// holds.
func BenchmarkSync(b *testing.B) {
	backend, err := memaccess.New(memaccess.Generate(100_000, 200, 1_000))
	if err != nil {
		b.Fatal(err)
	}
	base := liveHeap()
	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var peakSeen uint64
		var ms runtime.MemStats
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				peak <- peakSeen
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				peakSeen = max(peakSeen, ms.HeapAlloc)
			}
		}
	}()
	b.ReportAllocs()
	var snap *access.Snapshot
	for b.Loop() {
		snap, err = access.Sync(b.Context(), backend, nil)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(stop)
	b.ReportMetric(float64(<-peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(int64(liveHeap())-int64(base))/(1<<20), "snapshot-MB")
	b.ReportMetric(float64(base)/(1<<20), "backend-MB")
	runtime.KeepAlive(snap)
	runtime.KeepAlive(backend)
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func BenchmarkSaveLoad(b *testing.B) {
	backend, err := memaccess.New(memaccess.Generate(100_000, 200, 1_000))
	if err != nil {
		b.Fatal(err)
	}
	snap, err := access.Sync(b.Context(), backend, nil)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	snap.Save(&buf)
	b.Run("Save", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(buf.Len()))
		for b.Loop() {
			snap.Save(io.Discard)
		}
	})
	b.Run("Load", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(buf.Len()))
		for b.Loop() {
			if _, err := access.Load(bytes.NewReader(buf.Bytes())); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDiff(b *testing.B) {
	backend, err := memaccess.New(memaccess.Generate(100_000, 200, 1_000))
	if err != nil {
		b.Fatal(err)
	}
	before, _ := access.Sync(b.Context(), backend, nil)
	backend.Grant(b.Context(), access.GrantRequest{EntitlementID: "group:1:member", PrincipalID: "user:2"})
	after, _ := access.Sync(b.Context(), backend, nil)
	b.ReportAllocs()
	for b.Loop() {
		access.Diff(before, after)
	}
}
