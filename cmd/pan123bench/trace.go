package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// tracer wraps the uploading process's transport and records when each
// request started and ended, so that a link run can say where its time
// went (see traceSummary).
type tracer struct {
	next http.RoundTripper
	t0   time.Time

	mu    sync.Mutex
	spans []span
}

// span is one request: its kind, its slice (URLs and PUTs; 0 if none or
// unknown) and its start and end, in seconds since t0.
type span struct {
	kind       string // token, create, url, put, post (a V2 slice), complete, other
	no         int
	start, end float64
}

func newTracer() *tracer {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64 // as the SDK's own transport
	return &tracer{next: t, t0: time.Now()}
}

func (t *tracer) RoundTrip(r *http.Request) (*http.Response, error) {
	s := span{kind: kindOf(r), start: time.Since(t.t0).Seconds()}
	switch s.kind {
	case "put": // the fake's presigned path ends in the slice number
		s.no, _ = strconv.Atoi(path.Base(r.URL.Path))
	case "url": // {"preuploadID": …, "sliceNo": n}
		if r.Body != nil {
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(b))
			var q struct{ SliceNo int }
			_ = json.Unmarshal(b, &q)
			s.no = q.SliceNo
		}
	}
	resp, err := t.next.RoundTrip(r)
	s.end = time.Since(t.t0).Seconds() // the answer's head: the SDK reads a few bytes more
	t.mu.Lock()
	t.spans = append(t.spans, s)
	t.mu.Unlock()
	return resp, err
}

func kindOf(r *http.Request) string {
	p := r.URL.Path
	switch {
	case r.Method == http.MethodPut:
		return "put"
	case strings.HasSuffix(p, "/access_token"):
		return "token"
	case strings.HasSuffix(p, "/create"):
		return "create"
	case strings.HasSuffix(p, "/get_upload_url"):
		return "url"
	case strings.HasSuffix(p, "/upload/v2/file/slice"):
		return "post"
	case strings.HasSuffix(p, "/upload_complete"):
		return "complete"
	}
	return "other"
}

// traceSummary splits a link run's time (from the first request to the
// end of the last) into what the bound counts and what it does not.
type traceSummary struct {
	Total  float64 // first request's start to the last one's end
	Before float64 // until the first slice starts: token, create, first URL (their round trips)
	Slices float64 // first slice start to last slice end
	After  float64 // last slice end to the end: complete
	// Idle is connection-seconds during Slices with fewer than c slices in
	// flight, split by why: Ramp before c slices first ran at once, Tail
	// after the last slice started (nothing left to send), and in
	// between WaitURL (a worker's next slice had no URL yet when the
	// worker freed: the pacer or its round trip) and Gap (the URL was
	// ready: the SDK's own time between two sends).
	Ramp, Tail, WaitURL, Gap float64
	URLs                     int
	URLOutOfOrder            int     // get_upload_url calls that started after one for a later slice
	MeanSlice                float64 // the mean time of a full slice's send
	MaxSlice                 float64 // the longest slice send
}

// summary analyses the spans of an upload at concurrency c.
func (t *tracer) summary(c int) *traceSummary {
	t.mu.Lock()
	spans := slices.Clone(t.spans)
	t.mu.Unlock()
	slices.SortFunc(spans, func(a, b span) int { return cmpF(a.start, b.start) })
	if os.Getenv("PAN123BENCH_SPANS") != "" { // diagnostics: every request on stderr
		for _, sp := range spans {
			fmt.Fprintf(os.Stderr, "  span %-8s %3d %8.3f %8.3f %7.3f\n", sp.kind, sp.no, sp.start, sp.end, sp.end-sp.start)
		}
	}
	var sends, urls []span
	s := &traceSummary{}
	first, last := spans[0].start, 0.0
	for _, sp := range spans {
		last = max(last, sp.end)
		switch sp.kind {
		case "put", "post":
			sends = append(sends, sp)
			s.MaxSlice = max(s.MaxSlice, sp.end-sp.start)
		case "url":
			urls = append(urls, sp)
		}
	}
	s.Total = last - first
	if len(sends) == 0 {
		return s
	}
	if len(sends) > 1 { // the last one may be shorter
		for _, sp := range sends[:len(sends)-1] {
			s.MeanSlice += sp.end - sp.start
		}
		s.MeanSlice /= float64(len(sends) - 1)
	}
	sendStart, sendEnd := sends[0].start, 0.0
	for _, sp := range sends {
		sendEnd = max(sendEnd, sp.end)
	}
	s.Before, s.Slices, s.After = sendStart-first, sendEnd-sendStart, last-sendEnd
	s.URLs = len(urls)
	// Slice j (in start order) beyond the first c runs on the connection
	// freed by end number j-c: the time between is idle, waiting for its
	// URL when the URL was not back yet.
	urlEnd := map[int]float64{} // slice -> when its last URL came back
	for _, u := range urls {
		if u.no > 0 {
			urlEnd[u.no] = max(urlEnd[u.no], u.end)
		}
	}
	for k := 1; k < len(urls); k++ {
		if urls[k].no > 0 && urls[k].no < urls[k-1].no {
			s.URLOutOfOrder++
		}
	}
	ends := make([]float64, len(sends))
	for i, sp := range sends {
		ends[i] = sp.end
	}
	slices.Sort(ends)
	// A free worker sends the slice whose URL is ready first: send j (in
	// start order) beyond the first c runs on the connection freed by end
	// number j-c. Until it starts, that connection idles: waiting for the
	// slice's URL while it is not back, the SDK's own time after.
	lastStart := 0.0
	for j, sp := range sends {
		lastStart = max(lastStart, sp.start)
		if j < c {
			s.Ramp += sp.start - sendStart
			continue
		}
		freed := ends[j-c]
		idle := sp.start - freed
		if idle <= 0 {
			continue
		}
		wait := 0.0
		if u, ok := urlEnd[sp.no]; ok {
			wait = min(idle, max(0, u-freed))
		}
		s.WaitURL += wait
		s.Gap += idle - wait
	}
	for i := len(ends) - c; i < len(ends); i++ {
		if i >= 0 {
			s.Tail += sendEnd - max(ends[i], lastStart)
		}
	}
	return s
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
