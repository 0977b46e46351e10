// Package measure holds what the benchmark programs under examples/ share:
// sampling the heap while something runs, a rate limiter that never waits,
// and the rounding of reported numbers.
package measure

import (
	"context"
	"math"
	"runtime"
	"sync"
	"time"
)

// Unlimited is a zendesk.Limiter that never waits: with no rate limit the
// client does not pace itself.
type Unlimited struct{}

// Wait returns at once, with ctx's error if it has ended.
func (Unlimited) Wait(ctx context.Context) error { return ctx.Err() }

// PeakSampler records the largest heap in use while something runs.
type PeakSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

// StartPeakSampler samples the heap every interval until Stop.
func StartPeakSampler(interval time.Duration) *PeakSampler {
	s := &PeakSampler{done: make(chan struct{})}
	s.wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			s.peak = max(s.peak, HeapInUse())
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	})
	return s
}

// Stop ends the sampling and returns the peak, in bytes.
func (s *PeakSampler) Stop() uint64 {
	close(s.done)
	s.wg.Wait()
	return max(s.peak, HeapInUse())
}

// HeapInUse returns the bytes of heap allocated and not yet freed.
func HeapInUse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TotalAlloc returns the bytes allocated since the process started.
func TotalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// MB converts bytes to mebibytes.
func MB(b uint64) float64 { return float64(b) / (1 << 20) }

// Round rounds to three decimals, for reports.
func Round(f float64) float64 { return math.Round(f*1000) / 1000 }
