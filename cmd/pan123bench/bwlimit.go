package main

// The bandwidth-cap section (-bwlimit): for each cap, uploads run through one
// Client with WithBandwidthLimit against pan123test, and the bytes the
// client writes to its connections are sampled every 50 ms. Three loads per
// cap: one file at concurrency 1, one at concurrency 8, and ten files at
// once (default concurrency each), all sharing the Client's cap. Each run
// lasts -bwlimit-window (from the first call), then is canceled: the files
// are sparse, their MD5 is given and never checked, so no time goes into
// generating or hashing them. Pass: the average over the window within 5 %
// of the cap, and no one-second window above 1.1 × the cap. A cap of 0 runs
// the same loads uncapped: what the machine itself sends, for reference.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

var (
	bwCaps   = flag.String("bwlimit", "", "run only the bandwidth-cap section, for these caps per second (e.g. 1MiB,10MiB,100MiB)")
	bwWindow = flag.Duration("bwlimit-window", 10*time.Second, "bandwidth-cap section: how long each run is measured")
)

// bwLoad is one way of loading the cap.
type bwLoad struct {
	name        string
	files       int
	concurrency int // 0 = the SDK's default
}

var bwLoads = []bwLoad{{"conc=1", 1, 1}, {"conc=8", 1, 8}, {"files=10", 10, 0}}

// bwRow is one measured run.
type bwRow struct {
	limit         int64
	load          bwLoad
	avg           float64 // bytes per second over the window
	peak1s, low1s float64 // the highest and lowest one-second window
}

func (r bwRow) pass() bool {
	if r.limit == 0 {
		return true // a reference run
	}
	lim := float64(r.limit)
	return r.avg >= 0.95*lim && r.avg <= 1.05*lim && r.peak1s <= 1.1*lim
}

// runBandwidth runs the section and prints its table; it fails when a run
// misses its bounds.
func runBandwidth(ctx context.Context, dir string) error {
	var limits []int64
	for _, f := range strings.Split(*bwCaps, ",") {
		n, err := int64(0), error(nil)
		if strings.TrimSpace(f) != "0" { // 0: a run without a cap, for the machine's own rate
			n, err = parseSize(f)
		}
		if err != nil {
			return err
		}
		limits = append(limits, n)
	}
	fmt.Printf("pan123bench -bwlimit: window %v per run, samples every 50 ms\n", *bwWindow)
	var rows []bwRow
	for _, limit := range limits {
		for _, load := range bwLoads {
			fmt.Printf("== cap %s, %s...", capName(limit), load.name)
			r, err := bwRun(ctx, dir, limit, load, *bwWindow)
			if err != nil {
				return err
			}
			fmt.Printf(" %.2f MiB/s (1 s windows %.2f–%.2f)\n", r.avg/mib, r.low1s/mib, r.peak1s/mib)
			rows = append(rows, r)
		}
	}
	fmt.Printf("\nUpload bandwidth cap (WithBandwidthLimit, one Client): bytes the client writes to its connections\n")
	fmt.Printf("over a %v window from the first call; pass = average within 5 %% of the cap, no 1 s window above 1.1 ×.\n", *bwWindow)
	fmt.Printf("Cap \"none\": the same load without a cap, what the machine itself sends.\n")
	fmt.Printf("%-9s %-9s %11s %9s %12s %12s %5s\n", "cap", "load", "avg MiB/s", "avg/cap", "max 1s/cap", "min 1s/cap", "pass")
	failed := 0
	for _, r := range rows {
		if r.limit == 0 {
			fmt.Printf("%-9s %-9s %11.3f %9s %12s %12s %5s\n", capName(0), r.load.name, r.avg/mib, "-", "-", "-", "-")
			continue
		}
		lim := float64(r.limit)
		ok := "yes"
		if !r.pass() {
			ok, failed = "NO", failed+1
		}
		fmt.Printf("%-9s %-9s %11.3f %9.3f %12.3f %12.3f %5s\n", capName(r.limit), r.load.name, r.avg/mib, r.avg/lim, r.peak1s/lim, r.low1s/lim, ok)
	}
	fmt.Println()
	for _, r := range rows {
		if r.limit == 0 {
			fmt.Printf("BENCH name=bwlimit_uncapped load=%s window=%v value=%.4f unit=MiB/s\n", r.load.name, *bwWindow, r.avg/mib)
			continue
		}
		pre := fmt.Sprintf("cap=%s/s load=%s window=%v", sizeLabel(r.limit), r.load.name, *bwWindow)
		fmt.Printf("BENCH name=bwlimit_avg_ratio %s value=%.4f unit=ratio\n", pre, r.avg/float64(r.limit))
		fmt.Printf("BENCH name=bwlimit_peak1s_ratio %s value=%.4f unit=ratio\n", pre, r.peak1s/float64(r.limit))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d bandwidth-cap runs out of bounds", failed, len(rows))
	}
	return nil
}

// capName names a cap: "10MiB/s", or "none".
func capName(limit int64) string {
	if limit == 0 {
		return "none"
	}
	return sizeLabel(limit) + "/s"
}

// bwRun measures one load under one cap.
func bwRun(ctx context.Context, dir string, limit int64, load bwLoad, window time.Duration) (bwRow, error) {
	// Enough bytes for every file to send at the whole cap past the window.
	size := limit * int64(window/time.Second+3)
	if limit == 0 {
		size = 8 << 30 // uncapped: as much as the machine sends
	}
	path, err := sparseFile(dir, size)
	if err != nil {
		return bwRow{}, err
	}
	defer os.Remove(path)

	srv := pan123test.NewServer(pan123test.WithStore(pan123test.StoreNothing))
	defer srv.Close()
	var sent atomic.Int64
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: c, n: &sent}, nil
	}
	defer tr.CloseIdleConnections()
	c, err := pan123.New(srv.ClientID, srv.ClientSecret, pan123.WithBaseURL(srv.URL),
		pan123.WithHTTPClient(&http.Client{Transport: tr}), pan123.WithBandwidthLimit(limit))
	if err != nil {
		return bwRow{}, err
	}
	var uopts []pan123.UploadOption
	if load.concurrency > 0 {
		uopts = append(uopts, pan123.WithConcurrency(load.concurrency))
	}
	up := pan123.NewUploader(c, uopts...)

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type sample struct {
		t time.Time
		n int64
	}
	start := time.Now()
	samples := []sample{{start, sent.Load()}}
	var wg sync.WaitGroup
	errs := make(chan error, load.files)
	for i := range load.files {
		wg.Go(func() {
			_, err := up.UploadFile(rctx, path, pan123.FileInput{Name: fmt.Sprintf("bw-%d.bin", i),
				Duplicate: pan123.KeepBoth, MD5: strings.Repeat("0", 32)})
			if !errors.Is(err, context.Canceled) {
				errs <- fmt.Errorf("upload %d ended before the window did: %v", i, err)
			}
		})
	}
	tick := time.NewTicker(50 * time.Millisecond)
	for samples[len(samples)-1].t.Sub(start) < window {
		select {
		case <-ctx.Done():
			cancel()
			wg.Wait()
			return bwRow{}, ctx.Err()
		case <-tick.C:
			samples = append(samples, sample{time.Now(), sent.Load()})
		}
	}
	tick.Stop()
	cancel()
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return bwRow{}, err
	}

	last := samples[len(samples)-1]
	r := bwRow{limit: limit, load: load, avg: float64(last.n-samples[0].n) / last.t.Sub(start).Seconds(), low1s: math.Inf(1)}
	for i, a := range samples {
		// The first sample at least a second after a: its window.
		for _, b := range samples[i+1:] {
			if d := b.t.Sub(a.t); d >= time.Second {
				v := float64(b.n-a.n) / d.Seconds()
				r.peak1s, r.low1s = max(r.peak1s, v), min(r.low1s, v)
				break
			}
		}
	}
	return r, nil
}

// countingConn counts the bytes the client hands to a connection, when it
// hands them: counted when the write returns, they would also carry the
// receiving fake's delays (a write blocks while the socket buffer is full).
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n - len(p))) // what was not written after all
	return n, err
}

// sparseFile makes a file of size bytes that takes no disk space.
func sparseFile(dir string, size int64) (string, error) {
	f, err := os.CreateTemp(dir, "pan123bench-bw-*.bin")
	if err != nil {
		return "", err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), f.Close()
}
