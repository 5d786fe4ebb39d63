// Command pan123bench measures the SDK's upload path against what no client
// could beat, in one run, and prints tables plus one machine-readable line
// per figure:
//
//	BENCH name=<figure> [key=value ...] value=<number> unit=<unit>
//
// Sections (each can be turned off):
//
//   - Loopback (-sizes): for each size a generated file is uploaded to
//     pan123test (StoreNothing) in several ways and compared with the
//     floor measured in the same run: one MD5 pass over the file plus one
//     plain single-stream net/http PUT of all its bytes through an ordinary
//     io.Reader (not the *os.File, which would let net/http use sendfile),
//     from a child process to a discarding server in this one. With the
//     rate limiter on, the bound is the larger of the floor and the MD5
//     pass plus the get_upload_url calls paced at 20/s.
//   - Links (-links): the fake throttles each slice body and delays
//     requests, as a real link does; throughput at concurrency 1, 4 and 8
//     is compared with the ideal min(c × per-connection rate, 20
//     get_upload_url/s × slice size), over the whole call and against the
//     ideal time plus the round trips no client can overlap.
//
// With -bwlimit it runs only the bandwidth-cap section (see bwlimit.go),
// with -tree only the folder-tree section (see tree.go), with -pacing only
// the adaptive-pacing section (see pacing.go).
//
// Every upload (and the floor's client side) runs in a child process (this
// binary re-executed) that reports its own peak RSS, while the fake runs
// here, so that the fake's memory is not counted.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	childArg = "-internal-child" // hidden: run one upload (or the floor) and report
	mib      = 1 << 20
	gib      = 1 << 30
	urlQPS   = 20 // get_upload_url, the platform's table and the SDK's default limiter
)

// flags are the command line; sections read what they need.
type flags struct {
	sizes    string
	dir      string
	quick    bool
	reps     int
	conc     int
	links    string
	linkConc string
	before   string
	linkV2   bool
}

func parseFlags() flags {
	var f flags
	flag.StringVar(&f.sizes, "sizes", "64MiB,1GiB,4GiB", "loopback: comma-separated file sizes (KiB, MiB, GiB suffixes); empty to skip")
	flag.StringVar(&f.dir, "dir", os.TempDir(), "where the generated files go (removed at the end)")
	flag.BoolVar(&f.quick, "quick", false, "fast smoke run: small sizes, one rep, smaller link files, concurrency 1 and 4")
	flag.IntVar(&f.reps, "reps", 3, "loopback: runs of each measurement; the best time and the worst RSS are kept")
	flag.IntVar(&f.conc, "concurrency", 0, "loopback: WithConcurrency (0 = the SDK's default)")
	flag.StringVar(&f.links, "links", "a,b,c", "links to run (a, b, c; see the table); empty to skip")
	flag.StringVar(&f.linkConc, "link-conc", "1,4,8", "links: concurrencies")
	flag.BoolVar(&f.linkV2, "link-v2", false, "links: run each link under V2 too (slice MD5s hashed per slice: the MD5 is given)")
	flag.StringVar(&f.before, "before", "", "another build of pan123bench (an earlier SDK) whose child also runs the V2 64 MiB loopback upload and every link, side by side")
	flag.Parse()
	if f.quick {
		if !flagSet("sizes") {
			f.sizes = "16MiB,64MiB"
		}
		if !flagSet("reps") {
			f.reps = 1
		}
		if !flagSet("link-conc") {
			f.linkConc = "1,4"
		}
	}
	if f.reps < 1 {
		check(errors.New("-reps must be at least 1"))
	}
	return f
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == childArg {
		os.Exit(runChild(os.Args[2]))
	}
	f := parseFlags()
	sizes, err := parseSizes(f.sizes)
	check(err)
	concs, err := parseInts(f.linkConc)
	check(err)
	ls, err := pickLinks(f.links, f.quick, f.linkV2)
	check(err)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *bwCaps != "" {
		check(runBandwidth(ctx, f.dir)) // bwlimit.go
		return
	}
	if *pacingOn {
		check(runPacing(ctx)) // pacing.go
		return
	}
	if *treeFiles > 0 {
		check(treeRun(ctx, f.dir, *treeFiles, *treeFolders, *treeProto)) // tree.go
		return
	}
	b := &bench{dir: f.dir, reps: f.reps, conc: f.conc, before: f.before}
	defer b.cleanup()

	fmt.Printf("pan123bench: %s %s/%s, %d CPUs (GOMAXPROCS %d), files in %s\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), f.dir)
	start := time.Now()
	var rows []sizeRow
	for _, size := range sizes {
		row, err := b.sizeRun(ctx, size)
		check(err)
		rows = append(rows, row)
	}
	var lrows []linkRow
	for _, l := range ls {
		for _, c := range concs {
			r, err := b.linkRun(ctx, l, c)
			check(err)
			lrows = append(lrows, r)
		}
	}
	if len(rows) > 0 {
		printLoopback(rows, b.reps)
	}
	if len(lrows) > 0 {
		printLinks(lrows)
	}
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
	dir       string
	reps      int
	conc      int
	before    string // -before
	files     []string
	generated map[int64]string  // size -> file, reused by the link runs
	sums      map[string]string // file -> MD5
}

func (b *bench) cleanup() {
	for _, f := range b.files {
		os.Remove(f)
	}
}

// file returns a file of size pseudo-random bytes (every MiB differs),
// generated once and synced, so that write-back does not run during the
// measurements.
func (b *bench) file(size int64) (string, error) {
	if p, ok := b.generated[size]; ok {
		return p, nil
	}
	fmt.Printf("== generating %s...", sizeLabel(size))
	t0 := time.Now()
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
	if err := f.Close(); err != nil {
		return "", err
	}
	fmt.Printf(" %.1fs\n", time.Since(t0).Seconds())
	if b.generated == nil {
		b.generated = map[int64]string{}
	}
	b.generated[size] = f.Name()
	return f.Name(), nil
}

// childConfig is what the parent hands the child.
type childConfig struct {
	URL, ClientID, ClientSecret string
	File                        string
	MD5                         string // given: no hashing pass
	Concurrency                 int    // 0 = default
	NoLimits                    bool   // WithoutRateLimits
	V2                          bool   // WithProtocol(V2)
	CheckpointDir               string // WithCheckpointDir
	Trace                       bool   // time every request and report a traceSummary
	Floor                       bool   // no SDK: the floor's MD5 pass, then a plain PUT of the file to URL
}

// childResult is what the child reports on its last stdout line.
type childResult struct {
	Seconds    float64 // UploadFile, call to return (floor: MD5 + PUT)
	MD5, Put   float64 // floor only: the two parts of Seconds
	PeakRSS    int64   // VmHWM, bytes
	CPU        float64 // user + system seconds of the whole process
	TotalAlloc uint64  // bytes allocated on the Go heap during the whole process
	NumGC      uint32
	Trace      *traceSummary
	Err        string
}

// runChildProcess runs cfg in a child process of this binary, or of exe
// when it is not "".
func runChildProcess(ctx context.Context, cfg childConfig, exe string) (childResult, error) {
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return childResult{}, err
		}
	}
	arg, _ := json.Marshal(cfg)
	cmd := exec.CommandContext(ctx, exe, childArg, string(arg))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return childResult{}, fmt.Errorf("child: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var res childResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		return res, fmt.Errorf("child: %w (output %q)", err, out)
	}
	if res.Err != "" {
		return res, fmt.Errorf("child: %s", res.Err)
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

// benchLine prints one machine-readable figure.
func benchLine(name, labels string, v float64, unit string) {
	if labels != "" {
		labels += " "
	}
	fmt.Printf("BENCH name=%s %svalue=%s unit=%s\n", name, labels, strconv.FormatFloat(v, 'f', 4, 64), unit)
}

func joinF(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatFloat(x, 'f', 3, 64)
	}
	return strings.Join(s, ",")
}
