package pan123test_test

import (
	"bytes"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-pan123/pan123/pan123test"
)

func TestRequestLog(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := newServer(t, pan123test.WithClock(clk.Now), pan123test.WithSliceSize(100))
	c := newClient(t, s)
	s.ResetRequests()
	data := payload(150, 1)
	c.upload(families[0], "log", data)

	got := s.Requests()
	var ops []pan123test.Op
	for _, r := range got {
		ops = append(ops, r.Op)
	}
	want := []pan123test.Op{pan123test.OpCreate, pan123test.OpGetUploadURL, pan123test.OpPut, pan123test.OpGetUploadURL, pan123test.OpPut, pan123test.OpComplete}
	if fmt.Sprint(ops) != fmt.Sprint(want) {
		t.Fatalf("ops %v, want %v", ops, want)
	}
	create, url2, put2 := got[0], got[3], got[4]
	if create.Method != "POST" || create.Path != string(pan123test.OpCreate) || create.Status != 200 || create.Code != 0 ||
		!bytes.Contains(create.Body, []byte(`"filename":"log"`)) || create.Bytes != int64(len(create.Body)) ||
		create.Header.Get("Platform") != "open_platform" || !create.Time.Equal(clk.Now()) || create.Server != 0 {
		t.Errorf("create logged as %+v", create)
	}
	if url2.SliceNo != 2 || put2.SliceNo != 2 || put2.Bytes != 50 || put2.Body != nil || put2.Code != -1 || put2.Status != 200 || put2.Method != "PUT" || strings.Contains(put2.Path, "?") {
		t.Errorf("slice 2 logged as %+v / %+v", url2, put2)
	}
	if s.Count(pan123test.OpPut) != 2 || s.Count(pan123test.OpAsyncResult) != 0 {
		t.Errorf("Count: %d", s.Count(pan123test.OpPut))
	}
	got[0].Header.Set("Platform", "changed") // a copy
	if s.Requests()[0].Header.Get("Platform") != "open_platform" {
		t.Error("Requests shares headers")
	}
	c.wantCode(pan123test.OpCreate, `{}`, pan123test.CodeBadRequest, "")
	if r := s.Requests()[len(s.Requests())-1]; r.Code != pan123test.CodeBadRequest || r.Status != 200 {
		t.Errorf("rejected request logged as %+v", r)
	}
	s.ResetRequests()
	if len(s.Requests()) != 0 || s.Count(pan123test.OpCreate) != 0 {
		t.Error("ResetRequests")
	}
}

// TestCloseAbortsRequests runs alone (not in parallel): it waits until no
// goroutine of any fake server is left in the process.
func TestCloseAbortsRequests(t *testing.T) {
	s := pan123test.NewServer(pan123test.WithSliceSize(1<<20), pan123test.WithBandwidth(1<<10), pan123test.WithLatency(10*time.Millisecond))
	c := newClient(t, s)
	data := payload(1<<20, 2)
	var cr createData
	c.data(pan123test.OpCreate, families[0].createBody("slow", data), &cr)
	var u urlData
	c.data(pan123test.OpGetUploadURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": 1}, &u)
	s.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Stall: time.Hour})

	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() { // throttled to 1 KiB/s: would take 17 minutes
		defer wg.Done()
		req, _ := http.NewRequest(http.MethodPut, u.PresignedURL, bytes.NewReader(data))
		resp, err := c.hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errs <- err
	}()
	go func() { // stalled for an hour
		defer wg.Done()
		resp, err := c.hc.Do(c.apiRequest(pan123test.OpMkdir, map[string]any{"name": "x", "parentID": 0}))
		if err == nil {
			resp.Body.Close()
		}
		errs <- err
	}()
	waitFor(t, "both requests to reach the fake", func() bool { return s.InFlight() == 2 })

	start := time.Now()
	s.Close()
	s.Close() // idempotent
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	wg.Wait()
	for range 2 {
		if err := <-errs; err == nil {
			t.Error("aborted request succeeded")
		}
	}
	waitFor(t, "server goroutines to end", func() bool { return serverGoroutines() == "" })
}

// serverGoroutines returns the stacks of goroutines run by a fake server.
func serverGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "pan123test.(*") || strings.Contains(g, "net/http.(*conn).serve") || strings.Contains(g, "net/http.(*Server).Serve") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

func TestLatencyAndBandwidth(t *testing.T) {
	t.Parallel()
	s := newServer(t, pan123test.WithLatency(30*time.Millisecond), pan123test.WithBandwidth(200<<10), pan123test.WithSliceSize(60<<10))
	start := time.Now()
	c := newClient(t, s)
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("access_token took %v with 30ms latency", d)
	}
	data := payload(60<<10, 3)
	var cr createData
	c.data(pan123test.OpCreate, families[0].createBody("bw", data), &cr)
	var u urlData
	c.data(pan123test.OpGetUploadURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": 1}, &u)
	start = time.Now()
	if status, _ := c.put(u.PresignedURL, data, nil); status != 200 {
		t.Fatal(status)
	}
	if d := time.Since(start); d < 250*time.Millisecond { // 60 KiB at 200 KiB/s = 300ms
		t.Errorf("throttled PUT took %v", d)
	}
}

func TestConcurrentUploads(t *testing.T) {
	t.Parallel()
	s := newServer(t, pan123test.WithSliceSize(1000), pan123test.WithImageSliceSize(1000), pan123test.WithUploadServers(2))
	c := newClient(t, s)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			f := families[i%2]
			data := payload(3500, byte(i))
			cr := c.startUpload(f, fmt.Sprintf("c%d", i), data)
			var done completeData
			c.data(f.complete, map[string]any{"preuploadID": cr.PreuploadID}, &done)
			if got := stored(t, s, f, done.FileID); !bytes.Equal(got.Data, data) {
				t.Errorf("upload %d: data differs", i)
			}
		})
	}
	wg.Wait()
	if n := len(s.Files()) + len(s.Images()); n != 8 {
		t.Errorf("%d entries", n)
	}
}

func TestAPILatency(t *testing.T) {
	t.Parallel()
	const d = 400 * time.Millisecond
	s := newServer(t, pan123test.WithAPILatency(d), pan123test.WithSliceSize(1<<10))
	start := time.Now()
	c := newClient(t, s)
	if got := time.Since(start); got < d {
		t.Errorf("access_token took %v with %v of API latency", got, d)
	}
	data := payload(1<<10, 4)
	var cr createData
	c.data(pan123test.OpCreate, families[0].createBody("far", data), &cr)
	var u urlData
	c.data(pan123test.OpGetUploadURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": 1}, &u)
	// The storage host is close: a 1 KiB PUT over loopback is far quicker
	// than d unless it is delayed too.
	start = time.Now()
	if status, _ := c.put(u.PresignedURL, data, nil); status != 200 {
		t.Fatal(status)
	}
	if got := time.Since(start); got >= d {
		t.Errorf("PUT took %v: delayed like an API call", got)
	}
}
