package pan123test_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/go-pan123/pan123/pan123test"
)

func TestFaultsAPI(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	mk := func(name string) *http.Request {
		return c.apiRequest(pan123test.OpMkdir, map[string]any{"name": name, "parentID": 0})
	}

	s.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Status: 503})
	status, b := c.send(mk("a"))
	if status != 503 || !bytes.Contains(b, []byte(`"code":503`)) || !bytes.Contains(b, []byte(`"data":null`)) {
		t.Errorf("Status fault: %d %s", status, b)
	}

	s.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Status: 502, Body: "<html>502 Bad Gateway</html>"})
	resp, err := c.hc.Do(mk("a"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 502 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("Body fault: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	s.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Body: `{"code":0,"message":"ok","da`})
	if status, b := c.send(mk("a")); status != 200 || string(b) != `{"code":0,"message":"ok","da` {
		t.Errorf("truncated JSON fault: %d %s", status, b)
	}

	s.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Code: 429, Times: 2, Header: http.Header{"Retry-After": {"1"}}})
	for range 2 {
		resp, err := c.hc.Do(mk("a"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Retry-After") != "1" {
			t.Error("no Retry-After header")
		}
	}
	c.wantCode(pan123test.OpMkdir, map[string]any{"name": "a", "parentID": 0}, 0, "ok") // the faults are used up

	for code, msg := range map[int]string{401: "access_token无效", 429: "请求太频繁", 20103: "文件正在校验中,请间隔1秒后再试", 1: "内部错误"} {
		s.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Code: code})
		c.wantCode(pan123test.OpMkdir, map[string]any{"name": "b", "parentID": 0}, code, msg)
	}

	// After, Times forever, ClearFaults; faults come before validation.
	s.Inject(pan123test.Fault{Op: pan123test.OpMkdir, After: 2, Times: -1, Code: 1})
	c.wantCode(pan123test.OpMkdir, map[string]any{"name": "b", "parentID": 0}, 0, "ok")
	c.wantCode(pan123test.OpMkdir, map[string]any{"name": "b", "parentID": 0}, pan123test.CodeInternal, "同名文件夹")
	for range 3 {
		c.wantCode(pan123test.OpMkdir, `not json`, 1, "内部错误")
	}
	s.ClearFaults()
	c.wantCode(pan123test.OpMkdir, map[string]any{"name": "c", "parentID": 0}, 0, "ok")
}

func TestFaultsSlices(t *testing.T) {
	t.Parallel()
	s := newServer(t, pan123test.WithSliceSize(64<<10))
	c := newClient(t, s)
	data := payload(3*64<<10, 5)
	var cr createData
	c.data(pan123test.OpCreate, families[0].createBody("f", data), &cr)
	urlFor := func(n int) string {
		var u urlData
		c.data(pan123test.OpGetUploadURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": n}, &u)
		return u.PresignedURL
	}

	// get_upload_url faults match on sliceNo.
	s.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, SliceNo: 2, Code: 429})
	urlFor(1)
	c.wantCode(pan123test.OpGetUploadURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": 2}, 429, "请求太频繁")

	// Status on a PUT: empty body; the slice is not stored.
	s.Inject(pan123test.Fault{Op: pan123test.OpPut, SliceNo: 1, After: 1, Status: 500})
	u1 := urlFor(1)
	if status, _ := c.put(u1, data[:64<<10], nil); status != 200 {
		t.Fatalf("first PUT: %d", status)
	}
	if status, b := c.put(u1, data[:64<<10], nil); status != 500 || len(b) != 0 {
		t.Errorf("Status fault on PUT: %d %s", status, b)
	}
	s.Inject(pan123test.Fault{Op: pan123test.OpPut, Code: 1})
	if status, b := c.put(u1, data[:64<<10], nil); status != 500 || !bytes.Contains(b, []byte("InternalError")) {
		t.Errorf("Code fault on PUT: %d %s", status, b)
	}

	// Drop: the client sees the connection die mid-body.
	s.Inject(pan123test.Fault{Op: pan123test.OpPut, SliceNo: 2, Drop: true})
	req, _ := http.NewRequest(http.MethodPut, urlFor(2), bytes.NewReader(sliceOf(data, 64<<10, 2)))
	if resp, err := c.hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped PUT answered %d", resp.StatusCode)
	}
	if got := s.Parts(cr.PreuploadID); len(got) != 1 {
		t.Errorf("parts after a drop: %+v", got)
	}
	last := s.Requests()[len(s.Requests())-1]
	if last.Op != pan123test.OpPut || last.SliceNo != 2 || last.Status != 0 || last.Code != -1 || last.Bytes <= 0 || last.Bytes >= 64<<10 {
		t.Errorf("dropped request logged as %+v", last)
	}
	if status, _ := c.put(urlFor(2), sliceOf(data, 64<<10, 2), nil); status != 200 {
		t.Errorf("PUT after a drop: %d", status)
	}

	// Drop of an API call.
	s.Inject(pan123test.Fault{Op: pan123test.OpListUploadParts, Drop: true})
	if resp, err := c.hc.Do(c.apiRequest(pan123test.OpListUploadParts, map[string]any{"preuploadID": cr.PreuploadID})); err == nil {
		resp.Body.Close()
		t.Fatal("dropped API call answered")
	}
}

func TestFaultsV2(t *testing.T) {
	t.Parallel()
	s := newServer(t, pan123test.WithSliceSize(64<<10), pan123test.WithUploadServers(2))
	c := newClient(t, s)
	data := payload(100<<10, 6)
	var cr createData
	c.data(pan123test.OpV2Create, families[0].createBody("v", data), &cr)
	slice := func(server, n int) *http.Request {
		b := sliceOf(data, 64<<10, n)
		return c.multipartRequest(cr.Servers[server-1]+string(pan123test.OpV2Slice), []part{
			{"preuploadID", cr.PreuploadID}, {"sliceNo", strconv.Itoa(n)}, {"sliceMD5", md5hex(b)},
		}, "slice", b)
	}
	s.Inject(pan123test.Fault{Op: pan123test.OpV2Slice, Server: 1, SliceNo: 1, Drop: true})
	if e := c.envelope(slice(2, 1)); e.Code != 0 { // other server: not matched
		t.Fatal(e)
	}
	if resp, err := c.hc.Do(slice(1, 1)); err == nil {
		resp.Body.Close()
		t.Fatal("dropped slice answered")
	}
	if e := c.envelope(slice(1, 2)); e.Code != 0 {
		t.Fatal(e)
	}
	s.Inject(pan123test.Fault{Op: pan123test.OpV2Complete, Code: 20103, Times: 2})
	id := map[string]any{"preuploadID": cr.PreuploadID}
	c.wantCode(pan123test.OpV2Complete, id, 20103, "文件正在校验中")
	c.wantCode(pan123test.OpV2Complete, id, 20103, "文件正在校验中")
	var r completeData
	c.data(pan123test.OpV2Complete, id, &r)
	if !r.Completed {
		t.Errorf("complete: %+v", r)
	}
}

func TestFaultStall(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)

	// A short stall, then a normal answer.
	s.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Stall: 50 * time.Millisecond})
	start := time.Now()
	c.wantCode(pan123test.OpMkdir, map[string]any{"name": "a", "parentID": 0}, 0, "ok")
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("stall lasted %v", d)
	}

	// A long stall ends when the client goes away.
	s.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Stall: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.hc.Do(c.apiRequest(pan123test.OpMkdir, map[string]any{"name": "b", "parentID": 0}).WithContext(ctx))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stalled call: %v", err)
	}
	waitFor(t, "the stalled handler to return", func() bool { return s.Count(pan123test.OpMkdir) == 2 })
	if r := s.Requests()[len(s.Requests())-1]; r.Status != 0 {
		t.Errorf("abandoned request logged with status %d", r.Status)
	}
}

// waitFor polls cond until it holds (the fake's work happens in other goroutines).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestFaultsCredentialKnobs: a custom message with a code (the token-limit
// 401), a redirect answer, and expiredAt answered in other forms.
func TestFaultsCredentialKnobs(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	mkdir := map[string]any{"name": "a", "parentID": 0}
	s.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Code: 401, Message: pan123test.MsgTokenLimit, Times: -1})
	for range 3 {
		c.wantCode(pan123test.OpMkdir, mkdir, 401, "tokens number has exceeded the limit")
	}
	s.ClearFaults()

	tr := &http.Transport{} // a bare round trip: an http.Client would parse Location
	t.Cleanup(tr.CloseIdleConnections)
	for _, f := range []pan123test.Fault{
		{Op: pan123test.OpMkdir, Location: "http://127.0.0.1:1/elsewhere?q=1"},
		{Op: pan123test.OpMkdir, Status: 302, Location: "http://%zz/bad?q=1"},
	} {
		s.Inject(f)
		resp, err := tr.RoundTrip(c.apiRequest(pan123test.OpMkdir, mkdir))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := cmp(f.Status, 307); resp.StatusCode != want || resp.Header.Get("Location") != f.Location {
			t.Errorf("redirect fault: %d %q, want %d %q", resp.StatusCode, resp.Header.Get("Location"), want, f.Location)
		}
	}

	for _, tt := range []struct {
		form func(time.Time) any
		want string
	}{
		{func(exp time.Time) any { return exp.Unix() }, `"expiredAt":1772370000`},
		{func(time.Time) any { return "2020-01-01T00:00:00+08:00" }, `"expiredAt":"2020-01-01T00:00:00+08:00"`},
		{func(time.Time) any { return nil }, `"expiredAt":null`},
	} {
		clk := newClock()
		s := newServer(t, pan123test.WithClock(clk.Now), pan123test.WithTokenTTL(time.Hour), pan123test.WithExpiredAt(tt.form))
		c := newClient(t, s)
		_, b := c.send(c.apiRequest(pan123test.OpAccessToken, map[string]any{"clientID": s.ClientID, "clientSecret": s.ClientSecret}))
		if !bytes.Contains(b, []byte(tt.want)) {
			t.Errorf("expiredAt: %s, want %s", b, tt.want)
		}
		var e struct{ Data struct{ AccessToken string } }
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		c.token = e.Data.AccessToken
		c.wantCode(pan123test.OpMkdir, mkdir, 0, "ok") // valid whatever expiredAt says
	}
}

func cmp(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// TestFaultBodyHandled: with Handle, the request takes effect and the raw
// Body is answered instead of the fake's own answer.
func TestFaultBodyHandled(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	const raw = `{"code":0}`
	s.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Body: raw, Handle: true})
	if status, b := c.send(c.apiRequest(pan123test.OpMkdir, map[string]any{"name": "h", "parentID": 0})); status != 200 || string(b) != raw {
		t.Errorf("handled Body fault: %d %s", status, b)
	}
	// The folder was made: a second mkdir of the name is refused.
	c.wantCode(pan123test.OpMkdir, map[string]any{"name": "h", "parentID": 0}, pan123test.CodeInternal, "同名文件夹")
	// A refused request is handled too (here: refused), and Body still answers.
	s.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Status: 502, Body: "<html>bad gateway</html>", Handle: true})
	resp, err := c.hc.Do(c.apiRequest(pan123test.OpMkdir, map[string]any{"name": "h", "parentID": 0}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 502 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("handled Body fault with status: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestFaultEmpty: Empty answers the status alone, with no body and no
// Content-Type, on the API host and on presigned PUTs.
func TestFaultEmpty(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	s.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Empty: true})
	s.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Empty: true, Status: 429})
	for _, want := range []int{200, 429} {
		resp, err := c.hc.Do(c.apiRequest(pan123test.OpMkdir, map[string]any{"name": "a", "parentID": 0}))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || len(b) != 0 || resp.Header.Get("Content-Type") != "" {
			t.Errorf("Empty fault: %d %q %q, want %d and nothing", resp.StatusCode, resp.Header.Get("Content-Type"), b, want)
		}
	}
	c.wantCode(pan123test.OpMkdir, map[string]any{"name": "a", "parentID": 0}, 0, "ok") // used up; the faulted calls made nothing
}

// TestInFlight: a stalled request counts as in flight from its arrival
// until it is abandoned.
func TestInFlight(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	if n := s.InFlight(); n != 0 {
		t.Fatalf("idle server: %d in flight", n)
	}
	s.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Stall: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.hc.Do(c.apiRequest(pan123test.OpMkdir, map[string]any{"name": "a", "parentID": 0}).WithContext(ctx))
		done <- err
	}()
	waitFor(t, "the request to arrive", func() bool { return s.InFlight() == 1 })
	if n := s.Count(pan123test.OpMkdir); n != 0 {
		t.Errorf("a request in flight is logged already: %d", n)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}
	waitFor(t, "the stalled handler to return", func() bool { return s.InFlight() == 0 })
	if n := s.Count(pan123test.OpMkdir); n != 1 {
		t.Errorf("%d mkdir requests logged, want the abandoned one", n)
	}
}
