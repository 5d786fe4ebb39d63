package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-pan123/pan123/pan123test"
)

// link is a real link as the fake plays it: each slice body is throttled to
// rate per connection, every request waits latency, and API calls (not the
// storage hosts) apiLatency more.
type link struct {
	key        string
	desc       string
	size       int64 // the file
	slice      int64
	rate       int64 // bytes per second per connection
	latency    time.Duration
	apiLatency time.Duration
	v2         bool // WithProtocol(V2): slices posted with their MD5, no URL per slice
}

var links = []link{
	{"a", "slow link", 128 * mib, 4 * mib, 8 * mib, 20 * time.Millisecond, 0, false},
	{"b", "API host far away", 128 * mib, 4 * mib, 8 * mib, 20 * time.Millisecond, 150 * time.Millisecond, false},
	{"c", "fast storage, API at 60 ms", 512 * mib, 16 * mib, 32 * mib, 0, 60 * time.Millisecond, false},
}

// pickLinks returns the links named in list ("a,b"); quick quarters their
// files; v2 adds each again under V2.
func pickLinks(list string, quick, v2 bool) ([]link, error) {
	var out []link
	for _, k := range strings.Split(list, ",") {
		if k = strings.TrimSpace(k); k == "" {
			continue
		}
		i := slices.IndexFunc(links, func(l link) bool { return l.key == k })
		if i < 0 {
			return nil, fmt.Errorf("unknown link %q (have a, b, c)", k)
		}
		l := links[i]
		if quick {
			l.size /= 4
		}
		out = append(out, l)
	}
	if v2 {
		for _, l := range out {
			l.key, l.v2 = l.key+"-v2", true
			out = append(out, l)
		}
	}
	return out, nil
}

// ideal is the link's throughput bound at concurrency c: every connection
// at full rate, or the get_upload_url pacing, whichever binds (V2 has no
// URL per slice).
func (l link) ideal(c int) float64 {
	if l.v2 {
		return float64(c) * float64(l.rate)
	}
	return min(float64(c)*float64(l.rate), urlQPS*float64(l.slice))
}

// chain is the time no client can overlap with the transfer: access_token,
// create, the first get_upload_url (V1) and upload_complete, each one API
// round trip.
func (l link) chain() time.Duration {
	if l.v2 {
		return 3 * (l.latency + l.apiLatency)
	}
	return 4 * (l.latency + l.apiLatency)
}

// urlRelease is when slice k's (0-based) URL can be there at the earliest,
// after the first: get_upload_url is paced at urlQPS; V2 needs none.
func (l link) urlRelease(k int) float64 {
	if l.v2 {
		return 0
	}
	return float64(k) / urlQPS
}

// linkRow is one link run.
type linkRow struct {
	l       link
	conc    int
	seconds float64
	rss     int64
	urlPeak int // most get_upload_url calls the fake saw in any 1 s window
	refused int // requests the fake answered 429
	trace   *traceSummary
	before  float64 // the -before build's time, 0 if not run
}

func (r linkRow) got() float64       { return float64(r.l.size) / r.seconds }
func (r linkRow) ratio() float64     { return r.got() / r.l.ideal(r.conc) }
func (r linkRow) boundTime() float64 { return r.l.chain().Seconds() + r.l.schedule(r.conc) }
func (r linkRow) idealTime() float64 { return float64(r.l.size) / r.l.ideal(r.conc) }

// schedule is the shortest time in which c connections can send the file's
// slices when get_upload_url answers at most urlQPS a second (URL k comes
// (k-1)/urlQPS s after the first at the earliest) and each slice runs at
// the link's rate after the storage host's latency (each PUT waits for it,
// and a connection carries one PUT at a time): slices in order, each on the
// connection free first, which is optimal for equal slices with release
// times. Unlike size/ideal, it counts the ramp while the first c URLs come
// in, and each PUT's wait.
func (l link) schedule(c int) float64 {
	free := make([]float64, c)
	end := 0.0
	for k, off := 0, int64(0); off < l.size; k, off = k+1, off+l.slice {
		i := 0
		for j := range free {
			if free[j] < free[i] {
				i = j
			}
		}
		start := max(free[i], l.urlRelease(k))
		free[i] = start + l.latency.Seconds() + float64(min(l.slice, l.size-off))/float64(l.rate)
		end = max(end, free[i])
	}
	return end
}

// server is a fake that plays the link.
func (l link) server() *pan123test.Server {
	return pan123test.NewServer(pan123test.WithStore(pan123test.StoreNothing), pan123test.WithSliceSize(l.slice),
		pan123test.WithBandwidth(l.rate), pan123test.WithLatency(l.latency), pan123test.WithAPILatency(l.apiLatency),
		// The platform's table, enforced per calendar second.
		pan123test.WithRateLimit(pan123test.OpAccessToken, 8, time.Second),
		pan123test.WithRateLimit(pan123test.OpCreate, 5, time.Second),
		pan123test.WithRateLimit(pan123test.OpGetUploadURL, urlQPS, time.Second),
		pan123test.WithRateLimit(pan123test.OpComplete, 20, time.Second))
}

func (b *bench) linkRun(ctx context.Context, l link, conc int) (linkRow, error) {
	path, err := b.file(l.size)
	if err != nil {
		return linkRow{}, err
	}
	sum, err := b.md5(path) // given: this run measures the link, not the hash
	if err != nil {
		return linkRow{}, err
	}
	fmt.Printf("== link %s (%s): %s, %s slices, %s/s per connection, +%v per request, +%v per API call, concurrency %d...",
		l.key, l.desc, sizeLabel(l.size), sizeLabel(l.slice), sizeLabel(l.rate), l.latency, l.apiLatency, conc)
	s := l.server()
	defer s.Close()
	res, err := runChildProcess(ctx, childConfig{URL: s.URL, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
		File: path, MD5: sum, Concurrency: conc, Trace: true, V2: l.v2}, "")
	if err != nil {
		return linkRow{}, err
	}
	before := 0.0
	if b.before != "" { // the same on the -before build, against a fresh fake
		bs := l.server()
		bres, err := runChildProcess(ctx, childConfig{URL: bs.URL, ClientID: bs.ClientID, ClientSecret: bs.ClientSecret,
			File: path, MD5: sum, Concurrency: conc, V2: l.v2}, b.before)
		bs.Close()
		if err != nil {
			return linkRow{}, err
		}
		before = bres.Seconds
	}
	r := linkRow{l: l, conc: conc, seconds: res.Seconds, rss: res.PeakRSS, urlPeak: peakPerSecond(s, pan123test.OpGetUploadURL), trace: res.Trace, before: before}
	for _, q := range s.Requests() {
		if q.Code == pan123test.CodeTooManyRequests {
			r.refused++
		}
	}
	fmt.Printf(" %.2fs, %.2f MiB/s (%.3f × ideal, %.3f × bound)", res.Seconds, r.got()/mib, r.ratio(), r.boundTime()/r.seconds)
	if before > 0 {
		fmt.Printf("; -before: %.2fs (%.3f × bound)", before, r.boundTime()/before)
	}
	fmt.Println()
	return r, nil
}

// peakPerSecond is the most requests to op that s saw in any 1 s window
// (sliding, so it can exceed a limit enforced per calendar second).
func peakPerSecond(s *pan123test.Server, op pan123test.Op) int {
	var ts []time.Time
	for _, r := range s.Requests() {
		if r.Op == op {
			ts = append(ts, r.Time)
		}
	}
	peak := 0
	for i, j := 0, 0; j < len(ts); j++ {
		for ts[j].Sub(ts[i]) >= time.Second {
			i++
		}
		peak = max(peak, j-i+1)
	}
	return peak
}

// md5 hashes the file once per bench.
func (b *bench) md5(path string) (string, error) {
	if s, ok := b.sums[path]; ok {
		return s, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	if b.sums == nil {
		b.sums = map[string]string{}
	}
	b.sums[path] = hex.EncodeToString(h.Sum(nil))
	return b.sums[path], nil
}

func printLinks(rows []linkRow) {
	var t bytes.Buffer
	fmt.Fprintf(&t, "\nLinks: the fake throttles each slice body per connection, delays requests and enforces the QPS table\n")
	fmt.Fprintf(&t, "(429 past it, per calendar second); MD5 given (no hashing pass), default rate limiter; time is\n")
	fmt.Fprintf(&t, "UploadFile from call to return (token, create, slices, complete). 429s: answered by the fake.\n")
	fmt.Fprintf(&t, "ideal = min(c × rate, %d get_upload_url/s × slice); ratio = (size / time) / ideal.\n", urlQPS)
	fmt.Fprintf(&t, "bound = the best schedule of the slices on c connections, each PUT taking the storage latency then\n")
	fmt.Fprintf(&t, "slice/rate, with URLs paced at %d/s (so it counts the ramp while the first c URLs come in), + the\n", urlQPS)
	fmt.Fprintf(&t, "API round trips no client can overlap (token, create, first URL, complete); vs bound = bound / time.\n")
	fmt.Fprintf(&t, "URL/s: most get_upload_url calls the fake saw in any 1 s window.\n")
	fmt.Fprintf(&t, "bound/ideal = ideal time / bound: the most any client reaches of the ideal.\n")
	fmt.Fprintf(&t, "-v2: under V2 (no URL per slice: ideal c × rate, bound without pacing and 3 API round trips);\n")
	fmt.Fprintf(&t, "before: the -before build's vs bound.\n")
	fmt.Fprintf(&t, "%-5s %-7s %-6s %-8s %-9s %-9s %4s | %8s %8s %8s %6s %8s %8s %11s %5s %4s %8s %7s\n",
		"link", "file", "slice", "rate", "latency", "API +", "conc", "time", "MiB/s", "ideal", "ratio", "bound", "vs bound", "bound/ideal", "URL/s", "429s", "peak RSS", "before")
	for _, r := range rows {
		before := "-"
		if r.before > 0 {
			before = fmt.Sprintf("%.3f", r.boundTime()/r.before)
		}
		fmt.Fprintf(&t, "%-5s %-7s %-6s %-8s %-9v %-9v %4d | %7.2fs %8.2f %8.2f %6.3f %7.2fs %8.3f %11.3f %5d %4d %8s %7s\n",
			r.l.key, sizeLabel(r.l.size), sizeLabel(r.l.slice), sizeLabel(r.l.rate)+"/s", r.l.latency, r.l.apiLatency, r.conc,
			r.seconds, r.got()/mib, r.l.ideal(r.conc)/mib, r.ratio(), r.boundTime(), r.boundTime()/r.seconds, r.idealTime()/r.boundTime(), r.urlPeak, r.refused, fmtSize(r.rss), before)
	}
	fmt.Fprintf(&t, "\nWhere the time went (the child's own timing of each request; seconds). before: until the first\n")
	fmt.Fprintf(&t, "slice starts (token, create, first URL); after: the last slice's end to the end (complete). Idle\n")
	fmt.Fprintf(&t, "connection-seconds while slices ran: ramp (before c ran at once), wait URL (a freed connection's\n")
	fmt.Fprintf(&t, "next slice had no URL yet), gap (its URL was there: the SDK's own time between two sends), tail\n")
	fmt.Fprintf(&t, "(nothing left to send). URLs late: get_upload_url calls that started after one for a later slice.\n")
	fmt.Fprintf(&t, "slice: mean and longest time of one slice's send; model: latency + slice/rate, as the bound has it.\n")
	fmt.Fprintf(&t, "%-5s %4s | %7s %7s %7s %7s | %7s %8s %7s %7s | %9s %7s %7s %7s | %9s\n",
		"link", "conc", "total", "before", "slices", "after", "ramp", "wait URL", "gap", "tail", "URLs late", "slice", "longest", "model", "bound ch.")
	for _, r := range rows {
		if s := r.trace; s != nil {
			fmt.Fprintf(&t, "%-5s %4d | %7.3f %7.3f %7.3f %7.3f | %7.3f %8.3f %7.3f %7.3f | %9d %7.3f %7.3f %7.3f | %9.3f\n",
				r.l.key, r.conc, s.Total, s.Before, s.Slices, s.After, s.Ramp, s.WaitURL, s.Gap, s.Tail, s.URLOutOfOrder, s.MeanSlice, s.MaxSlice,
				r.l.latency.Seconds()+float64(r.l.slice)/float64(r.l.rate), r.l.chain().Seconds())
		}
	}
	fmt.Print(t.String())
	fmt.Println()
	for _, r := range rows {
		l := fmt.Sprintf("link=%s conc=%d size=%s slice=%s rate=%s/s latency=%v api_latency=%v",
			r.l.key, r.conc, sizeLabel(r.l.size), sizeLabel(r.l.slice), sizeLabel(r.l.rate), r.l.latency, r.l.apiLatency)
		benchLine("link_throughput", l, r.got()/mib, "MiB/s")
		benchLine("link_ideal", l, r.l.ideal(r.conc)/mib, "MiB/s")
		benchLine("link_ratio", l, r.ratio(), "ratio")
		benchLine("link_vs_bound", l, r.boundTime()/r.seconds, "ratio")
		benchLine("link_bound_vs_ideal", l, r.idealTime()/r.boundTime(), "ratio")
		if r.before > 0 {
			benchLine("link_before_vs_bound", l, r.boundTime()/r.before, "ratio")
		}
		if s := r.trace; s != nil {
			benchLine("link_idle_wait_url", l, s.WaitURL, "conn_s")
			benchLine("link_idle_gap", l, s.Gap, "conn_s")
			benchLine("link_urls_out_of_order", l, float64(s.URLOutOfOrder), "calls")
			benchLine("link_mean_slice", l, s.MeanSlice, "s")
		}
		benchLine("link_url_peak", l, float64(r.urlPeak), "per_s")
		benchLine("link_429s", l, float64(r.refused), "requests")
		benchLine("link_peak_rss", l, float64(r.rss)/mib, "MiB")
	}
}
