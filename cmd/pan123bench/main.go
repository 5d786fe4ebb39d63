// Command pan123bench measures the SDK's upload path against the machine's
// own floor, in one run, and prints a table plus one machine-readable line
// per figure:
//
//	BENCH name=<figure> [key=value ...] value=<number> unit=<unit>
//
// For every size given with -sizes it generates a file (in -dir, removed at
// the end) and measures
//
//   - the floor: one MD5 pass over the file plus one plain single-stream
//     net/http PUT of all its bytes (the *os.File as the body) over loopback
//     to a discarding handler, timed separately and summed; and a strict
//     floor whose PUT is the faster of that and one with a plain io.Reader
//     body (a user-space copy instead of sendfile);
//   - UploadFile of the same file to pan123test (StoreNothing) with 64 MiB
//     slices and the rate limiter off (so that the platform's QPS does not
//     bind), and its ratio to both floors; the same with the default limiter,
//     against the MD5 pass plus (slices-1) ÷ 20 QPS;
//   - the same with the fake's default 16 MiB slices and the default rate
//     limiter (all defaults), against its own bound (the MD5 pass plus the
//     larger of the PUT and (slices-1) ÷ 20 QPS);
//   - the uploading process's peak RSS: every upload runs in a child process
//     (this binary re-executed) that reports its own VmHWM, while the fake
//     runs here, so that the fake's memory is not counted.
//
// Then a slow link: the fake throttles each slice body to -slow-rate and
// delays every request by -slow-latency; uploads with concurrency 1, 4, 8
// (of a file of -slow-per-conn bytes per worker) are compared with
// min(concurrency × rate, 20 get_upload_url/s × slice size).
//
// With -bwlimit it runs only the bandwidth-cap section (see bwlimit.go).
//
// Every figure is the best (lowest time) of -reps runs, and peak RSS the
// worst; runs of the floor and of the SDK are interleaved.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-pan123/pan123/pan123test"
)

const (
	childArg = "-internal-child-upload" // hidden: run one upload and report
	mib      = 1 << 20
	gib      = 1 << 30
	urlQPS   = 20 // get_upload_url, the platform's table and the SDK's default limiter
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == childArg {
		os.Exit(runChild(os.Args[2]))
	}
	var (
		sizesFlag   = flag.String("sizes", "64MiB,1GiB,4GiB", "comma-separated file sizes (KiB, MiB, GiB suffixes)")
		dir         = flag.String("dir", os.TempDir(), "where the generated files go (removed at the end)")
		quick       = flag.Bool("quick", false, "fast smoke run: small sizes, one rep, a short slow link")
		reps        = flag.Int("reps", 3, "runs of each measurement; the best time and the worst RSS are kept")
		conc        = flag.Int("concurrency", 0, "WithConcurrency for the loopback runs (0 = the SDK's default)")
		slow        = flag.Bool("slow", true, "run the slow-link section")
		slowRate    = flag.String("slow-rate", "4MiB", "slow link: bytes per second per connection")
		slowLatency = flag.Duration("slow-latency", 20*time.Millisecond, "slow link: added latency per request")
		slowConc    = flag.String("slow-conc", "1,4,8", "slow link: concurrencies")
		slowPerConn = flag.String("slow-per-conn", "64MiB", "slow link: file bytes per worker (file size = concurrency × this)")
		slowSlice   = flag.String("slow-slice", "16MiB", "slow link: slice size answered by the fake")
		treeFiles   = flag.Int("tree", 0, "measure UploadDir on a tree of this many files instead (0 = off)")
		treeFolders = flag.Int("tree-folders", 50, "UploadDir: folders in the tree")
		treeProto   = flag.String("tree-protocol", "auto", "UploadDir: v1, v2 or auto")
	)
	flag.Parse()
	if *treeFiles > 0 {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		check(treeRun(ctx, *dir, *treeFiles, *treeFolders, *treeProto))
		return
	}
	if *quick {
		if !flagSet("sizes") {
			*sizesFlag = "16MiB,64MiB"
		}
		if !flagSet("reps") {
			*reps = 1
		}
		if !flagSet("slow-rate") {
			*slowRate = "16MiB"
		}
		if !flagSet("slow-per-conn") {
			*slowPerConn = "16MiB"
		}
		if !flagSet("slow-conc") {
			*slowConc = "1,4"
		}
	}
	sizes, err := parseSizes(*sizesFlag)
	check(err)
	rate, err := parseSize(*slowRate)
	check(err)
	perConn, err := parseSize(*slowPerConn)
	check(err)
	slowSliceSize, err := parseSize(*slowSlice)
	check(err)
	concs, err := parseInts(*slowConc)
	check(err)
	if *reps < 1 {
		check(errors.New("-reps must be at least 1"))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *bwCaps != "" {
		check(runBandwidth(ctx, *dir)) // bwlimit.go
		return
	}
	b := &bench{dir: *dir, reps: *reps, conc: *conc}
	defer b.cleanup()

	fmt.Printf("pan123bench: %s %s/%s, %d CPUs (GOMAXPROCS %d), files in %s, best of %d\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), *dir, *reps)
	start := time.Now()
	var rows []sizeRow
	for _, size := range sizes {
		row, err := b.sizeRun(ctx, size)
		check(err)
		rows = append(rows, row)
	}
	var slowRows []slowRow
	if *slow {
		for _, c := range concs {
			r, err := b.slowRun(ctx, c, int64(c)*perConn, rate, *slowLatency, slowSliceSize)
			check(err)
			slowRows = append(slowRows, r)
		}
	}
	printTables(rows, slowRows, rate, *slowLatency)
	fmt.Printf("total wall time %.1fs\n", time.Since(start).Seconds())
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "pan123bench:", err)
		os.Exit(1)
	}
}

type bench struct {
	dir   string
	reps  int
	conc  int
	files []string
}

func (b *bench) cleanup() {
	for _, f := range b.files {
		os.Remove(f)
	}
}

// variant is one way of running UploadFile on loopback.
type variant struct {
	key      string // in BENCH lines
	title    string
	slice    int64
	noLimits bool
	v2       bool // WithProtocol(V2): slices posted with their MD5, hashed right before
}

var variants = []variant{
	{"sdk", "64 MiB slices, limiter off", 64 * mib, true, false},
	{"sdk_limited64", "64 MiB slices, default limiter", 64 * mib, false, false},
	{"sdk_default", "16 MiB slices, default limiter (all defaults)", pan123test.DefaultSliceSize, false, false},
	{"sdk_v2", "V2, 16 MiB slices, limiter off", pan123test.DefaultSliceSize, true, true},
}

// sizeRow is the result of one file size on loopback.
type sizeRow struct {
	size             int64
	md5              float64   // floor: the MD5 pass, seconds (best)
	putFile, putCopy float64   // floor: the PUT with an *os.File body (sendfile) and with a plain io.Reader body
	sdk              []float64 // per variant, seconds (best)
	rss              []int64   // per variant, peak RSS of the uploading process (worst)
	alloc            []uint64  // per variant, Go heap bytes allocated by the uploading process (worst)
	sdkAll, floorAll [][]float64
}

// The floor's PUT is the plain one: the *os.File itself as the body, as a
// program would write it (net/http then uses sendfile). The strict floor
// takes the faster of that and a user-space copy (an io.Reader body), which
// on some machines is faster over loopback.
func (r sizeRow) put() float64         { return r.putFile }
func (r sizeRow) floor() float64       { return r.md5 + r.put() }
func (r sizeRow) strictFloor() float64 { return r.md5 + min(r.putFile, r.putCopy) }

// bound is what variant v cannot beat: the floor when the limiter is off;
// with it on, the MD5 pass then the slower of the transfer and the
// get_upload_url calls spaced 1/20 s apart (the first is free).
func (r sizeRow) bound(v variant) float64 {
	if v.v2 {
		// V2 must send each slice's MD5 before its bytes: one more MD5
		// pass (slice by slice) on top of the floor's work.
		return r.floor() + r.md5
	}
	if v.noLimits {
		return r.floor()
	}
	slices := (r.size + v.slice - 1) / v.slice
	return r.md5 + max(float64(slices-1)/urlQPS, r.put())
}

func (b *bench) sizeRun(ctx context.Context, size int64) (sizeRow, error) {
	inf := math.Inf(1)
	row := sizeRow{size: size, md5: inf, putFile: inf, putCopy: inf}
	for range variants {
		row.sdk = append(row.sdk, inf)
		row.rss = append(row.rss, 0)
		row.alloc = append(row.alloc, 0)
		row.sdkAll = append(row.sdkAll, nil)
	}
	row.floorAll = make([][]float64, 1)
	fmt.Printf("== %s: generating...", sizeLabel(size))
	t0 := time.Now()
	path, err := b.generate(size)
	if err != nil {
		return row, err
	}
	fmt.Printf(" %.1fs\n", time.Since(t0).Seconds())
	defer os.Remove(path)

	for rep := 1; rep <= b.reps; rep++ {
		_, md5s, err := floorMD5(path)
		if err != nil {
			return row, err
		}
		putF, err := floorPut(ctx, path, size, true)
		if err != nil {
			return row, err
		}
		putC, err := floorPut(ctx, path, size, false)
		if err != nil {
			return row, err
		}
		row.md5, row.putFile, row.putCopy = min(row.md5, md5s), min(row.putFile, putF), min(row.putCopy, putC)
		fl := md5s + putF
		row.floorAll[0] = append(row.floorAll[0], fl)
		fmt.Printf("   rep %d: floor %.3fs (md5 %.3fs + put %.3fs; strict: put with a reader body %.3fs)\n", rep, fl, md5s, putF, putC)
		for i, v := range variants {
			res, err := b.upload(ctx, path, "", v)
			if err != nil {
				return row, err
			}
			row.sdk[i] = min(row.sdk[i], res.Seconds)
			row.sdkAll[i] = append(row.sdkAll[i], res.Seconds)
			row.rss[i] = max(row.rss[i], res.PeakRSS)
			row.alloc[i] = max(row.alloc[i], res.TotalAlloc)
			fmt.Printf("          %-46s %.3fs  (%.3f × this rep's floor, rss %s, %d GCs)\n", v.title, res.Seconds, res.Seconds/fl, fmtSize(res.PeakRSS), res.NumGC)
		}
	}
	return row, nil
}

// slowRow is one slow-link run.
type slowRow struct {
	conc    int
	size    int64
	slice   int64
	seconds float64
	rss     int64
	ideal   float64 // bytes per second
	got     float64
}

func (b *bench) slowRun(ctx context.Context, conc int, size, rate int64, latency time.Duration, slice int64) (slowRow, error) {
	fmt.Printf("== slow link: %s at %s/s per connection, +%v per request, concurrency %d...", fmtSize(size), fmtSize(rate), latency, conc)
	path, err := b.generate(size)
	if err != nil {
		return slowRow{}, err
	}
	defer os.Remove(path)
	sum, _, err := floorMD5(path) // the MD5 is given: this run measures the link, not the hash
	if err != nil {
		return slowRow{}, err
	}
	s := pan123test.NewServer(pan123test.WithStore(pan123test.StoreNothing), pan123test.WithSliceSize(slice),
		pan123test.WithBandwidth(rate), pan123test.WithLatency(latency))
	defer s.Close()
	res, err := runChildProcess(ctx, childConfig{URL: s.URL, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		File: path, MD5: sum, Concurrency: conc})
	if err != nil {
		return slowRow{}, err
	}
	r := slowRow{conc: conc, size: size, slice: slice, seconds: res.Seconds, rss: res.PeakRSS}
	r.ideal = min(float64(conc)*float64(rate), urlQPS*float64(slice))
	r.got = float64(size) / res.Seconds
	fmt.Printf(" %.2fs, %.2f MiB/s (%.3f × ideal)\n", res.Seconds, r.got/mib, r.got/r.ideal)
	return r, nil
}

// upload runs one UploadFile in a child process against a fresh fake.
func (b *bench) upload(ctx context.Context, path, sum string, v variant) (childResult, error) {
	s := pan123test.NewServer(pan123test.WithStore(pan123test.StoreNothing), pan123test.WithSliceSize(v.slice))
	defer s.Close()
	return runChildProcess(ctx, childConfig{URL: s.URL, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		File: path, MD5: sum, Concurrency: b.conc, NoLimits: v.noLimits, V2: v.v2})
}

// generate writes a file of pseudo-random bytes (every MiB differs) and
// syncs it, so that write-back does not run during the measurements.
func (b *bench) generate(size int64) (string, error) {
	f, err := os.CreateTemp(b.dir, "pan123bench-*.bin")
	if err != nil {
		return "", err
	}
	b.files = append(b.files, f.Name())
	buf := make([]byte, 4*mib)
	rng := rand.NewChaCha8([32]byte{'p', 'a', 'n', '1', '2', '3'})
	_, _ = rng.Read(buf)
	w := bufio.NewWriterSize(f, 0)
	for off := int64(0); off < size; {
		n := min(int64(len(buf)), size-off)
		for i := int64(0); i < n; i += mib {
			binary.LittleEndian.PutUint64(buf[i:], uint64(off+i))
		}
		if _, err := w.Write(buf[:n]); err != nil {
			f.Close()
			return "", err
		}
		off += n
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	return f.Name(), f.Close()
}

// floorMD5 is one plain MD5 pass over the file with 1 MiB reads.
func floorMD5(path string) (string, float64, error) {
	t0 := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := md5.New()
	buf := make([]byte, mib)
	for {
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", 0, err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), time.Since(t0).Seconds(), nil
}

// floorPut is one plain net/http PUT of the file over loopback to a handler
// that discards it. With fileBody the body is the *os.File itself (net/http
// then uses sendfile); otherwise a plain io.Reader (a user-space copy). The
// floor takes the faster of the two.
func floorPut(ctx context.Context, path string, size int64, fileBody bool) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}

	t0 := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var body io.Reader = f
	if !fileBody {
		body = struct{ io.Reader }{f} // hides *os.File: a user-space copy, no sendfile
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+ln.Addr().String()+"/floor", body)
	if err != nil {
		return 0, err
	}
	req.ContentLength = size
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("floor PUT: %s", resp.Status)
	}
	return time.Since(t0).Seconds(), nil
}

// childConfig is what the parent hands the uploading child.
type childConfig struct {
	URL, ClientID, ClientSecret string
	File                        string
	MD5                         string // given: no hashing pass
	Concurrency                 int    // 0 = default
	NoLimits                    bool   // WithoutRateLimits
	V2                          bool   // WithProtocol(V2)
}

// childResult is what the child reports on its last stdout line.
type childResult struct {
	Seconds    float64 // UploadFile, call to return
	PeakRSS    int64   // VmHWM, bytes
	MaxRSS     int64   // getrusage ru_maxrss, bytes
	TotalAlloc uint64  // bytes allocated on the Go heap during the whole process
	NumGC      uint32
	Err        string
}

func runChildProcess(ctx context.Context, cfg childConfig) (childResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return childResult{}, err
	}
	arg, _ := json.Marshal(cfg)
	cmd := exec.CommandContext(ctx, exe, childArg, string(arg))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return childResult{}, fmt.Errorf("child upload: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var res childResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		return res, fmt.Errorf("child upload: %w (output %q)", err, out)
	}
	if res.Err != "" {
		return res, fmt.Errorf("child upload: %s", res.Err)
	}
	return res, nil
}

func fmtSize(n int64) string {
	switch {
	case n >= gib && n%(gib/4) == 0:
		return strconv.FormatFloat(float64(n)/gib, 'f', -1, 64) + "GiB"
	case n >= mib:
		return strconv.FormatFloat(float64(n)/mib, 'f', 1, 64) + "MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + "KiB"
	}
	return strconv.FormatInt(n, 10) + "B"
}

func sizeLabel(n int64) string {
	switch {
	case n%gib == 0:
		return strconv.FormatInt(n/gib, 10) + "GiB"
	case n%mib == 0:
		return strconv.FormatInt(n/mib, 10) + "MiB"
	}
	return strconv.FormatInt(n, 10) + "B"
}

func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GiB", gib}, {"MiB", mib}, {"KiB", 1 << 10}, {"G", gib}, {"M", mib}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.m
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(n * float64(mult)), nil
}

func parseSizes(s string) ([]int64, error) {
	var out []int64
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for _, p := range strings.Split(s, ",") {
		n, err := parseSize(p)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad concurrency %q", p)
		}
		out = append(out, n)
	}
	return out, nil
}

func printTables(rows []sizeRow, slow []slowRow, rate int64, latency time.Duration) {
	var t bytes.Buffer
	fmt.Fprintf(&t, "\nLoopback, pan123test StoreNothing, default concurrency. floor = one MD5 pass + one plain net/http PUT\n")
	fmt.Fprintf(&t, "(single stream, *os.File body). strict = ratio to md5 + the faster of that PUT and one with an io.Reader\n")
	fmt.Fprintf(&t, "body (a user-space copy). Best of the runs for times; the worst run for peak RSS.\n")
	fmt.Fprintf(&t, "%-6s %8s %8s %8s %9s | %-13s %9s %8s %7s %7s %8s %9s\n",
		"size", "md5", "put", "floor", "floor/GiB", "sdk variant", "time", "bound", "ratio", "strict", "s/GiB", "peak RSS")
	for _, r := range rows {
		g := float64(r.size) / gib
		for i, v := range variants {
			lead := fmt.Sprintf("%-6s %7.3fs %7.3fs %7.3fs %8.3fs", sizeLabel(r.size), r.md5, r.put(), r.floor(), r.floor()/g)
			if i > 0 {
				lead = fmt.Sprintf("%-6s %8s %8s %8s %9s", "", "", "", "", "")
			}
			name := map[string]string{"sdk": "64Mi", "sdk_limited64": "64Mi+limiter", "sdk_default": "16Mi+limiter", "sdk_v2": "V2 16Mi"}[v.key]
			strict := "-"
			if v.noLimits && !v.v2 {
				strict = fmt.Sprintf("%.3f", r.sdk[i]/r.strictFloor())
			}
			fmt.Fprintf(&t, "%s | %-13s %8.3fs %7.3fs %7.3f %7s %7.3fs %9s\n", lead, name, r.sdk[i], r.bound(v), r.sdk[i]/r.bound(v), strict, r.sdk[i]/g, fmtSize(r.rss[i]))
		}
	}
	fmt.Fprintf(&t, "bound: the floor when the limiter is off; with it on, md5 + max(put, (slices-1)/%d s); V2: floor + md5 (slice MD5s)\n", urlQPS)
	if len(slow) > 0 {
		fmt.Fprintf(&t, "\nSlow link: %s/s per connection, +%v per request, MD5 given (no hashing pass), default limiter;\n", fmtSize(rate), latency)
		fmt.Fprintf(&t, "ideal = min(c × rate, %d/s × slice); time is UploadFile from call to return (create, slices, complete)\n", urlQPS)
		fmt.Fprintf(&t, "%-5s %7s %7s %9s %11s %11s %7s %9s\n", "conc", "file", "slice", "time", "MiB/s", "ideal MiB/s", "ratio", "peak RSS")
		for _, r := range slow {
			fmt.Fprintf(&t, "%-5d %7s %7s %8.2fs %11.2f %11.2f %7.3f %9s\n",
				r.conc, sizeLabel(r.size), sizeLabel(r.slice), r.seconds, r.got/mib, r.ideal/mib, r.got/r.ideal, fmtSize(r.rss))
		}
	}
	fmt.Print(t.String())
	fmt.Println()
	for _, r := range rows {
		sz := "size=" + sizeLabel(r.size)
		g := float64(r.size) / gib
		line := func(name, extra string, v float64, unit string) {
			if extra != "" {
				extra += " "
			}
			fmt.Printf("BENCH name=%s %s %svalue=%s unit=%s\n", name, sz, extra, strconv.FormatFloat(v, 'f', 4, 64), unit)
		}
		line("floor_md5", "", r.md5, "s")
		line("floor_put", "body=file", r.put(), "s")
		line("floor_put_reader", "body=reader", r.putCopy, "s")
		line("floor", "", r.floor(), "s")
		line("floor_strict", "", r.strictFloor(), "s")
		line("floor_per_gib", "", r.floor()/g, "s/GiB")
		for i, v := range variants {
			lim := "on"
			if v.noLimits {
				lim = "off"
			}
			extra := fmt.Sprintf("slice=%s limiter=%s", sizeLabel(v.slice), lim)
			line(v.key+"_upload", extra, r.sdk[i], "s")
			line(v.key+"_bound", extra, r.bound(v), "s")
			line(v.key+"_ratio", extra, r.sdk[i]/r.bound(v), "ratio")
			if v.noLimits && !v.v2 {
				line(v.key+"_ratio_strict", extra, r.sdk[i]/r.strictFloor(), "ratio")
			}
			line(v.key+"_per_gib", extra, r.sdk[i]/g, "s/GiB")
			line(v.key+"_peak_rss", extra, float64(r.rss[i])/mib, "MiB")
			line(v.key+"_heap_alloc", extra, float64(r.alloc[i])/mib, "MiB")
		}
		fmt.Printf("BENCH name=samples %s floor=%s sdk=%s\n", sz, joinF(r.floorAll[0]), joinF(r.sdkAll[0]))
	}
	for _, r := range slow {
		pre := fmt.Sprintf("conc=%d size=%s rate=%s/s latency=%v slice=%s", r.conc, sizeLabel(r.size), sizeLabel(int64(rate)), latency, sizeLabel(r.slice))
		fmt.Printf("BENCH name=slow_throughput %s value=%.4f unit=MiB/s\n", pre, r.got/mib)
		fmt.Printf("BENCH name=slow_ideal %s value=%.4f unit=MiB/s\n", pre, r.ideal/mib)
		fmt.Printf("BENCH name=slow_ratio %s value=%.4f unit=ratio\n", pre, r.got/r.ideal)
		fmt.Printf("BENCH name=slow_peak_rss %s value=%.4f unit=MiB\n", pre, float64(r.rss)/mib)
	}
}

func joinF(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatFloat(x, 'f', 3, 64)
	}
	return strings.Join(s, ",")
}
