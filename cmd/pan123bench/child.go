package main

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/go-pan123/pan123"
)

// runChild is the uploading process: one UploadFile with default settings
// (but for what cfg says), timed from call to return, then its own peak RSS.
func runChild(arg string) int {
	var cfg childConfig
	res := childResult{}
	defer func() {
		b, _ := json.Marshal(res)
		os.Stdout.Write(append(b, '\n'))
	}()
	if err := json.Unmarshal([]byte(arg), &cfg); err != nil {
		res.Err = err.Error()
		return 0
	}
	if cfg.Floor {
		res = runFloor(cfg)
		res.PeakRSS = vmHWM()
		return 0
	}
	opts := []pan123.Option{pan123.WithBaseURL(cfg.URL)}
	var tr *tracer
	if cfg.Trace {
		tr = newTracer()
		opts = append(opts, pan123.WithHTTPClient(&http.Client{Transport: tr}))
	}
	if cfg.NoLimits {
		opts = append(opts, pan123.WithoutRateLimits())
	}
	c, err := pan123.New(cfg.ClientID, cfg.ClientSecret, opts...)
	if err != nil {
		res.Err = err.Error()
		return 0
	}
	var uopts []pan123.UploadOption
	if cfg.V2 {
		uopts = append(uopts, pan123.WithProtocol(pan123.V2))
	}
	if cfg.Concurrency > 0 {
		uopts = append(uopts, pan123.WithConcurrency(cfg.Concurrency))
	}
	if cfg.CheckpointDir != "" {
		uopts = append(uopts, pan123.WithCheckpointDir(cfg.CheckpointDir))
	}
	t0 := time.Now()
	if os.Getenv("PAN123BENCH_PHASES") != "" { // diagnostics: phase times on stderr
		uopts = append(uopts, pan123.WithProgress(func(p pan123.Progress) {
			if p.Event == pan123.EventPhase {
				fmt.Fprintf(os.Stderr, "  child: %-10v at %.3fs\n", p.Phase, time.Since(t0).Seconds())
			}
		}))
	}
	u := pan123.NewUploader(c, uopts...)
	ctx := context.Background()
	memDebug := os.Getenv("PAN123BENCH_MEM") != "" // diagnostics: memory at start and end on stderr
	if memDebug {
		printMem("start")
	}
	t0 = time.Now()
	_, err = u.UploadFile(ctx, cfg.File, pan123.FileInput{MD5: cfg.MD5})
	res.Seconds = time.Since(t0).Seconds()
	if err != nil {
		res.Err = err.Error()
	}
	if tr != nil && err == nil {
		conc := cfg.Concurrency
		if conc == 0 {
			conc = pan123.DefaultConcurrency
		}
		res.Trace = tr.summary(conc)
	}
	res.PeakRSS, res.CPU = vmHWM(), cpuSeconds()
	if memDebug {
		printMem("end")
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.TotalAlloc, res.NumGC = ms.TotalAlloc, ms.NumGC
	return 0
}

// runFloor is the floor's client: one MD5 pass over the file with 1 MiB
// reads, then one PUT of the file through a plain io.Reader (hiding the
// *os.File, so that net/http copies in user space rather than use sendfile,
// as the SDK's slice bodies do).
func runFloor(cfg childConfig) childResult {
	var res childResult
	fail := func(err error) childResult { res.Err = err.Error(); return res }
	f, err := os.Open(cfg.File)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	t0 := time.Now()
	if _, err := io.CopyBuffer(md5.New(), struct{ io.Reader }{f}, make([]byte, 1<<20)); err != nil {
		return fail(err)
	}
	res.MD5 = time.Since(t0).Seconds()
	t1 := time.Now()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	req, err := http.NewRequest(http.MethodPut, cfg.URL, struct{ io.Reader }{f})
	if err != nil {
		return fail(err)
	}
	req.ContentLength = st.Size()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fail(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("floor PUT: %s", resp.Status))
	}
	res.Put = time.Since(t1).Seconds()
	res.Seconds = res.MD5 + res.Put
	return res
}

// vmHWM is the process's peak resident set size from /proc/self/status.
func vmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func printMem(when string) {
	b, _ := os.ReadFile("/proc/self/status")
	var kept []string
	for _, l := range strings.Split(string(b), "\n") {
		for _, k := range []string{"VmHWM", "VmRSS", "RssAnon", "RssFile", "Threads"} {
			if strings.HasPrefix(l, k+":") {
				kept = append(kept, strings.Join(strings.Fields(l), " "))
			}
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(os.Stderr, "  child mem %s: %s | HeapSys %dK HeapInuse %dK HeapReleased %dK StackSys %dK Sys %dK NumGC %d TotalAlloc %dK\n",
		when, strings.Join(kept, ", "), ms.HeapSys>>10, ms.HeapInuse>>10, ms.HeapReleased>>10, ms.StackSys>>10, ms.Sys>>10, ms.NumGC, ms.TotalAlloc>>10)
}
