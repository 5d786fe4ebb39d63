package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
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
	opts := []pan123.Option{pan123.WithBaseURL(cfg.URL)}
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
	res.PeakRSS = vmHWM()
	if memDebug {
		printMem("end")
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		res.MaxRSS = ru.Maxrss << 10
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.TotalAlloc, res.NumGC = ms.TotalAlloc, ms.NumGC
	return 0
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
