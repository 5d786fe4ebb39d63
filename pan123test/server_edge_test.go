package pan123test_test

import (
	"bytes"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

// CloseUploadServer takes the first and the last index; only the closed
// server stops answering.
func TestCloseUploadServerFirstAndLast(t *testing.T) {
	t.Parallel()
	s := newServer(t, pan123test.WithUploadServers(3))
	urls := s.UploadServers()
	s.CloseUploadServer(1)
	s.CloseUploadServer(3)
	for i, u := range urls {
		resp, err := http.Post(u+string(pan123test.OpV2Slice), "text/plain", nil)
		if err == nil {
			resp.Body.Close()
		}
		if i == 1 {
			assert.NoError(t, err, "upload server 2 was not closed")
		} else {
			assert.Error(t, err, "upload server %d still answers", i+1)
		}
	}
	assert.Panics(t, func() { s.CloseUploadServer(0) })
	assert.Panics(t, func() { s.CloseUploadServer(4) })
}

// With WithAddr the API host listens on the given port and the upload
// servers on free ports of the same host.
func TestWithAddrFixedPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())

	s := newServer(t, pan123test.WithAddr("127.0.0.1:"+strconv.Itoa(port)), pan123test.WithUploadServers(2))
	assert.Equal(t, "http://127.0.0.1:"+strconv.Itoa(port), s.URL)
	for _, u := range s.UploadServers() {
		pu, err := url.Parse(u)
		require.NoError(t, err)
		assert.Equal(t, "127.0.0.1", pu.Hostname())
		assert.NotEqual(t, strconv.Itoa(port), pu.Port())
	}
	c := newClient(t, s) // the API host answers
	c.wantCode(pan123test.OpMkdir, map[string]any{"name": "a", "parentID": 0}, 0, "ok")
}

// API answers say they are JSON.
func TestAnswersCarryJSONContentType(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	resp, err := c.hc.Do(c.apiRequest(pan123test.OpMkdir, map[string]any{"name": "a", "parentID": 0}))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
}

// File IDs count up from 10000001.
func TestFileIDsCountFrom10000001(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	var d struct {
		DirID int64 `json:"dirID"`
	}
	c.data(pan123test.OpMkdir, map[string]any{"name": "a", "parentID": 0}, &d)
	assert.EqualValues(t, 10000001, d.DirID)
	id := fileID(t, c.upload(families[0], "f", []byte("hello")))
	assert.EqualValues(t, 10000002, id)
}

// A rate limit needs a positive window.
func TestWithRateLimitZeroWindowPanics(t *testing.T) {
	t.Parallel()
	assert.PanicsWithValue(t, "pan123test: WithRateLimit("+string(pan123test.OpMkdir)+"): need n >= 1 and per > 0", func() {
		pan123test.NewServer(pan123test.WithRateLimit(pan123test.OpMkdir, 1, 0)).Close()
	})
}

// WithBandwidth paces a slice body as it is read, not only at its end:
// 24 KiB at 48 KiB/s take at least half a second, and a Drop, which reads
// half of the body, comes no sooner than a quarter of a second.
func TestWithBandwidthPacesTheBody(t *testing.T) {
	t.Parallel()
	const size, rate = 24 << 10, 48 << 10
	s := newServer(t, pan123test.WithBandwidth(rate), pan123test.WithSliceSize(64<<10))
	c := newClient(t, s)
	data := payload(size, 5)
	var cr createData
	c.data(pan123test.OpCreate, families[0].createBody("slow", data), &cr)
	var u urlData
	c.data(pan123test.OpGetUploadURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": 1}, &u)

	s.Inject(pan123test.Fault{Op: pan123test.OpPut, Drop: true})
	start := time.Now()
	req, err := http.NewRequest(http.MethodPut, u.PresignedURL, bytes.NewReader(data))
	require.NoError(t, err)
	if resp, err := c.hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped PUT answered %d", resp.StatusCode)
	}
	assert.GreaterOrEqual(t, time.Since(start), 250*time.Millisecond)

	start = time.Now()
	status, b := c.put(u.PresignedURL, data, nil)
	require.Equal(t, http.StatusOK, status, "%s", b)
	assert.GreaterOrEqual(t, time.Since(start), 500*time.Millisecond)
}
