package pan123

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

// pacingRun is the outcome of freeTierRun.
type pacingRun struct {
	elapsed, bound time.Duration
	calls, limited int // API calls, and those answered 429
	failed         int // uploads that failed
}

func (r pacingRun) String() string {
	return fmt.Sprintf("%v for a bound of %v (%.2fx), %d of %d API calls answered 429 (%.1f%%), %d uploads failed",
		r.elapsed.Round(time.Millisecond), r.bound, r.ratio(), r.limited, r.calls, 100*r.share(), r.failed)
}

func (r pacingRun) ratio() float64 { return r.elapsed.Seconds() / r.bound.Seconds() }
func (r pacingRun) share() float64 { return float64(r.limited) / float64(r.calls) }

// freeTierRun uploads files small files of the given slices at once through one Client with
// the default (table) rates to a fake that enforces the free tier's rates
// (create 1/s, upload_complete 5/s). Every rate, the retry backoff, the
// pacer's measuring span and so the time is scaled up by scale, so the run
// takes about files/scale seconds. The bound is what the free table allows
// a client that never bursts: files-1 creates at 1/s·scale.
func freeTierRun(t *testing.T, files, slices int, scale float64, adaptive bool) pacingRun {
	t.Helper()
	free := map[pan123test.Op]int{
		pan123test.OpAccessToken:  8,
		pan123test.OpCreate:       1,
		pan123test.OpGetUploadURL: 20,
		pan123test.OpComplete:     5,
	}
	opts := []pan123test.Option{pan123test.WithSliceSize(1 << 10)}
	for op, r := range free {
		opts = append(opts, pan123test.WithRateLimit(op, r, time.Duration(float64(time.Second)/scale)))
	}
	srv := pan123test.NewServer(opts...)
	t.Cleanup(srv.Close)
	table := DefaultRateLimits()
	for p := range table {
		table[p] *= scale
	}
	c, err := New(srv.ClientID, srv.ClientSecret, WithBaseURL(srv.URL), WithRateLimits(table),
		WithRetry(DefaultMaxAttempts, time.Duration(float64(DefaultRetryBase)/scale), time.Duration(float64(DefaultRetryCap)/scale)),
		WithAdaptiveRateLimits(adaptive))
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	for _, p := range c.limits {
		p.span = time.Duration(float64(p.span) / scale) // the platform's second, scaled
	}
	up := NewUploader(c, WithPollInterval(time.Millisecond))

	// Warm up (token, connections, code paths) so that the run measures
	// pacing rather than a cold process on a busy machine.
	_, err = up.Upload(t.Context(), strings.NewReader("warm-up"), FileInput{Name: "warm-up.txt"})
	require.NoError(t, err)
	srv.ResetRequests()

	var wg sync.WaitGroup
	var mu sync.Mutex
	run := pacingRun{bound: time.Duration(float64(files-1) / (float64(free[pan123test.OpCreate]) * scale) * float64(time.Second))}
	start := time.Now()
	for i := range files {
		wg.Go(func() {
			data := strings.Repeat(fmt.Sprintf("file %d of the free-tier run|", i), slices<<10)[:slices<<10]
			_, err := up.Upload(t.Context(), strings.NewReader(data), FileInput{Name: fmt.Sprintf("f%02d.txt", i)})
			if err != nil {
				mu.Lock()
				run.failed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	run.elapsed = time.Since(start)
	per := map[pan123test.Op]int{}
	for _, r := range srv.Requests() {
		if r.Op == pan123test.OpPut {
			continue
		}
		run.calls++
		if r.Code == pan123test.CodeTooManyRequests {
			run.limited++
			per[r.Op]++
		}
	}
	t.Logf("429s per endpoint: %v; create paced at %.1f/s at the end", per, c.limits.rate(pathCreate))
	return run
}

// TestAdaptivePacingFreeTier: 20 files of 4 slices uploaded at once
// through one Client paced by the default table, to a platform enforcing
// the free tier (create 5x and upload_complete 4x slower than the table):
// every upload succeeds, and the run stays near the bound the free table
// sets with few 429s. Rates are scaled up 10x so the run takes about 2 s;
// the unscaled proof is pan123bench -pacing, and TestPacingFreeTierSimulated
// checks the pacer's decisions alone, without wall time.
//
// The targets are 1.25x the bound and under 5% of API calls answered 429.
// On a busy 2-core machine (nice -n 19, -race, -count=20) the run gives
// 1.11-1.20x and 0.8-1.6%; with the package's whole race suite running at
// the same time, 1.11-1.56x and 0.8-7.7%, as answers come back tens of
// milliseconds late against 100 ms windows (a second of the scaled create
// rate). The assertions leave room for that. PAN123_PACING_COMPARE=1 also
// runs the same upload with fixed pacing and logs both. Not parallel: with
// the package's parallel tests beside it (nice -n 19, -count=20, a loaded
// machine) it reached 2.1x.
func TestAdaptivePacingFreeTier(t *testing.T) {
	if testing.Short() {
		t.Skip("2 s of wall-clock pacing: skipped in -short mode (TestPacingFreeTierSimulated checks the pacer's decisions)")
	}
	adaptive := freeTierRun(t, 20, 4, 10, true)
	t.Logf("adaptive: %v", adaptive)
	if os.Getenv("PAN123_PACING_COMPARE") != "" {
		t.Logf("fixed:    %v", freeTierRun(t, 20, 4, 10, false))
	}
	assert.Zero(t, adaptive.failed)
	assert.Less(t, adaptive.share(), 0.12)
	assert.Less(t, adaptive.ratio(), 2.0)
}
