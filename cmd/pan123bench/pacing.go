package main

// The pacing section (-pacing): the free-tier scenario of adaptive pacing,
// unscaled. pan123test enforces the free tier's rates in real one-second
// windows (create 1, upload_complete 5, get_upload_url 20, access_token 8
// per second); a Client paced by the SDK's default table (create 5/s,
// upload_complete 20/s, so five and four times too fast) uploads
// -pacing-files files of -pacing-slices slices at once, first with adaptive
// pacing (the default), then with fixed pacing (WithAdaptiveRateLimits
// false), -pacing-runs times, each run on a fresh fake and a fresh Client.
//
// The bound is what the free table allows a client that never bursts: the
// largest (calls the uploads need − 1) ÷ rate over the endpoints, which is
// (files − 1) s of creates. The time runs from the first call to the last
// upload's return. The 429 share is the API calls answered 429 over all API
// calls (presigned PUTs are not API calls). Target (adaptive): time within
// 1.25 × the bound and 429s under 5 % of API calls, with every upload done.
//
// Unlike the loopback section, the uploads run in this process: what is
// measured is pacing over one-second windows, which the milliseconds of a
// shared process cannot move, and memory is not measured.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

var (
	pacingOn     = flag.Bool("pacing", false, "run only the pacing section: the free-tier scenario, adaptive vs fixed pacing, unscaled (about 40 s a run)")
	pacingRuns   = flag.Int("pacing-runs", 3, "pacing: runs of each mode")
	pacingFiles  = flag.Int("pacing-files", 20, "pacing: files uploaded at once through one Client")
	pacingSlices = flag.Int("pacing-slices", 4, "pacing: slices per file (1 KiB each)")
)

// freeTier is the rate table the fake enforces, per second.
var freeTier = map[pan123test.Op]int{
	pan123test.OpAccessToken:  8,
	pan123test.OpCreate:       1,
	pan123test.OpGetUploadURL: 20,
	pan123test.OpComplete:     5,
}

// Targets of the pacing section (adaptive mode).
const (
	pacingMaxRatio = 1.25
	pacingMaxShare = 0.05
)

// pacingRow is one measured run.
type pacingRow struct {
	adaptive       bool
	run            int
	wall, bound    float64 // seconds
	calls, limited int     // API calls, and those answered 429
	createLimited  int     // 429s on create
	failed         int     // uploads that returned an error
}

func (r pacingRow) ratio() float64 { return r.wall / r.bound }
func (r pacingRow) share() float64 { return float64(r.limited) / float64(r.calls) }
func (r pacingRow) mode() string {
	if r.adaptive {
		return "adaptive"
	}
	return "fixed"
}
func (r pacingRow) pass() bool {
	return r.failed == 0 && r.ratio() <= pacingMaxRatio && r.share() < pacingMaxShare
}

// runPacing runs the section and prints its table; it fails when an
// adaptive run misses the target.
func runPacing(ctx context.Context) error {
	if *pacingRuns < 1 || *pacingFiles < 2 || *pacingSlices < 1 {
		return errors.New("-pacing-runs and -pacing-slices must be at least 1, -pacing-files at least 2")
	}
	fmt.Printf("pan123bench -pacing: %d files of %d slices at once, one Client with the default table, fake enforcing the free tier (create 1/s, upload_complete 5/s) in 1 s windows\n",
		*pacingFiles, *pacingSlices)
	var rows []pacingRow
	for run := 1; run <= *pacingRuns; run++ {
		for _, adaptive := range []bool{true, false} {
			fmt.Printf("== run %d, %-8s...", run, map[bool]string{true: "adaptive", false: "fixed"}[adaptive])
			r, err := pacingOnce(ctx, *pacingFiles, *pacingSlices, adaptive)
			if err != nil {
				return err
			}
			r.run = run
			fmt.Printf(" %.2fs for a bound of %.0fs (%.3fx), %d of %d API calls answered 429 (%.1f%%; %d on create), %d uploads failed\n",
				r.wall, r.bound, r.ratio(), r.limited, r.calls, 100*r.share(), r.createLimited, r.failed)
			rows = append(rows, r)
		}
	}
	fmt.Printf("\nPacing against a free-tier account (default table, %d files × %d slices at once, one Client).\n", *pacingFiles, *pacingSlices)
	fmt.Printf("bound = (files − 1) creates ÷ 1/s; target (adaptive): time ≤ %.2f × bound, 429s < %.0f %% of API calls, every upload done.\n",
		pacingMaxRatio, 100*pacingMaxShare)
	fmt.Printf("A run whose uploads failed (out of attempts on 429s) ends early: its ratio is not a speed.\n")
	fmt.Printf("%-9s %4s %8s %8s %7s %6s %6s %9s %6s %5s\n", "pacing", "run", "wall s", "bound s", "ratio", "calls", "429s", "429 share", "done", "pass")
	failed := 0
	for _, r := range rows {
		ok := "-"
		if r.adaptive {
			ok = "yes"
			if !r.pass() {
				ok, failed = "NO", failed+1
			}
		}
		fmt.Printf("%-9s %4d %8.2f %8.0f %7.3f %6d %6d %8.1f%% %6s %5s\n", r.mode(), r.run, r.wall, r.bound, r.ratio(), r.calls, r.limited, 100*r.share(),
			fmt.Sprintf("%d/%d", *pacingFiles-r.failed, *pacingFiles), ok)
	}
	for _, adaptive := range []bool{true, false} {
		var ratios, shares []float64
		for _, r := range rows {
			if r.adaptive == adaptive {
				ratios, shares = append(ratios, r.ratio()), append(shares, 100*r.share())
			}
		}
		fmt.Printf("%-9s spread over %d runs: ratio %.3f–%.3f, 429 share %.1f–%.1f %%\n",
			rows[map[bool]int{true: 0, false: 1}[adaptive]].mode(), len(ratios), slices.Min(ratios), slices.Max(ratios), slices.Min(shares), slices.Max(shares))
	}
	fmt.Println()
	for _, r := range rows {
		pre := fmt.Sprintf("pacing=%s run=%d files=%d slices=%d wall=%.3f bound=%.0f calls=%d limited=%d failed=%d",
			r.mode(), r.run, *pacingFiles, *pacingSlices, r.wall, r.bound, r.calls, r.limited, r.failed)
		benchLine("pacing_time_ratio", pre, r.ratio(), "ratio")
		benchLine("pacing_429_share", pre, r.share(), "ratio")
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d adaptive pacing runs missed the target", failed, *pacingRuns)
	}
	return nil
}

// pacingOnce is one run on a fresh fake and a fresh Client.
func pacingOnce(ctx context.Context, files, nslices int, adaptive bool) (pacingRow, error) {
	const slice = 1 << 10
	opts := []pan123test.Option{pan123test.WithSliceSize(slice), pan123test.WithStore(pan123test.StoreNothing)}
	for op, n := range freeTier {
		opts = append(opts, pan123test.WithRateLimit(op, n, time.Second))
	}
	s := pan123test.NewServer(opts...)
	defer s.Close()
	c, err := pan123.New(s.ClientID, s.ClientSecret, pan123.WithBaseURL(s.URL), pan123.WithAdaptiveRateLimits(adaptive))
	if err != nil {
		return pacingRow{}, err
	}
	defer c.CloseIdleConnections()
	up := pan123.NewUploader(c, pan123.WithPollInterval(10*time.Millisecond))

	row := pacingRow{adaptive: adaptive}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for i := range files {
		wg.Go(func() {
			data := strings.Repeat(fmt.Sprintf("file %d of the free-tier run|", i), nslices*slice)[:nslices*slice]
			if _, err := up.Upload(ctx, strings.NewReader(data), pan123.FileInput{Name: fmt.Sprintf("f%02d.txt", i)}); err != nil {
				mu.Lock()
				row.failed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	row.wall = time.Since(start).Seconds()
	if err := ctx.Err(); err != nil {
		return row, err
	}
	for _, r := range s.Requests() {
		if r.Op == pan123test.OpPut {
			continue
		}
		row.calls++
		if r.Code == pan123test.CodeTooManyRequests {
			row.limited++
			if r.Op == pan123test.OpCreate {
				row.createLimited++
			}
		}
	}
	// The calls the uploads need, whatever was sent: a failed upload does
	// not shorten the bound.
	need := map[pan123test.Op]int{pan123test.OpCreate: files, pan123test.OpGetUploadURL: files * nslices, pan123test.OpComplete: files}
	for op, n := range need {
		row.bound = max(row.bound, float64(n-1)/float64(freeTier[op]))
	}
	return row, nil
}
