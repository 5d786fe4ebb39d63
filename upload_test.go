package pan123_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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

const testSlice = 1 << 20 // the fake's slice size in these tests

// env is a fake platform and a client wired to it, with fast retries.
type env struct {
	srv *pan123test.Server
	c   *pan123.Client
	// inflight counts slice PUTs in flight; maxInflight is its peak.
	inflight, maxInflight atomic.Int64
}

func newEnv(t *testing.T, opts ...pan123test.Option) *env {
	t.Helper()
	opts = append([]pan123test.Option{pan123test.WithSliceSize(testSlice), pan123test.WithImageSliceSize(testSlice)}, opts...)
	e := &env{srv: pan123test.NewServer(opts...)}
	t.Cleanup(e.srv.Close)
	hc := &http.Client{Transport: &countingTransport{e: e, next: http.DefaultTransport.(*http.Transport).Clone()}}
	c, err := pan123.New(e.srv.ClientID, e.srv.ClientSecret,
		pan123.WithBaseURL(e.srv.URL),
		pan123.WithHTTPClient(hc),
		pan123.WithRetry(6, time.Millisecond, 10*time.Millisecond),
		pan123.WithoutRateLimits())
	require.NoError(t, err)
	t.Cleanup(func() { hc.CloseIdleConnections() })
	e.c = c
	return e
}

// uploader returns an Uploader with test-speed retry and polling.
func (e *env) uploader(opts ...pan123.UploadOption) *pan123.Uploader {
	base := []pan123.UploadOption{
		pan123.WithSliceRetry(6, time.Millisecond, 5*time.Millisecond),
		pan123.WithPollInterval(2 * time.Millisecond),
	}
	return pan123.NewUploader(e.c, append(base, opts...)...)
}

type countingTransport struct {
	e    *env
	next http.RoundTripper
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut {
		n := t.e.inflight.Add(1)
		defer t.e.inflight.Add(-1)
		for {
			m := t.e.maxInflight.Load()
			if n <= m || t.e.maxInflight.CompareAndSwap(m, n) {
				break
			}
		}
	}
	return t.next.RoundTrip(r)
}

// writeRandom writes n random bytes to a file in dir and returns its path and content.
func writeRandom(t *testing.T, dir string, n int64, seed uint64) (string, []byte) {
	t.Helper()
	data := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	for i := range data {
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

func TestUploadSizesBothFamilies(t *testing.T) {
	sizes := []int64{1, testSlice - 1, testSlice, testSlice + 1, 3*testSlice + 7, 64 << 20}
	for _, image := range []bool{false, true} {
		for _, size := range sizes {
			t.Run(fmt.Sprintf("image=%v/size=%d", image, size), func(t *testing.T) {
				t.Parallel()
				e := newEnv(t)
				path, data := writeRandom(t, t.TempDir(), size, 1)
				up := e.uploader()
				n := int((size-1)/testSlice + 1)

				var stored []byte
				if image {
					res, err := up.UploadImageFile(t.Context(), path, pan123.ImageInput{Name: "img.bin"})
					require.NoError(t, err)
					assert.False(t, res.Reused)
					assert.Equal(t, md5hex(data), res.MD5)
					assert.Equal(t, size, res.Size)
					f, ok := e.srv.Image(res.FileID)
					require.True(t, ok)
					stored = f.Data
				} else {
					res, err := up.UploadFile(t.Context(), path, pan123.FileInput{ParentFileID: 0})
					require.NoError(t, err)
					assert.False(t, res.Reused)
					assert.Equal(t, md5hex(data), res.MD5)
					assert.Equal(t, filepath.Base(path), res.Name)
					f, ok := e.srv.File(res.FileID)
					require.True(t, ok)
					stored = f.Data
				}
				require.True(t, bytes.Equal(data, stored), "stored bytes differ from the source")
				assertV1Sequence(t, e.srv.Requests(), image, n)
				assert.LessOrEqual(t, e.maxInflight.Load(), int64(pan123.DefaultConcurrency))

				// The same content again is an instant upload: one create, no bytes.
				e.srv.ResetRequests()
				if image {
					res, err := up.UploadImageFile(t.Context(), path, pan123.ImageInput{Name: "img-again.bin"})
					require.NoError(t, err)
					assert.True(t, res.Reused)
					assert.NotEmpty(t, res.FileID)
					assert.Equal(t, []pan123test.Op{pan123test.OpOSSCreate}, ops(e.srv))
				} else {
					res, err := up.UploadFile(t.Context(), path, pan123.FileInput{Name: "again.bin"})
					require.NoError(t, err)
					assert.True(t, res.Reused)
					assert.NotZero(t, res.FileID)
					assert.Equal(t, []pan123test.Op{pan123test.OpCreate}, ops(e.srv))
				}
				assert.Zero(t, e.srv.Count(pan123test.OpPut))
			})
		}
	}
}

// TestUploadUnderFaults: each fault of the fake, alone; the upload succeeds
// with identical bytes and a bounded number of attempts.
func TestUploadUnderFaults(t *testing.T) {
	const size = 5*testSlice + 123
	tests := []struct {
		name    string
		fake    []pan123test.Option
		faults  []pan123test.Fault
		during  func(e *env) func(pan123.Progress) // optional progress hook that injects a fault mid-upload
		maxPuts int
		opts    []pan123.UploadOption
	}{
		{name: "put 500 twice", faults: []pan123test.Fault{{Op: pan123test.OpPut, SliceNo: 2, Times: 2, Status: 500}}, maxPuts: 8},
		{name: "put 502 and 503", faults: []pan123test.Fault{{Op: pan123test.OpPut, SliceNo: 1, Status: 502}, {Op: pan123test.OpPut, SliceNo: 6, Status: 503}}, maxPuts: 8},
		{name: "dropped connection mid-body", faults: []pan123test.Fault{{Op: pan123test.OpPut, SliceNo: 3, Times: 2, Drop: true}}, maxPuts: 8},
		{name: "expired url 403", faults: []pan123test.Fault{{Op: pan123test.OpPut, SliceNo: 4, Status: 403}}, maxPuts: 7},
		{name: "429 on get_upload_url", faults: []pan123test.Fault{{Op: pan123test.OpGetUploadURL, Times: 3, Code: 429}}, maxPuts: 6},
		{name: "429 on create", faults: []pan123test.Fault{{Op: pan123test.OpCreate, Times: 2, Code: 429}}, maxPuts: 6},
		{name: "gateway html 502 on create", faults: []pan123test.Fault{{Op: pan123test.OpCreate, Status: 502, Body: "<html><body>502 Bad Gateway</body></html>"}}, maxPuts: 6},
		{name: "truncated json on get_upload_url", faults: []pan123test.Fault{{Op: pan123test.OpGetUploadURL, SliceNo: 2, Body: `{"code":0,"message":"ok","data":{"presign`}}, maxPuts: 6},
		{name: "20103 on complete", faults: []pan123test.Fault{{Op: pan123test.OpComplete, Times: 3, Code: 20103}}, maxPuts: 6},
		{name: "async completion", fake: []pan123test.Option{pan123test.WithAsync(3)}, maxPuts: 6},
		{name: "async completion with 20103", fake: []pan123test.Option{pan123test.WithAsync(2)}, faults: []pan123test.Fault{{Op: pan123test.OpAsyncResult, Times: 2, Code: 20103}}, maxPuts: 6},
		{name: "stalled slice", faults: []pan123test.Fault{{Op: pan123test.OpPut, SliceNo: 2, Stall: time.Hour}}, maxPuts: 7,
			opts: []pan123.UploadOption{pan123.WithStallTimeout(200 * time.Millisecond)}},
		{name: "token expiry mid-upload", maxPuts: 6, during: func(e *env) func(pan123.Progress) {
			var once sync.Once
			return func(p pan123.Progress) {
				if p.Event == pan123.EventSliceDone {
					once.Do(e.srv.ExpireTokens)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.fake...)
			for _, f := range tc.faults {
				e.srv.Inject(f)
			}
			path, data := writeRandom(t, t.TempDir(), size, 7)
			opts := tc.opts
			if tc.during != nil {
				opts = append(opts, pan123.WithProgress(tc.during(e)))
			}
			res, err := e.uploader(opts...).UploadFile(t.Context(), path, pan123.FileInput{Name: "f.bin"})
			require.NoError(t, err)
			f, ok := e.srv.File(res.FileID)
			require.True(t, ok)
			require.True(t, bytes.Equal(data, f.Data), "stored bytes differ")
			puts := e.srv.Count(pan123test.OpPut)
			assert.GreaterOrEqual(t, puts, 6)
			assert.LessOrEqual(t, puts, tc.maxPuts, "attempts not bounded")
			t.Logf("%s: %d PUTs, %d requests", tc.name, puts, len(e.srv.Requests()))
			if tc.during != nil {
				assert.Equal(t, 2, e.srv.TokensIssued(), "one refresh after the token expired")
			}
		})
	}
}

func TestUploadPermanentSliceFailure(t *testing.T) {
	e := newEnv(t)
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpPut, SliceNo: 2, Times: -1, Status: 500})
	path, _ := writeRandom(t, t.TempDir(), 3*testSlice, 3)
	const attempts = 4
	_, err := e.uploader(pan123.WithSliceRetry(attempts, time.Millisecond, 2*time.Millisecond)).
		UploadFile(t.Context(), path, pan123.FileInput{Name: "x.bin"})
	var ue *pan123.UploadError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, 2, ue.SliceNo)
	assert.NotEmpty(t, ue.PreuploadID)
	var ae *pan123.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 500, ae.HTTPStatus)
	n := 0
	for _, r := range e.srv.Requests() {
		if r.Op == pan123test.OpPut && r.SliceNo == 2 {
			n++
		}
	}
	assert.Equal(t, attempts, n, "slice 2 sent exactly the retry budget")
	assert.Zero(t, e.srv.Count(pan123test.OpComplete), "no completion after a failed slice")
}

func TestUploadBusinessErrorIsNotRetried(t *testing.T) {
	e := newEnv(t)
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpCreate, Code: 1})
	path, _ := writeRandom(t, t.TempDir(), 10, 3)
	_, err := e.uploader().UploadFile(t.Context(), path, pan123.FileInput{})
	var ae *pan123.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 1, ae.Code)
	assert.Equal(t, 1, e.srv.Count(pan123test.OpCreate))
}

func TestUploadCancelMidway(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			e := newEnv(t, pan123test.WithBandwidth(2<<20))
			tmp := t.TempDir()
			path, data := writeRandom(t, t.TempDir(), 8*testSlice, 5)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			up := e.uploader(pan123.WithTempDir(tmp), pan123.WithProgress(func(p pan123.Progress) {
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
				if assert.ErrorAs(t, err, &ue) {
					assert.NotEmpty(t, ue.PreuploadID)
				}
			case <-time.After(30 * time.Second): // a hang guard, not a wait
				t.Fatal("upload did not return after cancel")
			}
			left, err := os.ReadDir(tmp)
			require.NoError(t, err)
			assert.Empty(t, left, "temp files left behind")
			assert.Less(t, e.srv.Count(pan123test.OpPut), 8, "slices kept going after cancel")
			e.c.CloseIdleConnections()
			e.srv.Close()
		})
	}
}

func TestUploadFromStream(t *testing.T) {
	e := newEnv(t)
	tmp := t.TempDir()
	_, data := writeRandom(t, t.TempDir(), 2*testSlice+5, 9)
	var phases []pan123.Phase
	up := e.uploader(pan123.WithTempDir(tmp), pan123.WithProgress(func(p pan123.Progress) {
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
	assert.Equal(t, []pan123.Phase{pan123.PhaseHashing, pan123.PhaseUploading, pan123.PhaseCompleting, pan123.PhaseDone}, phases)
	left, _ := os.ReadDir(tmp)
	assert.Empty(t, left, "spool file not removed")

	// A seekable reader is read in place from its current offset.
	r := bytes.NewReader(append([]byte("HEADER"), data...))
	_, err = r.Seek(6, io.SeekStart)
	require.NoError(t, err)
	res2, err := up.Upload(t.Context(), r, pan123.FileInput{Name: "seek.bin"})
	require.NoError(t, err)
	assert.True(t, res2.Reused, "same content as the stream: instant upload")
	assert.Equal(t, md5hex(data), res2.MD5)

	// A wrong MD5 given with a stream is caught, not trusted.
	_, err = up.Upload(t.Context(), io.MultiReader(bytes.NewReader(data)), pan123.FileInput{Name: "bad.bin", MD5: strings.Repeat("0", 32)})
	require.ErrorIs(t, err, pan123.ErrInvalidInput)
}

func TestUploadProgressIsByteAccurate(t *testing.T) {
	e := newEnv(t)
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpPut, SliceNo: 2, Drop: true})
	path, _ := writeRandom(t, t.TempDir(), 4*testSlice+1, 11)
	var last pan123.Progress
	var retried, sliceDone int
	var hashed int64
	up := e.uploader(pan123.WithProgress(func(p pan123.Progress) {
		require.LessOrEqual(t, p.Done, p.Total)
		require.GreaterOrEqual(t, p.Done, int64(0))
		switch {
		case p.Phase == pan123.PhaseHashing:
			hashed = p.Done
		case p.Event == pan123.EventSliceRetry:
			retried++
			require.Less(t, p.Done, last.Done, "a retry rolls progress back")
		case p.Event == pan123.EventSliceDone:
			sliceDone++
		}
		last = p
	}))
	res, err := up.UploadFile(t.Context(), path, pan123.FileInput{})
	require.NoError(t, err)
	assert.Equal(t, res.Size, hashed, "hashing phase reported every byte")
	assert.Equal(t, 1, retried)
	assert.Equal(t, 5, sliceDone)
	assert.Equal(t, pan123.PhaseDone, last.Phase)
}

func TestUploadConcurrencyBound(t *testing.T) {
	for _, n := range []int{1, 3} {
		e := newEnv(t, pan123test.WithLatency(2*time.Millisecond))
		path, _ := writeRandom(t, t.TempDir(), 10*testSlice, uint64(n))
		_, err := e.uploader(pan123.WithConcurrency(n)).UploadFile(t.Context(), path, pan123.FileInput{})
		require.NoError(t, err)
		assert.LessOrEqual(t, e.maxInflight.Load(), int64(n))
		assert.GreaterOrEqual(t, e.maxInflight.Load(), int64(1))
	}
}

func TestUploadBadInputSendsNothing(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	good, _ := writeRandom(t, dir, 100, 1)
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	huge := filepath.Join(dir, "huge")
	f, err := os.Create(huge)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(pan123.MaxFileSize+1)) // sparse: no disk used
	require.NoError(t, f.Close())

	up := e.uploader()
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
		"directory":       func() error { _, err := up.UploadFile(ctx, dir, pan123.FileInput{Name: "d"}); return err },
		"missing file":    func() error { _, err := up.UploadFile(ctx, filepath.Join(dir, "nope"), pan123.FileInput{}); return err },
		"empty file":      func() error { _, err := up.UploadFile(ctx, empty, pan123.FileInput{}); return err },
		"over 10 GB":      func() error { _, err := up.UploadFile(ctx, huge, pan123.FileInput{}); return err },
		"bad md5":         func() error { _, err := up.UploadFile(ctx, good, pan123.FileInput{MD5: "xyz"}); return err },
		"bad duplicate":   func() error { _, err := up.UploadFile(ctx, good, pan123.FileInput{Duplicate: 7}); return err },
		"negative parent": func() error { _, err := up.UploadFile(ctx, good, pan123.FileInput{ParentFileID: -1}); return err },
		"size mismatch":   func() error { _, err := up.UploadFile(ctx, good, pan123.FileInput{Size: 99}); return err },
		"bad image name":  func() error { _, err := up.UploadImageFile(ctx, good, pan123.ImageInput{Name: "a|b"}); return err },
		"empty stream":    func() error { _, err := up.Upload(ctx, strings.NewReader(""), pan123.FileInput{Name: "e"}); return err },
		"stream too short": func() error {
			_, err := up.Upload(ctx, io.MultiReader(strings.NewReader("abc")), pan123.FileInput{Name: "e", Size: 4})
			return err
		},
		"bad option": func() error {
			_, err := up.UploadFile(ctx, good, pan123.FileInput{}, pan123.WithConcurrency(0))
			return err
		},
		"nil reader": func() error { _, err := up.Upload(ctx, nil, pan123.FileInput{Name: "n"}); return err },
	}
	for name, fn := range cases {
		t.Run(name, func(t *testing.T) {
			err := fn()
			require.ErrorIs(t, err, pan123.ErrInvalidInput)
			assert.Empty(t, e.srv.Requests(), "a request reached the platform")
		})
	}
}

func TestUploadHostileAnswers(t *testing.T) {
	// The fake answers faithfully; hostile answers come from a Body fault.
	cases := map[string]string{
		"zero slice size":     `{"code":0,"message":"ok","data":{"fileID":0,"preuploadID":"p","reuse":false,"sliceSize":0},"x-traceID":"t"}`,
		"negative slice size": `{"code":0,"message":"ok","data":{"fileID":0,"preuploadID":"p","reuse":false,"sliceSize":-5},"x-traceID":"t"}`,
		"too many slices":     `{"code":0,"message":"ok","data":{"fileID":0,"preuploadID":"p","reuse":false,"sliceSize":1},"x-traceID":"t"}`,
		"reuse without id":    `{"code":0,"message":"ok","data":{"fileID":0,"preuploadID":"","reuse":true,"sliceSize":1048576},"x-traceID":"t"}`,
		"no preupload id":     `{"code":0,"message":"ok","data":{"fileID":0,"preuploadID":"","reuse":false,"sliceSize":1048576},"x-traceID":"t"}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.srv.Inject(pan123test.Fault{Op: pan123test.OpCreate, Body: body})
			path, _ := writeRandom(t, t.TempDir(), 20000, 2)
			_, err := e.uploader().UploadFile(t.Context(), path, pan123.FileInput{})
			require.ErrorIs(t, err, pan123.ErrProtocol)
			assert.Zero(t, e.srv.Count(pan123test.OpPut))
		})
	}
	for name, body := range map[string]string{
		"empty presigned url": `{"code":0,"message":"ok","data":{"presignedURL":"","isMultipart":false},"x-traceID":"t"}`,
		"ftp presigned url":   `{"code":0,"message":"ok","data":{"presignedURL":"ftp://example.invalid/x","isMultipart":false},"x-traceID":"t"}`,
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Body: body, Times: -1})
			path, _ := writeRandom(t, t.TempDir(), 20000, 2)
			_, err := e.uploader().UploadFile(t.Context(), path, pan123.FileInput{})
			require.ErrorIs(t, err, pan123.ErrProtocol)
			assert.Equal(t, 1, e.srv.Count(pan123test.OpGetUploadURL), "a protocol error is not retried")
		})
	}
}

func TestUploadCompleteTimeout(t *testing.T) {
	e := newEnv(t)
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpComplete, Times: -1, Code: 20103})
	path, _ := writeRandom(t, t.TempDir(), 100, 2)
	_, err := e.uploader(pan123.WithCompleteTimeout(50*time.Millisecond)).UploadFile(t.Context(), path, pan123.FileInput{})
	var ue *pan123.UploadError
	require.ErrorAs(t, err, &ue)
	assert.NotEmpty(t, ue.PreuploadID, "the session is kept so the caller can poll on")
	assert.False(t, errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "deadline"))
	assert.Contains(t, err.Error(), "completion deadline")
}
