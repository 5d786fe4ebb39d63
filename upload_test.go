package pan123_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// testSlice is the fake's slice size in these tests: small, because under
// -race every byte sent costs several copies and hashes (64 KiB: a tenth
// less CPU for the package's race run than 256 KiB).
const testSlice = 64 << 10

// env is a fake platform and a client wired to it through a transport that
// counts (and can watch and hold) every request: the one setup of the flow
// tests. newEnv makes one with testSlice slices, newRig one with rigSlice
// slices and a bigger retry budget (the fault matrix's).
type env struct {
	srv  *pan123test.Server
	c    *pan123.Client
	tr   *envTransport
	logs *recordingHandler // the client's log records, Info and above
	// sliceRetries is the uploader's slice retry budget.
	sliceRetries int
}

// rig is the name the fault matrix and its neighbours use for an env.
type rig = env

// newEnv starts a fake with testSlice slices in both families (opts come
// after and win) and a client of it with fast retries, no rate limits and a
// recording logger.
func newEnv(t *testing.T, opts ...pan123test.Option) *env {
	t.Helper()
	return newEnvWith(t, opts, nil)
}

// newRig starts a fake with rigSlice slices in both families and a client
// with 8 fast retries and no rate limits; opts come last and win.
func newRig(t *testing.T, srvOpts []pan123test.Option, opts ...pan123.Option) *env {
	t.Helper()
	return newRigWith(t, srvOpts, func(*pan123test.Server) []pan123.Option { return opts })
}

// newRigWith is newRig with client options that depend on the fake.
func newRigWith(t *testing.T, srvOpts []pan123test.Option, clientOpts func(*pan123test.Server) []pan123.Option) *env {
	t.Helper()
	srvOpts = append([]pan123test.Option{pan123test.WithSliceSize(rigSlice), pan123test.WithImageSliceSize(rigSlice)}, srvOpts...)
	e := newEnvWith(t, srvOpts, func(srv *pan123test.Server) []pan123.Option {
		return append([]pan123.Option{pan123.WithRetry(8, time.Millisecond, 5*time.Millisecond)}, clientOpts(srv)...)
	})
	e.sliceRetries = 8
	return e
}

// newEnvWith is newEnv with client options that depend on the fake; they
// come last and win. Closing happens in t.Cleanup: the fake first (it
// aborts stalled handlers), then the client's idle connections, so that a
// leak check after the test sees no goroutine of either.
func newEnvWith(t *testing.T, srvOpts []pan123test.Option, clientOpts func(*pan123test.Server) []pan123.Option) *env {
	t.Helper()
	srvOpts = append([]pan123test.Option{pan123test.WithSliceSize(testSlice), pan123test.WithImageSliceSize(testSlice)}, srvOpts...)
	e := &env{srv: pan123test.NewServer(srvOpts...), logs: &recordingHandler{}, sliceRetries: 6}
	e.tr = &envTransport{next: http.DefaultTransport.(*http.Transport).Clone()}
	hc := &http.Client{Transport: e.tr}
	opts := []pan123.Option{
		pan123.WithBaseURL(e.srv.URL),
		pan123.WithHTTPClient(hc),
		pan123.WithLogger(slog.New(e.logs)),
		pan123.WithRetry(6, time.Millisecond, 10*time.Millisecond),
		pan123.WithoutRateLimits(),
	}
	if clientOpts != nil {
		opts = append(opts, clientOpts(e.srv)...)
	}
	c, err := pan123.New(e.srv.ClientID, e.srv.ClientSecret, opts...)
	require.NoError(t, err)
	e.c = c
	t.Cleanup(func() {
		c.CloseIdleConnections()
		hc.CloseIdleConnections()
	})
	t.Cleanup(e.srv.Close) // runs first
	return e
}

// uploader returns an Uploader with test-speed slice retries and polling.
func (e *env) uploader(opts ...pan123.UploadOption) *pan123.Uploader {
	base := []pan123.UploadOption{
		pan123.WithSliceRetry(e.sliceRetries, time.Millisecond, 5*time.Millisecond),
		pan123.WithPollInterval(2 * time.Millisecond),
	}
	return pan123.NewUploader(e.c, append(base, opts...)...)
}

// holdSends makes the slice sends wait until n of them are in flight. The
// first send that waited 10 s (a hang guard) ends the holding, so an
// uploader that never sends n at once still finishes, with a peak below n.
func (e *env) holdSends(n int) {
	e.tr.gate, e.tr.met = int64(n), make(chan struct{})
}

// envTransport counts requests and response bytes, and the slice sends in
// flight (presigned PUTs, V2 slice and single-step posts) with their peak;
// hooks, when set, see every request and every response body (for
// redaction tests).
type envTransport struct {
	next                  http.RoundTripper
	requests              atomic.Int64 // every request sent
	puts                  atomic.Int64 // presigned PUTs sent
	respBytes             atomic.Int64 // response body bytes the client read
	inflight, maxInflight atomic.Int64 // slice sends in flight, and the peak
	// beforePut runs before the n-th presigned PUT is sent (n is 1-based).
	beforePut func(n int64)
	// onRequest and onResponse see every request and the first 64 KiB of
	// every response body (once it is read to the end or closed).
	onRequest  func(*http.Request)
	onResponse func(*http.Request, []byte)
	// With gate set (holdSends), a slice send waits until gate sends are in
	// flight at once; waits are over once that happened (met is closed).
	gate    int64
	met     chan struct{}
	metOnce sync.Once
}

func (t *envTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.requests.Add(1)
	if r.Method == http.MethodPut {
		n := t.puts.Add(1)
		if t.beforePut != nil {
			t.beforePut(n)
		}
	}
	if t.onRequest != nil {
		t.onRequest(r)
	}
	if r.Method == http.MethodPut || (r.Method == http.MethodPost &&
		(r.URL.Path == string(pan123test.OpV2Slice) || r.URL.Path == string(pan123test.OpV2Single))) {
		n := t.inflight.Add(1)
		defer t.inflight.Add(-1)
		for {
			m := t.maxInflight.Load()
			if n <= m || t.maxInflight.CompareAndSwap(m, n) {
				break
			}
		}
		if t.gate > 0 {
			if n >= t.gate {
				t.metOnce.Do(func() { close(t.met) })
			}
			select {
			case <-t.met:
			case <-r.Context().Done():
			case <-time.After(10 * time.Second): // never met: stop holding
				t.metOnce.Do(func() { close(t.met) })
			}
		}
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &envBody{rc: resp.Body, t: t, req: r}
	return resp, nil
}

// envBody counts the bytes the client reads of a response body.
type envBody struct {
	rc   io.ReadCloser
	t    *envTransport
	req  *http.Request
	buf  bytes.Buffer
	once sync.Once
}

func (b *envBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.t.respBytes.Add(int64(n))
	if b.t.onResponse != nil && b.buf.Len() < 64<<10 {
		b.buf.Write(p[:n])
	}
	if err == io.EOF {
		b.finish()
	}
	return n, err
}

func (b *envBody) Close() error {
	b.finish()
	return b.rc.Close()
}

func (b *envBody) finish() {
	b.once.Do(func() {
		if b.t.onResponse != nil {
			b.t.onResponse(b.req, b.buf.Bytes())
		}
	})
}

// writeRandom writes n random bytes to a file in dir and returns its path and content.
func writeRandom(t *testing.T, dir string, n int64, seed uint64) (string, []byte) {
	t.Helper()
	data := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	i := 0
	for ; i+8 <= len(data); i += 8 { // 8 bytes a call: 64 MiB in well under a second with -race
		binary.LittleEndian.PutUint64(data[i:], r.Uint64())
	}
	for ; i < len(data); i++ {
		data[i] = byte(r.Uint32())
	}
	p := filepath.Join(dir, fmt.Sprintf("f%d-%d.bin", n, seed))
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p, data
}

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

// ops lists the operations the fake saw, in order.
func ops(srv *pan123test.Server) []pan123test.Op {
	var out []pan123test.Op
	for _, r := range srv.Requests() {
		out = append(out, r.Op)
	}
	return out
}

// assertV1Sequence checks one V1 upload of n slices: create, then for each
// slice its URL right before its PUT, then complete (and polls).
func assertV1Sequence(t *testing.T, reqs []pan123test.Request, image bool, n int) {
	t.Helper()
	create, getURL, complete := pan123test.OpCreate, pan123test.OpGetUploadURL, pan123test.OpComplete
	if image {
		create, getURL, complete = pan123test.OpOSSCreate, pan123test.OpOSSGetUploadURL, pan123test.OpOSSComplete
	}
	require.NotEmpty(t, reqs)
	i := 0
	if reqs[0].Op == pan123test.OpAccessToken {
		i++
	}
	require.Equal(t, create, reqs[i].Op)
	i++
	urlSeen := map[int]bool{}
	putSeen := map[int]bool{}
	for ; i < len(reqs) && (reqs[i].Op == getURL || reqs[i].Op == pan123test.OpPut); i++ {
		r := reqs[i]
		if r.Op == getURL {
			urlSeen[r.SliceNo] = true
			continue
		}
		assert.True(t, urlSeen[r.SliceNo], "PUT of slice %d before its URL", r.SliceNo)
		assert.Empty(t, r.Header.Get("Authorization"), "Authorization sent to a presigned URL")
		assert.Empty(t, r.Header.Get("Platform"), "Platform sent to a presigned URL")
		assert.Equal(t, "application/octet-stream", r.Header.Get("Content-Type"))
		assert.False(t, putSeen[r.SliceNo], "slice %d sent twice without a fault", r.SliceNo)
		putSeen[r.SliceNo] = true
	}
	assert.Len(t, putSeen, n)
	assert.Len(t, urlSeen, n)
	for no := 1; no <= n; no++ {
		assert.True(t, putSeen[no], "slice %d never sent", no)
	}
	require.Less(t, i, len(reqs))
	assert.Equal(t, complete, reqs[i].Op)
}

// driveProtocols are the drive protocols the Uploader tests run with.
var driveProtocols = []pan123.Protocol{pan123.V1, pan123.V2, pan123.Auto}

func protocolName(p pan123.Protocol) string {
	switch p {
	case pan123.V1:
		return "V1"
	case pan123.V2:
		return "V2"
	case pan123.Auto:
		return "Auto"
	}
	return fmt.Sprintf("Protocol(%d)", p)
}

// singleStep reports whether p sends a drive file of size bytes with
// single-step upload (Auto up to AutoSingleThreshold).
func singleStep(p pan123.Protocol, size int64) bool {
	return p == pan123.Auto && size <= pan123.AutoSingleThreshold
}

// bytesOp is the op that carries the bytes of a drive upload.
func bytesOp(p pan123.Protocol, size int64) pan123test.Op {
	switch {
	case p == pan123.V1:
		return pan123test.OpPut
	case singleStep(p, size):
		return pan123test.OpV2Single
	}
	return pan123test.OpV2Slice
}

// assertDriveSequence checks the requests of one fault-free drive upload of
// size bytes in n slices over protocol p.
func assertDriveSequence(t *testing.T, reqs []pan123test.Request, p pan123.Protocol, size int64, n int) {
	t.Helper()
	switch {
	case p == pan123.V1:
		assertV1Sequence(t, reqs, false, n)
	case singleStep(p, size):
		assertSingleSequence(t, reqs)
	default:
		assertV2Sequence(t, reqs, n)
	}
}

// assertUploadServerPost checks a POST to a V2 upload server: the API's
// headers, a multipart body, an accepted answer.
func assertUploadServerPost(t *testing.T, r pan123test.Request) {
	t.Helper()
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Positive(t, r.Server, "%s sent to the API host", r.Op)
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	assert.True(t, ok && tok != "", "%s without a bearer token", r.Op)
	assert.Equal(t, "open_platform", r.Header.Get("Platform"))
	assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data; boundary="), r.Header.Get("Content-Type"))
	assert.Zero(t, r.Code, "%s slice %d refused", r.Op, r.SliceNo)
}

// assertV2Sequence checks one V2 upload of n slices: create, n slice posts
// to upload servers (each accepted: the fake checks sliceMD5 against the
// bytes), then upload_complete and its polls.
func assertV2Sequence(t *testing.T, reqs []pan123test.Request, n int) {
	t.Helper()
	require.NotEmpty(t, reqs)
	i := 0
	if reqs[0].Op == pan123test.OpAccessToken {
		i++
	}
	require.Equal(t, pan123test.OpV2Create, reqs[i].Op)
	i++
	seen := map[int]bool{}
	for ; i < len(reqs) && reqs[i].Op == pan123test.OpV2Slice; i++ {
		r := reqs[i]
		assertUploadServerPost(t, r)
		assert.False(t, seen[r.SliceNo], "slice %d sent twice without a fault", r.SliceNo)
		seen[r.SliceNo] = true
	}
	assert.Len(t, seen, n)
	for no := 1; no <= n; no++ {
		assert.True(t, seen[no], "slice %d never sent", no)
	}
	require.Less(t, i, len(reqs), "no upload_complete")
	for ; i < len(reqs); i++ {
		assert.Equal(t, pan123test.OpV2Complete, reqs[i].Op, "request %d", i)
	}
}

// assertSingleSequence checks one single-step upload: domain (unless the
// client has the upload hosts already), then one single/create post to an
// upload server.
func assertSingleSequence(t *testing.T, reqs []pan123test.Request) {
	t.Helper()
	var got []pan123test.Op
	for _, r := range reqs {
		if (r.Op != pan123test.OpAccessToken || len(got) > 0) && (r.Op != pan123test.OpV2Domain || len(got) > 0) {
			got = append(got, r.Op)
		}
	}
	require.Equal(t, []pan123test.Op{pan123test.OpV2Single}, got)
	assertUploadServerPost(t, reqs[len(reqs)-1])
}

// assertSliceMD5s checks the slice MD5s the fake recorded for a stored file.
func assertSliceMD5s(t *testing.T, f pan123test.File, data []byte, sliceSize int64) {
	t.Helper()
	var want []string
	for off := int64(0); off < int64(len(data)); off += sliceSize {
		want = append(want, md5hex(data[off:min(off+sliceSize, int64(len(data)))]))
	}
	assert.Equal(t, want, f.SliceMD5s)
}

// htmlError is a gateway's error page: V2 upload servers answer envelopes,
// so a 5xx without one is what stands for the bare 5xx of a presigned PUT.
func htmlError(status int) string {
	return fmt.Sprintf("<html><head><title>%d %s</title></head><body>nginx</body></html>", status, http.StatusText(status))
}

func TestUploadSizes(t *testing.T) {
	t.Parallel()
	common := []int64{1, testSlice - 1, testSlice, testSlice + 1, 3*testSlice + 7}
	type sizeCase struct {
		image bool
		p     pan123.Protocol
		size  int64
	}
	// many slices: four times the default concurrency, and then some.
	const many = 4*pan123.DefaultConcurrency*testSlice + 5
	var cases []sizeCase
	for _, size := range append(common, many) {
		cases = append(cases, sizeCase{true, pan123.V1, size}, sizeCase{false, pan123.V1, size})
	}
	for _, size := range append(common, many) {
		cases = append(cases, sizeCase{false, pan123.V2, size})
	}
	// Auto switches from single-step to V2 above AutoSingleThreshold.
	for _, size := range append(common, pan123.AutoSingleThreshold, pan123.AutoSingleThreshold+1) {
		cases = append(cases, sizeCase{false, pan123.Auto, size})
	}
	for _, tc := range cases {
		name := "image"
		if !tc.image {
			name = "drive/" + protocolName(tc.p)
		}
		t.Run(fmt.Sprintf("%s/size=%d", name, tc.size), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			path, data := writeRandom(t, t.TempDir(), tc.size, 1)
			up := e.uploader(pan123.WithProtocol(tc.p))
			n := int((tc.size-1)/testSlice + 1)

			if tc.image {
				res, err := up.UploadImageFile(t.Context(), path, pan123.ImageInput{Name: "img.bin"})
				require.NoError(t, err)
				assert.False(t, res.Reused)
				assert.Equal(t, md5hex(data), res.MD5)
				assert.Equal(t, tc.size, res.Size)
				f, ok := e.srv.Image(res.FileID)
				require.True(t, ok)
				require.True(t, bytes.Equal(data, f.Data), "stored bytes differ from the source")
				assertV1Sequence(t, e.srv.Requests(), true, n)
			} else {
				res, err := up.UploadFile(t.Context(), path, pan123.FileInput{ParentFileID: 0})
				require.NoError(t, err)
				assert.False(t, res.Reused)
				assert.Equal(t, md5hex(data), res.MD5)
				assert.Equal(t, filepath.Base(path), res.Name)
				f, ok := e.srv.File(res.FileID)
				require.True(t, ok)
				require.True(t, bytes.Equal(data, f.Data), "stored bytes differ from the source")
				assertDriveSequence(t, e.srv.Requests(), tc.p, tc.size, n)
				if singleStep(tc.p, tc.size) {
					assertSliceMD5s(t, f, data, tc.size)
				} else {
					assertSliceMD5s(t, f, data, testSlice)
				}
			}
			assert.LessOrEqual(t, e.tr.maxInflight.Load(), int64(pan123.DefaultConcurrency))

			// The same content again is an instant upload: one create, no
			// bytes. Single-step upload has no instant answer: it sends the
			// bytes again (shown by the small sizes; at the threshold, 16 MiB
			// more under -race would show nothing new).
			if singleStep(tc.p, tc.size) && tc.size == pan123.AutoSingleThreshold {
				return
			}
			e.srv.ResetRequests()
			if tc.image {
				res, err := up.UploadImageFile(t.Context(), path, pan123.ImageInput{Name: "img-again.bin"})
				require.NoError(t, err)
				assert.True(t, res.Reused)
				assert.NotEmpty(t, res.FileID)
				assert.Equal(t, []pan123test.Op{pan123test.OpOSSCreate}, ops(e.srv))
				assert.Zero(t, e.srv.Count(pan123test.OpPut))
				return
			}
			res, err := up.UploadFile(t.Context(), path, pan123.FileInput{Name: "again.bin"})
			require.NoError(t, err)
			assert.NotZero(t, res.FileID)
			assert.Equal(t, md5hex(data), res.MD5)
			switch {
			case singleStep(tc.p, tc.size):
				assert.False(t, res.Reused)
				assertSingleSequence(t, e.srv.Requests())
			case tc.p == pan123.V1:
				assert.True(t, res.Reused)
				assert.Equal(t, []pan123test.Op{pan123test.OpCreate}, ops(e.srv))
			default:
				assert.True(t, res.Reused)
				assert.Equal(t, []pan123test.Op{pan123test.OpV2Create}, ops(e.srv))
			}
			assert.Zero(t, e.srv.Count(pan123test.OpPut)+e.srv.Count(pan123test.OpV2Slice))
		})
	}
}

// faultPlan is a fault case for one protocol: the faults, and how many
// sends of the bytes (PUTs, slice or single-step posts) they may cost at most.
type faultPlan struct {
	faults   []pan123test.Fault
	maxSends int
}

// TestUploadUnderFaults: each fault of the fake, alone, in each drive
// protocol; the upload succeeds with identical bytes and a bounded number of
// sends. The file has 6 slices of 64 KiB (small: their size is not what is
// tested), so Auto sends it in one single-step post:
// there, "create" and "slice" faults hit that post, and get_upload_url's
// role is domain's. Auto above the threshold is V2 (TestUploadSizes). A
// protocol without an equivalent (V2 has no presigned URLs; single-step
// upload no completion) has a nil plan and is skipped.
func TestUploadUnderFaults(t *testing.T) {
	t.Parallel()
	const size = 5*flowSlice + 123
	type F = pan123test.Fault
	const (
		put, slice, single = pan123test.OpPut, pan123test.OpV2Slice, pan123test.OpV2Single
		truncated          = `{"code":0,"message":"ok","data":{"presign`
		// single/create's transient answer (api.md §4.4): retried after a pause.
		queued = `{"code":1,"message":"该任务已成功进入秒传队列,任务队列削峰中,未直接获取到文件ID,请慢一点","data":null,"x-traceID":"t"}`
	)
	tests := []struct {
		name       string
		fake       []pan123test.Option
		v1, v2     *faultPlan
		auto       *faultPlan // single-step at this size
		opts       []pan123.UploadOption
		expireOnce bool // expire the tokens once the first slice is in (single-step: when uploading starts)
		check      func(t *testing.T, e *env, p pan123.Protocol)
	}{
		{name: "slice 500 twice",
			v1:   &faultPlan{[]F{{Op: put, SliceNo: 2, Times: 2, Status: 500}}, 8},
			v2:   &faultPlan{[]F{{Op: slice, SliceNo: 2, Times: 2, Status: 500, Body: htmlError(500)}}, 8},
			auto: &faultPlan{[]F{{Op: single, Times: 2, Status: 500, Body: htmlError(500)}}, 3}},
		{name: "slice 502 and 503",
			v1:   &faultPlan{[]F{{Op: put, SliceNo: 1, Status: 502}, {Op: put, SliceNo: 6, Status: 503}}, 8},
			v2:   &faultPlan{[]F{{Op: slice, SliceNo: 1, Status: 502, Body: htmlError(502)}, {Op: slice, SliceNo: 6, Status: 503, Body: htmlError(503)}}, 8},
			auto: &faultPlan{[]F{{Op: single, Status: 502, Body: htmlError(502)}, {Op: single, Status: 503, Body: htmlError(503)}}, 3}},
		{name: "dropped connection mid-body",
			v1:   &faultPlan{[]F{{Op: put, SliceNo: 3, Times: 2, Drop: true}}, 8},
			v2:   &faultPlan{[]F{{Op: slice, SliceNo: 3, Times: 2, Drop: true}}, 8},
			auto: &faultPlan{[]F{{Op: single, Times: 2, Drop: true}}, 3}},
		{name: "slice refused: expired url 403 or token 401",
			v1:   &faultPlan{[]F{{Op: put, SliceNo: 4, Status: 403}}, 7},
			v2:   &faultPlan{[]F{{Op: slice, SliceNo: 4, Code: 401}}, 7},
			auto: &faultPlan{[]F{{Op: single, Code: 401}}, 2}},
		{name: "429 where to send",
			v1:   &faultPlan{[]F{{Op: pan123test.OpGetUploadURL, Times: 3, Code: 429}}, 6},
			auto: &faultPlan{[]F{{Op: pan123test.OpV2Domain, Times: 3, Code: 429}}, 1}},
		{name: "429 on a slice",
			v2:   &faultPlan{[]F{{Op: slice, SliceNo: 3, Times: 2, Code: 429}}, 8},
			auto: &faultPlan{[]F{{Op: single, Times: 2, Code: 429}}, 3}},
		{name: "429 on create",
			v1: &faultPlan{[]F{{Op: pan123test.OpCreate, Times: 2, Code: 429}}, 6},
			v2: &faultPlan{[]F{{Op: pan123test.OpV2Create, Times: 2, Code: 429}}, 6}},
		{name: "gateway html 502 on create",
			v1:   &faultPlan{[]F{{Op: pan123test.OpCreate, Status: 502, Body: htmlError(502)}}, 6},
			v2:   &faultPlan{[]F{{Op: pan123test.OpV2Create, Status: 502, Body: htmlError(502)}}, 6},
			auto: &faultPlan{[]F{{Op: single, Status: 502, Body: htmlError(502)}}, 2}},
		{name: "truncated json",
			v1:   &faultPlan{[]F{{Op: pan123test.OpGetUploadURL, SliceNo: 2, Body: truncated}}, 6},
			v2:   &faultPlan{[]F{{Op: slice, SliceNo: 2, Body: truncated}}, 7},
			auto: &faultPlan{[]F{{Op: pan123test.OpV2Domain, Body: truncated}}, 1}},
		{name: "20103 or queued on completion",
			v1:   &faultPlan{[]F{{Op: pan123test.OpComplete, Times: 3, Code: 20103}}, 6},
			v2:   &faultPlan{[]F{{Op: pan123test.OpV2Complete, Times: 3, Code: 20103}}, 6},
			auto: &faultPlan{[]F{{Op: single, Times: 3, Body: queued}}, 4}},
		{name: "async completion", fake: []pan123test.Option{pan123test.WithAsync(3)},
			v1: &faultPlan{nil, 6},
			v2: &faultPlan{nil, 6},
			check: func(t *testing.T, e *env, p pan123.Protocol) {
				if p == pan123.V2 {
					assert.Equal(t, 4, e.srv.Count(pan123test.OpV2Complete), "completed=false 3 times, then the file")
				} else {
					assert.Equal(t, 4, e.srv.Count(pan123test.OpAsyncResult))
				}
			}},
		{name: "async completion with 20103", fake: []pan123test.Option{pan123test.WithAsync(2)},
			v1: &faultPlan{[]F{{Op: pan123test.OpAsyncResult, Times: 2, Code: 20103}}, 6},
			v2: &faultPlan{[]F{{Op: pan123test.OpV2Complete, Times: 2, Code: 20103}}, 6}},
		// The fake reads nothing: a slice that fits in the socket buffers is
		// all sent, and its answer is what the client waits for (a second
		// here). Room for one more cut: on a starved machine a send can sit
		// half a second without a byte moving, which is a stall too.
		{name: "stalled slice", opts: []pan123.UploadOption{pan123.WithStallTimeout(500 * time.Millisecond), pan123.WithResponseTimeout(time.Second)},
			v1:   &faultPlan{[]F{{Op: put, SliceNo: 2, Stall: time.Hour}}, 8},
			v2:   &faultPlan{[]F{{Op: slice, SliceNo: 2, Stall: time.Hour}}, 8},
			auto: &faultPlan{[]F{{Op: single, Stall: time.Hour}}, 3}},
		{name: "token expiry mid-upload", expireOnce: true,
			v1: &faultPlan{nil, 6},
			// Every slice post in flight may meet the dead token once.
			v2:   &faultPlan{nil, 6 + pan123.DefaultConcurrency},
			auto: &faultPlan{nil, 2}},
	}
	for _, tc := range tests {
		for _, p := range driveProtocols {
			plan := map[pan123.Protocol]*faultPlan{pan123.V1: tc.v1, pan123.V2: tc.v2, pan123.Auto: tc.auto}[p]
			if plan == nil {
				continue
			}
			t.Run(tc.name+"/"+protocolName(p), func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, append([]pan123test.Option{pan123test.WithSliceSize(flowSlice)}, tc.fake...)...)
				for _, f := range plan.faults {
					e.srv.Inject(f)
				}
				path, data := writeRandom(t, t.TempDir(), size, 7)
				opts := append([]pan123.UploadOption{pan123.WithProtocol(p)}, tc.opts...)
				if tc.expireOnce {
					var once sync.Once
					opts = append(opts, pan123.WithProgress(func(pr pan123.Progress) {
						if pr.Event == pan123.EventSliceDone || (singleStep(p, size) && pr.Event == pan123.EventPhase && pr.Phase == pan123.PhaseUploading) {
							once.Do(e.srv.ExpireTokens)
						}
					}))
				}
				res, err := e.uploader(opts...).UploadFile(t.Context(), path, pan123.FileInput{Name: "f.bin"})
				require.NoError(t, err)
				f, ok := e.srv.File(res.FileID)
				require.True(t, ok)
				require.True(t, bytes.Equal(data, f.Data), "stored bytes differ")
				sends := e.srv.Count(bytesOp(p, size))
				minSends := 6
				if singleStep(p, size) {
					minSends = 1
				}
				assert.GreaterOrEqual(t, sends, minSends)
				assert.LessOrEqual(t, sends, plan.maxSends, "attempts not bounded")
				t.Logf("%d sends, %d requests", sends, len(e.srv.Requests()))
				if tc.expireOnce {
					assert.Equal(t, 2, e.srv.TokensIssued(), "one refresh after the token expired")
				}
				if tc.check != nil {
					tc.check(t, e, p)
				}
			})
		}
	}
}

func TestUploadPermanentSliceFailure(t *testing.T) {
	t.Parallel()
	const size, attempts = 3 * testSlice, 4
	faults := map[pan123.Protocol]pan123test.Fault{
		pan123.V1:   {Op: pan123test.OpPut, SliceNo: 2, Times: -1, Status: 500},
		pan123.V2:   {Op: pan123test.OpV2Slice, SliceNo: 2, Times: -1, Status: 500, Body: htmlError(500)},
		pan123.Auto: {Op: pan123test.OpV2Single, Times: -1, Status: 500, Body: htmlError(500)},
	}
	for _, p := range driveProtocols {
		t.Run(protocolName(p), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.srv.Inject(faults[p])
			path, _ := writeRandom(t, t.TempDir(), size, 3)
			_, err := e.uploader(pan123.WithProtocol(p), pan123.WithSliceRetry(attempts, time.Millisecond, 2*time.Millisecond)).
				UploadFile(t.Context(), path, pan123.FileInput{Name: "x.bin"})
			var ue *pan123.UploadError
			require.ErrorAs(t, err, &ue)
			if singleStep(p, size) {
				assert.Zero(t, ue.SliceNo, "single-step upload has no slices")
				assert.Empty(t, ue.PreuploadID, "single-step upload has no session")
			} else {
				assert.Equal(t, 2, ue.SliceNo)
				assert.NotEmpty(t, ue.PreuploadID)
			}
			var ae *pan123.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, 500, ae.HTTPStatus)
			// The budget, in a row after the last success of another slice.
			limit := attempts
			total, after := failedStreak(e.srv.Requests(), bytesOp(p, size), 0)
			assert.GreaterOrEqual(t, total, limit, "retried up to the budget")
			assert.LessOrEqual(t, after, 2*limit, "bounded after the last success")
			assert.Zero(t, e.srv.Count(pan123test.OpComplete)+e.srv.Count(pan123test.OpV2Complete), "no completion after a failed slice")
		})
	}
}

func TestUploadBusinessErrorIsNotRetried(t *testing.T) {
	t.Parallel()
	first := map[pan123.Protocol]pan123test.Op{pan123.V1: pan123test.OpCreate, pan123.V2: pan123test.OpV2Create, pan123.Auto: pan123test.OpV2Single}
	for _, p := range driveProtocols {
		t.Run(protocolName(p), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.srv.Inject(pan123test.Fault{Op: first[p], Code: 1})
			path, _ := writeRandom(t, t.TempDir(), 10, 3)
			_, err := e.uploader(pan123.WithProtocol(p)).UploadFile(t.Context(), path, pan123.FileInput{})
			var ae *pan123.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, 1, ae.Code)
			assert.Equal(t, 1, e.srv.Count(first[p]))
		})
	}
}

func TestUploadCancelMidway(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	// 2 MiB/s per connection: a slice takes ~125 ms, time for the cancel
	// to stop the slices after those in flight.
	const slice = 256 << 10
	const size = 8 * slice
	for _, p := range driveProtocols {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", protocolName(p), stream), func(t *testing.T) {
				e := newEnv(t, pan123test.WithBandwidth(2<<20), pan123test.WithSliceSize(slice))
				tmp := t.TempDir()
				path, data := writeRandom(t, t.TempDir(), size, 5)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				up := e.uploader(pan123.WithProtocol(p), pan123.WithTempDir(tmp), pan123.WithProgress(func(p pan123.Progress) {
					if p.Phase == pan123.PhaseUploading && p.Done > 0 {
						cancel()
					}
				}))
				done := make(chan error, 1)
				go func() {
					var err error
					if stream {
						_, err = up.Upload(ctx, io.MultiReader(bytes.NewReader(data)), pan123.FileInput{Name: "s.bin"})
					} else {
						_, err = up.UploadFile(ctx, path, pan123.FileInput{})
					}
					done <- err
				}()
				select {
				case err := <-done:
					require.ErrorIs(t, err, context.Canceled)
					var ue *pan123.UploadError
					if !singleStep(p, size) && assert.ErrorAs(t, err, &ue) {
						assert.NotEmpty(t, ue.PreuploadID)
					}
				case <-time.After(30 * time.Second): // a hang guard, not a wait
					t.Fatal("upload did not return after cancel")
				}
				left, err := os.ReadDir(tmp)
				require.NoError(t, err)
				assert.Empty(t, left, "temp files left behind")
				if singleStep(p, size) {
					assert.LessOrEqual(t, e.srv.Count(bytesOp(p, size)), 1)
				} else {
					assert.Less(t, e.srv.Count(bytesOp(p, size)), 8, "slices kept going after cancel")
				}
				e.c.CloseIdleConnections()
				e.srv.Close()
			})
		}
	}
}

func TestUploadFromStream(t *testing.T) {
	t.Parallel()
	const size = 2*testSlice + 5
	for _, p := range driveProtocols {
		t.Run(protocolName(p), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			tmp := t.TempDir()
			_, data := writeRandom(t, t.TempDir(), size, 9)
			var phases []pan123.Phase
			up := e.uploader(pan123.WithProtocol(p), pan123.WithTempDir(tmp), pan123.WithProgress(func(p pan123.Progress) {
				if p.Event == pan123.EventPhase {
					phases = append(phases, p.Phase)
				}
			}))
			// A plain reader (no Seek, no ReadAt) is spooled once while hashed.
			res, err := up.Upload(t.Context(), io.MultiReader(bytes.NewReader(data)), pan123.FileInput{Name: "stream.bin", Size: int64(len(data))})
			require.NoError(t, err)
			f, ok := e.srv.File(res.FileID)
			require.True(t, ok)
			assert.True(t, bytes.Equal(data, f.Data))
			want := []pan123.Phase{pan123.PhaseHashing, pan123.PhaseUploading, pan123.PhaseCompleting, pan123.PhaseDone}
			if singleStep(p, size) {
				want = []pan123.Phase{pan123.PhaseHashing, pan123.PhaseUploading, pan123.PhaseDone}
			}
			assert.Equal(t, want, phases)
			left, _ := os.ReadDir(tmp)
			assert.Empty(t, left, "spool file not removed")

			// A seekable reader is read in place from its current offset.
			r := bytes.NewReader(append([]byte("HEADER"), data...))
			_, err = r.Seek(6, io.SeekStart)
			require.NoError(t, err)
			res2, err := up.Upload(t.Context(), r, pan123.FileInput{Name: "seek.bin"})
			require.NoError(t, err)
			assert.Equal(t, !singleStep(p, size), res2.Reused, "same content as the stream: instant upload (not in single-step)")
			assert.Equal(t, md5hex(data), res2.MD5)
			f2, ok := e.srv.File(res2.FileID)
			require.True(t, ok)
			assert.Equal(t, md5hex(data), f2.MD5)

			// A wrong MD5 given with a stream is caught, not trusted.
			_, err = up.Upload(t.Context(), io.MultiReader(bytes.NewReader(data)), pan123.FileInput{Name: "bad.bin", MD5: strings.Repeat("0", 32)})
			require.ErrorIs(t, err, pan123.ErrInvalidInput)
		})
	}
}

func TestUploadProgressIsByteAccurate(t *testing.T) {
	t.Parallel()
	const size = 4*testSlice + 1
	drops := map[pan123.Protocol]pan123test.Fault{
		pan123.V1:   {Op: pan123test.OpPut, SliceNo: 2, Drop: true},
		pan123.V2:   {Op: pan123test.OpV2Slice, SliceNo: 2, Drop: true},
		pan123.Auto: {Op: pan123test.OpV2Single, Drop: true},
	}
	for _, p := range driveProtocols {
		t.Run(protocolName(p), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.srv.Inject(drops[p])
			path, _ := writeRandom(t, t.TempDir(), size, 11)
			var last pan123.Progress
			var retried, sliceDone int
			var hashed int64
			up := e.uploader(pan123.WithProtocol(p), pan123.WithProgress(func(p pan123.Progress) {
				assert.LessOrEqual(t, p.Done, p.Total)
				assert.GreaterOrEqual(t, p.Done, int64(0))
				switch {
				case p.Phase == pan123.PhaseHashing:
					hashed = p.Done
				case p.Event == pan123.EventSliceRetry:
					retried++
					assert.Less(t, p.Done, last.Done, "a retry rolls progress back")
				case p.Event == pan123.EventSliceDone:
					sliceDone++
				}
				last = p
			}))
			res, err := up.UploadFile(t.Context(), path, pan123.FileInput{})
			require.NoError(t, err)
			assert.Equal(t, res.Size, hashed, "hashing phase reported every byte")
			assert.Equal(t, 1, retried)
			if singleStep(p, size) {
				assert.Equal(t, 1, sliceDone, "the single-step post is slice 1")
			} else {
				assert.Equal(t, 5, sliceDone)
			}
			assert.Equal(t, pan123.PhaseDone, last.Phase)
		})
	}
}

// TestUploadConcurrencyBound: WithConcurrency(n) sends exactly n slices at
// once at its peak: not more, and not fewer (the sends are held until n are
// in flight, so a peak below n means the uploader never allowed n).
func TestUploadConcurrencyBound(t *testing.T) {
	t.Parallel()
	for _, p := range []pan123.Protocol{pan123.V1, pan123.V2} { // Auto sends this file in one post
		for _, n := range []int{1, 3} {
			e := newEnv(t)
			e.holdSends(n)
			path, _ := writeRandom(t, t.TempDir(), 10*testSlice, uint64(n))
			_, err := e.uploader(pan123.WithProtocol(p), pan123.WithConcurrency(n)).UploadFile(t.Context(), path, pan123.FileInput{})
			require.NoError(t, err)
			assert.Equal(t, int64(n), e.tr.maxInflight.Load(), "%s: peak of slices in flight", protocolName(p))
		}
	}
}

func TestUploadBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good, _ := writeRandom(t, dir, 100, 1)
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	huge := filepath.Join(dir, "huge")
	f, err := os.Create(huge)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(pan123.MaxFileSize+1)) // sparse: no disk used
	require.NoError(t, f.Close())

	for _, p := range driveProtocols {
		e := newEnv(t)
		up := e.uploader(pan123.WithProtocol(p))
		ctx := t.Context()
		cases := map[string]func() error{
			"empty name for reader": func() error {
				_, err := up.Upload(ctx, strings.NewReader("x"), pan123.FileInput{})
				return err
			},
			"slash in name":   func() error { _, err := up.UploadFile(ctx, good, pan123.FileInput{Name: "a/b"}); return err },
			"forbidden chars": func() error { _, err := up.UploadFile(ctx, good, pan123.FileInput{Name: `a?b`}); return err },
			"all spaces":      func() error { _, err := up.UploadFile(ctx, good, pan123.FileInput{Name: "   "}); return err },
			"256 characters": func() error {
				_, err := up.UploadFile(ctx, good, pan123.FileInput{Name: strings.Repeat("名", 256)})
				return err
			},
			"directory":    func() error { _, err := up.UploadFile(ctx, dir, pan123.FileInput{Name: "d"}); return err },
			"missing file": func() error { _, err := up.UploadFile(ctx, filepath.Join(dir, "nope"), pan123.FileInput{}); return err },
			"empty file":   func() error { _, err := up.UploadFile(ctx, empty, pan123.FileInput{}); return err },
			"over 10 GB":   func() error { _, err := up.UploadFile(ctx, huge, pan123.FileInput{}); return err },
			"bad md5":      func() error { _, err := up.UploadFile(ctx, good, pan123.FileInput{MD5: "xyz"}); return err },
			"bad sha1": func() error {
				_, err := up.UploadFile(ctx, good, pan123.FileInput{SHA1: strings.Repeat("g", 40)})
				return err
			},
			"short sha1":      func() error { _, err := up.UploadFile(ctx, good, pan123.FileInput{SHA1: "abc"}); return err },
			"bad duplicate":   func() error { _, err := up.UploadFile(ctx, good, pan123.FileInput{Duplicate: 7}); return err },
			"negative parent": func() error { _, err := up.UploadFile(ctx, good, pan123.FileInput{ParentFileID: -1}); return err },
			"size mismatch":   func() error { _, err := up.UploadFile(ctx, good, pan123.FileInput{Size: 99}); return err },
			"bad image name":  func() error { _, err := up.UploadImageFile(ctx, good, pan123.ImageInput{Name: "a|b"}); return err },
			"empty stream":    func() error { _, err := up.Upload(ctx, strings.NewReader(""), pan123.FileInput{Name: "e"}); return err },
			"stream too short": func() error {
				_, err := up.Upload(ctx, io.MultiReader(strings.NewReader("abc")), pan123.FileInput{Name: "e", Size: 4})
				return err
			},
			"stream with bad sha1": func() error {
				_, err := up.Upload(ctx, io.MultiReader(strings.NewReader("abc")), pan123.FileInput{Name: "e", SHA1: "x"})
				return err
			},
			"bad option": func() error {
				_, err := up.UploadFile(ctx, good, pan123.FileInput{}, pan123.WithConcurrency(0))
				return err
			},
			"bad protocol": func() error {
				_, err := up.UploadFile(ctx, good, pan123.FileInput{}, pan123.WithProtocol(pan123.Protocol(9)))
				return err
			},
			"nil reader": func() error { _, err := up.Upload(ctx, nil, pan123.FileInput{Name: "n"}); return err },
		}
		for name, fn := range cases {
			t.Run(protocolName(p)+"/"+name, func(t *testing.T) {
				err := fn()
				require.ErrorIs(t, err, pan123.ErrInvalidInput)
				assert.Empty(t, e.srv.Requests(), "a request reached the platform")
			})
		}
	}
}

func TestUploadHostileAnswers(t *testing.T) {
	t.Parallel()
	// The fake answers faithfully; hostile answers come from a Body fault.
	cases := map[string]string{
		"zero slice size":     `{"code":0,"message":"ok","data":{"fileID":0,"preuploadID":"p","reuse":false,"sliceSize":0},"x-traceID":"t"}`,
		"negative slice size": `{"code":0,"message":"ok","data":{"fileID":0,"preuploadID":"p","reuse":false,"sliceSize":-5},"x-traceID":"t"}`,
		"too many slices":     `{"code":0,"message":"ok","data":{"fileID":0,"preuploadID":"p","reuse":false,"sliceSize":1},"x-traceID":"t"}`,
		"reuse without id":    `{"code":0,"message":"ok","data":{"fileID":0,"preuploadID":"","reuse":true,"sliceSize":1048576},"x-traceID":"t"}`,
		"no preupload id":     `{"code":0,"message":"ok","data":{"fileID":0,"preuploadID":"","reuse":false,"sliceSize":1048576},"x-traceID":"t"}`,
	}
	for _, p := range []pan123.Protocol{pan123.V1, pan123.V2} {
		create := map[pan123.Protocol]pan123test.Op{pan123.V1: pan123test.OpCreate, pan123.V2: pan123test.OpV2Create}[p]
		for name, body := range cases {
			t.Run(protocolName(p)+"/"+name, func(t *testing.T) {
				e := newEnv(t)
				e.srv.Inject(pan123test.Fault{Op: create, Body: body})
				path, _ := writeRandom(t, t.TempDir(), 20000, 2)
				_, err := e.uploader(pan123.WithProtocol(p)).UploadFile(t.Context(), path, pan123.FileInput{})
				require.ErrorIs(t, err, pan123.ErrProtocol)
				assert.Zero(t, e.srv.Count(pan123test.OpPut)+e.srv.Count(pan123test.OpV2Slice))
			})
		}
	}
	for name, body := range map[string]string{
		"empty presigned url": `{"code":0,"message":"ok","data":{"presignedURL":"","isMultipart":false},"x-traceID":"t"}`,
		"ftp presigned url":   `{"code":0,"message":"ok","data":{"presignedURL":"ftp://example.invalid/x","isMultipart":false},"x-traceID":"t"}`,
	} {
		t.Run("V1/"+name, func(t *testing.T) {
			e := newEnv(t)
			e.srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Body: body, Times: -1})
			path, _ := writeRandom(t, t.TempDir(), 20000, 2)
			_, err := e.uploader().UploadFile(t.Context(), path, pan123.FileInput{})
			require.ErrorIs(t, err, pan123.ErrProtocol)
			assert.Equal(t, 1, e.srv.Count(pan123test.OpGetUploadURL), "a protocol error is not retried")
		})
	}
	// Upload hosts must be http(s) URLs or bare hosts; none usable is refused.
	const small, large = 20000, pan123.AutoSingleThreshold + 1
	ftpServer := `{"code":0,"message":"ok","data":{"fileID":0,"preuploadID":"p","reuse":false,"sliceSize":1048576,"servers":["ftp://example.invalid"]},"x-traceID":"t"}`
	noServers := `{"code":0,"message":"ok","data":{"fileID":0,"preuploadID":"p","reuse":false,"sliceSize":1048576,"servers":[]},"x-traceID":"t"}`
	emptyDomain := pan123test.Fault{Op: pan123test.OpV2Domain, Body: `{"code":0,"message":"ok","data":[],"x-traceID":"t"}`}
	for name, tc := range map[string]struct {
		p      pan123.Protocol
		size   int64
		faults []pan123test.Fault
	}{
		"V2/ftp upload server":         {pan123.V2, small, []pan123test.Fault{{Op: pan123test.OpV2Create, Body: ftpServer}, emptyDomain}},
		"V2/no servers, empty domain":  {pan123.V2, small, []pan123test.Fault{{Op: pan123test.OpV2Create, Body: noServers}, emptyDomain}},
		"Auto/empty domain":            {pan123.Auto, small, []pan123test.Fault{emptyDomain}},
		"Auto large/ftp upload server": {pan123.Auto, large, []pan123test.Fault{{Op: pan123test.OpV2Create, Body: ftpServer}, emptyDomain}},
		// A bare host is taken as https (TestUploadHostsFromThePlatform); these are not usable.
		"Auto/no usable domain": {pan123.Auto, small, []pan123test.Fault{{Op: pan123test.OpV2Domain,
			Body: `{"code":0,"message":"ok","data":["ftp://openapi-upload.123242.com","http://"," ","mailto:a@b"],"x-traceID":"t"}`}}},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			for _, f := range tc.faults {
				e.srv.Inject(f)
			}
			path, _ := writeRandom(t, t.TempDir(), tc.size, 2)
			_, err := e.uploader(pan123.WithProtocol(tc.p)).UploadFile(t.Context(), path, pan123.FileInput{})
			require.ErrorIs(t, err, pan123.ErrProtocol)
			assert.Zero(t, e.srv.Count(pan123test.OpV2Slice)+e.srv.Count(pan123test.OpV2Single), "bytes sent")
		})
	}
}

func TestUploadCompleteTimeout(t *testing.T) {
	t.Parallel()
	for p, complete := range map[pan123.Protocol]pan123test.Op{pan123.V1: pan123test.OpComplete, pan123.V2: pan123test.OpV2Complete} {
		t.Run(protocolName(p), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.srv.Inject(pan123test.Fault{Op: complete, Times: -1, Code: 20103})
			path, _ := writeRandom(t, t.TempDir(), 100, 2)
			_, err := e.uploader(pan123.WithProtocol(p), pan123.WithCompleteTimeout(50*time.Millisecond)).UploadFile(t.Context(), path, pan123.FileInput{})
			var ue *pan123.UploadError
			require.ErrorAs(t, err, &ue)
			assert.NotEmpty(t, ue.PreuploadID, "the session is kept so the caller can poll on")
			assert.ErrorIs(t, err, pan123.ErrCompleteTimeout)
			assert.NotErrorIs(t, err, pan123.ErrCompleteRefused)
		})
	}
}

// TestUploadFetchesTokenWhileHashing: the access token is fetched while the
// file is hashed, so its round trip hides behind the hashing pass.
func TestUploadFetchesTokenWhileHashing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path, _ := writeRandom(t, t.TempDir(), 2*testSlice, 13)
	seenDuringHashing := false
	up := e.uploader(pan123.WithProgress(func(p pan123.Progress) {
		if p.Phase != pan123.PhaseHashing || p.Event != pan123.EventBytes || seenDuringHashing {
			return
		}
		// Hashing waits for this callback: poll (bounded) for the token request.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if e.srv.TokensIssued() == 1 {
				seenDuringHashing = true
				return
			}
		}
	}))
	_, err := up.UploadFile(t.Context(), path, pan123.FileInput{})
	require.NoError(t, err)
	assert.True(t, seenDuringHashing, "the token was not fetched during the hashing pass")
	assert.Equal(t, 1, e.srv.TokensIssued())
}
