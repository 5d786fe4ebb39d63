package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"slices"

	"github.com/go-pan123/pan123/pan123test"
)

// variant is one way of running UploadFile on loopback.
type variant struct {
	key     string // in BENCH lines
	name    string
	slice   int64
	limiter bool // the SDK's default rate limiter (WithoutRateLimits otherwise)
	v2      bool // WithProtocol(V2)
	// known: a checkpoint dir in which an earlier process's V2 create left
	// the slice size (a small upload, untimed), so the hashing pass
	// computes the slice MD5s of the right size. Otherwise the Client is
	// fresh and guesses 16 MiB.
	known  bool
	before bool // run by the -before build's child (skipped without -before)
}

var variants = []variant{
	{key: "sdk", name: "V1 64 MiB", slice: 64 * mib},
	{key: "sdk_limited64", name: "V1 64 MiB", slice: 64 * mib, limiter: true},
	{key: "sdk16", name: "V1 16 MiB", slice: 16 * mib},
	{key: "sdk_default", name: "V1 16 MiB (defaults)", slice: 16 * mib, limiter: true},
	{key: "sdk_v2", name: "V2 16 MiB", slice: 16 * mib, v2: true},
	{key: "sdk_v2_64", name: "V2 64 MiB guessed", slice: 64 * mib, v2: true},
	{key: "sdk_v2_64_known", name: "V2 64 MiB known", slice: 64 * mib, v2: true, known: true},
	{key: "sdk_v2_64_before", name: "V2 64 MiB guessed, -before", slice: 64 * mib, v2: true, before: true},
}

// sizeRow is the result of one file size on loopback.
type sizeRow struct {
	size     int64
	md5, put float64   // the floor's two parts, seconds, from its best run
	sdk      []float64 // per variant, seconds (best)
	rss      []int64   // per variant, peak RSS of the uploading process (worst)
	cpu      []float64 // per variant, CPU seconds of the uploading process in its best run
	alloc    []uint64  // per variant, Go heap bytes allocated by the uploading process (worst)
	floorAll []float64
	sdkAll   [][]float64
}

func (r sizeRow) floor() float64 { return r.md5 + r.put }

// v1Variant is the V1 variant, limiter off, with V2 variant v's slice size.
func v1Variant(v variant) int {
	return slices.IndexFunc(variants, func(w variant) bool { return !w.v2 && !w.limiter && w.slice == v.slice })
}

// v1 is the best time of the V1 variant that V2 variant v compares with.
func (r sizeRow) v1(v variant) float64 { return r.sdk[v1Variant(v)] }

// perRepVsV1 is variant i's time over its V1 variant's, rep by rep.
func (r sizeRow) perRepVsV1(i int) []float64 {
	var out []float64
	for k, t := range r.sdkAll[i] {
		out = append(out, t/r.sdkAll[v1Variant(variants[i])][k])
	}
	return out
}

// bound is what variant v cannot beat: the floor; with the limiter on, at
// least the MD5 pass plus the get_upload_url calls spaced 1/20 s apart (the
// first is free).
func (r sizeRow) bound(v variant) float64 {
	if !v.limiter || v.v2 {
		return r.floor()
	}
	slices := (r.size + v.slice - 1) / v.slice
	return max(r.floor(), r.md5+float64(slices-1)/urlQPS)
}

func (b *bench) sizeRun(ctx context.Context, size int64) (sizeRow, error) {
	inf := math.Inf(1)
	row := sizeRow{size: size, md5: inf, put: inf}
	for range variants {
		row.sdk = append(row.sdk, inf)
		row.rss = append(row.rss, 0)
		row.cpu = append(row.cpu, 0)
		row.alloc = append(row.alloc, 0)
		row.sdkAll = append(row.sdkAll, nil)
	}
	path, err := b.file(size)
	if err != nil {
		return row, err
	}
	fmt.Printf("== loopback %s, best of %d\n", sizeLabel(size), b.reps)
	for rep := 1; rep <= b.reps; rep++ {
		fl, err := floor(ctx, path)
		if err != nil {
			return row, err
		}
		if fl.Seconds < row.floor() {
			row.md5, row.put = fl.MD5, fl.Put
		}
		row.floorAll = append(row.floorAll, fl.Seconds)
		fmt.Printf("   rep %d: floor %.3fs (md5 %.3fs + put %.3fs)\n", rep, fl.Seconds, fl.MD5, fl.Put)
		for i, v := range variants {
			if v.before && b.before == "" {
				continue
			}
			res, err := b.upload(ctx, path, v)
			if err != nil {
				return row, err
			}
			if res.Seconds < row.sdk[i] {
				row.sdk[i], row.cpu[i] = res.Seconds, res.CPU
			}
			row.sdkAll[i] = append(row.sdkAll[i], res.Seconds)
			row.rss[i] = max(row.rss[i], res.PeakRSS)
			row.alloc[i] = max(row.alloc[i], res.TotalAlloc)
			fmt.Printf("          %-22s limiter %-3s %.3fs  (%.3f × this rep's floor, cpu %.2fs, rss %s, %d GCs)\n",
				v.name, onOff(v.limiter), res.Seconds, res.Seconds/fl.Seconds, res.CPU, fmtSize(res.PeakRSS), res.NumGC)
		}
	}
	return row, nil
}

// upload runs one UploadFile in a child process against a fresh fake.
func (b *bench) upload(ctx context.Context, path string, v variant) (childResult, error) {
	s := pan123test.NewServer(pan123test.WithStore(pan123test.StoreNothing), pan123test.WithSliceSize(v.slice))
	defer s.Close()
	cfg := childConfig{URL: s.URL, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		File: path, Concurrency: b.conc, NoLimits: !v.limiter, V2: v.v2}
	if v.known {
		dir, err := os.MkdirTemp(b.dir, "pan123bench-cp-*")
		if err != nil {
			return childResult{}, err
		}
		defer os.RemoveAll(dir)
		small, err := b.file(mib)
		if err != nil {
			return childResult{}, err
		}
		warm := cfg
		warm.File, warm.CheckpointDir = small, dir
		if _, err := runChildProcess(ctx, warm, ""); err != nil {
			return childResult{}, err
		}
		cfg.CheckpointDir = dir
	}
	exe := ""
	if v.before {
		exe = b.before
	}
	return runChildProcess(ctx, cfg, exe)
}

// floor runs the floor's client in a child process: one MD5 pass over the
// file, then one plain PUT of it (through an io.Reader, so no sendfile) to a
// handler here that discards the bytes.
func floor(ctx context.Context, path string) (childResult, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return childResult{}, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()
	return runChildProcess(ctx, childConfig{URL: "http://" + ln.Addr().String() + "/floor", File: path, Floor: true}, "")
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func printLoopback(rows []sizeRow, reps int) {
	var t bytes.Buffer
	fmt.Fprintf(&t, "\nLoopback, pan123test StoreNothing, default concurrency, best of %d (peak RSS: the worst run).\n", reps)
	fmt.Fprintf(&t, "floor = one MD5 pass + one plain net/http PUT of the file through an io.Reader (no sendfile), client\n")
	fmt.Fprintf(&t, "in another process. ratio = time / bound; bound = the floor, or with the rate limiter on\n")
	fmt.Fprintf(&t, "max(floor, md5 + (slices-1)/%d s).\n", urlQPS)
	fmt.Fprintf(&t, "cpu: user + system seconds of the uploading process (its best run).\n")
	fmt.Fprintf(&t, "%-6s %8s %8s %8s | %-26s %7s %8s %8s %7s %7s %9s\n",
		"size", "md5", "put", "floor", "sdk", "limiter", "time", "bound", "ratio", "cpu", "peak RSS")
	for _, r := range rows {
		for i, v := range variants {
			if math.IsInf(r.sdk[i], 1) {
				continue // not run
			}
			lead := fmt.Sprintf("%-6s %7.3fs %7.3fs %7.3fs", sizeLabel(r.size), r.md5, r.put, r.floor())
			if i > 0 {
				lead = fmt.Sprintf("%-6s %8s %8s %8s", "", "", "", "")
			}
			fmt.Fprintf(&t, "%s | %-26s %7s %7.3fs %7.3fs %7.3f %6.2fs %9s\n", lead, v.name, onOff(v.limiter), r.sdk[i], r.bound(v), r.sdk[i]/r.bound(v), r.cpu[i], fmtSize(r.rss[i]))
		}
		for i, v := range variants {
			if v.v2 && !math.IsInf(r.sdk[i], 1) {
				fmt.Fprintf(&t, "%-6s V2/V1, %-27s limiter off: %.3f (per rep: %s)\n", "", v.name+",", r.sdk[i]/r.v1(v), joinF(r.perRepVsV1(i)))
			}
		}
	}
	fmt.Print(t.String())
	fmt.Println()
	for _, r := range rows {
		sz := "size=" + sizeLabel(r.size)
		benchLine("floor_md5", sz, r.md5, "s")
		benchLine("floor_put", sz+" body=reader", r.put, "s")
		benchLine("floor", sz, r.floor(), "s")
		for i, v := range variants {
			if math.IsInf(r.sdk[i], 1) {
				continue
			}
			l := fmt.Sprintf("%s protocol=%s slice=%s limiter=%s", sz, map[bool]string{false: "v1", true: "v2"}[v.v2], sizeLabel(v.slice), onOff(v.limiter))
			benchLine(v.key+"_upload", l, r.sdk[i], "s")
			benchLine(v.key+"_bound", l, r.bound(v), "s")
			benchLine(v.key+"_ratio", l, r.sdk[i]/r.bound(v), "ratio")
			benchLine(v.key+"_peak_rss", l, float64(r.rss[i])/mib, "MiB")
			benchLine(v.key+"_cpu", l, r.cpu[i], "s")
			benchLine(v.key+"_heap_alloc", l, float64(r.alloc[i])/mib, "MiB")
			fmt.Printf("BENCH name=%s_samples %s floor=%s sdk=%s\n", v.key, l, joinF(r.floorAll), joinF(r.sdkAll[i]))
			if v.v2 {
				benchLine(v.key+"_vs_v1", l, r.sdk[i]/r.v1(v), "ratio")
			}
		}
	}
}
