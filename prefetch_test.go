package pan123_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"path"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// holdFirstPut holds the first presigned PUT until a second get_upload_url
// goes out (or, if none ever does, until a deadline that only the failure
// case reaches), and records whether it came.
type holdFirstPut struct {
	next     http.RoundTripper
	urls     atomic.Int64
	second   chan struct{}
	held     atomic.Bool
	overlaps atomic.Bool
}

func (h *holdFirstPut) RoundTrip(r *http.Request) (*http.Response, error) {
	switch {
	case r.URL.Path == string(pan123test.OpGetUploadURL):
		if h.urls.Add(1) == 2 {
			close(h.second)
		}
	case r.Method == http.MethodPut && h.held.CompareAndSwap(false, true):
		select {
		case <-h.second:
			h.overlaps.Store(true)
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
	}
	return h.next.RoundTrip(r)
}

// TestURLPrefetch: with one slice in flight, the next slice's URL is asked
// for while the current slice is still sending, and no URL is wasted.
func TestURLPrefetch(t *testing.T) {
	t.Parallel()
	const n = 5
	s := pan123test.NewServer(pan123test.WithSliceSize(testSlice))
	t.Cleanup(s.Close)
	h := &holdFirstPut{next: http.DefaultTransport.(*http.Transport).Clone(), second: make(chan struct{})}
	c, err := pan123.New(s.ClientID, s.ClientSecret, pan123.WithBaseURL(s.URL), pan123.WithHTTPClient(&http.Client{Transport: h}))
	require.NoError(t, err)
	path, _ := writeRandom(t, t.TempDir(), n*testSlice-7, 31)
	_, err = pan123.NewUploader(c, pan123.WithConcurrency(1)).UploadFile(t.Context(), path, pan123.FileInput{})
	require.NoError(t, err)
	assert.True(t, h.overlaps.Load(), "slice 2's URL was asked for while slice 1 was sending")
	assert.Equal(t, n, s.Count(pan123test.OpGetUploadURL), "one URL per slice")
}

// holdFirstPost holds the first V2 slice post until the source is read
// beyond the first slice (or, if it never is, until a deadline that only the
// failure case reaches), and records whether it was.
type holdFirstPost struct {
	next     http.RoundTripper
	read     chan struct{} // closed by the source
	held     atomic.Bool
	overlaps atomic.Bool
}

func (h *holdFirstPost) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == string(pan123test.OpV2Slice) && h.held.CompareAndSwap(false, true) {
		select {
		case <-h.read:
			h.overlaps.Store(true)
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
	}
	return h.next.RoundTrip(r)
}

// readsPast closes beyond on the first read at or after offset from.
type readsPast struct {
	*bytes.Reader
	from   int64
	once   sync.Once
	beyond chan struct{}
}

func (r *readsPast) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.from {
		r.once.Do(func() { close(r.beyond) })
	}
	return r.Reader.ReadAt(p, off)
}

// TestV2SliceMD5Ahead: when the hashing pass did not compute the slice MD5s
// (here the MD5 is given, so there is none), slice 2 is hashed while slice 1
// is still posting, not after it: one worker sends slice after slice with
// nothing between two posts but the post.
func TestV2SliceMD5Ahead(t *testing.T) {
	t.Parallel()
	const n = 4
	s := pan123test.NewServer(pan123test.WithSliceSize(testSlice))
	t.Cleanup(s.Close)
	data := make([]byte, n*testSlice-9)
	for i := range data {
		data[i] = byte(i * 7)
	}
	src := &readsPast{Reader: bytes.NewReader(data), from: testSlice, beyond: make(chan struct{})}
	h := &holdFirstPost{next: http.DefaultTransport.(*http.Transport).Clone(), read: src.beyond}
	c, err := pan123.New(s.ClientID, s.ClientSecret, pan123.WithBaseURL(s.URL), pan123.WithHTTPClient(&http.Client{Transport: h}))
	require.NoError(t, err)
	sum := md5.Sum(data)
	res, err := pan123.NewUploader(c, pan123.WithConcurrency(1), pan123.WithProtocol(pan123.V2)).Upload(t.Context(), src,
		pan123.FileInput{Name: "ahead.bin", MD5: hex.EncodeToString(sum[:])})
	require.NoError(t, err)
	assert.True(t, h.overlaps.Load(), "slice 2 was hashed while slice 1 was posting")
	f, ok := s.File(res.FileID)
	require.True(t, ok)
	assert.True(t, bytes.Equal(data, f.Data))
}

// holdURL3 makes slice 3's URL late while slice 4's is there and a worker
// is free: slice 3's get_upload_url is held until slice 4's PUT starts (or,
// if it never does, until a deadline that only the failure case reaches);
// slice 1's PUT until slice 4's URL is back, so that both are fetched
// ahead; and slice 2's PUT until slice 3's URL is let go, so that only one
// worker is free (its deadline is later than slice 3's: it must not free a
// second worker first).
type holdURL3 struct {
	next     http.RoundTripper
	put4     chan struct{}
	url3     chan struct{} // closed when slice 3's URL is let go
	url4     chan struct{} // closed when slice 4's URL is back
	reorders atomic.Bool
	once     [3]sync.Once
}

func (h *holdURL3) RoundTrip(r *http.Request) (*http.Response, error) {
	wait := func(ch chan struct{}, d time.Duration) {
		select {
		case <-ch:
		case <-time.After(d):
		case <-r.Context().Done():
		}
	}
	switch {
	case r.URL.Path == string(pan123test.OpGetUploadURL):
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		var q struct{ SliceNo int }
		_ = json.Unmarshal(b, &q)
		switch q.SliceNo {
		case 3:
			wait(h.put4, 10*time.Second)
			h.reorders.Store(isClosed(h.put4))
			h.once[0].Do(func() { close(h.url3) })
		case 4:
			defer h.once[1].Do(func() { close(h.url4) })
		}
	case r.Method == http.MethodPut && path.Base(r.URL.Path) == "1":
		wait(h.url4, 10*time.Second)
	case r.Method == http.MethodPut && path.Base(r.URL.Path) == "2":
		wait(h.url3, 20*time.Second) // slice 3's deadline comes first
	case r.Method == http.MethodPut && path.Base(r.URL.Path) == "4":
		h.once[2].Do(func() { close(h.put4) })
	}
	return h.next.RoundTrip(r)
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestSliceWhoseURLIsReady: a free worker sends a slice whose URL is there
// rather than wait for the next slice's URL (the rate limiter does not serve
// waiting calls in the order they came, so URLs come back out of order).
// Here slice 3's URL is late: the worker freed by slice 1 sends slice 4.
func TestSliceWhoseURLIsReady(t *testing.T) {
	t.Parallel()
	const n = 6
	s := pan123test.NewServer(pan123test.WithSliceSize(testSlice))
	t.Cleanup(s.Close)
	h := &holdURL3{next: http.DefaultTransport.(*http.Transport).Clone(), put4: make(chan struct{}), url3: make(chan struct{}), url4: make(chan struct{})}
	c, err := pan123.New(s.ClientID, s.ClientSecret, pan123.WithBaseURL(s.URL), pan123.WithHTTPClient(&http.Client{Transport: h}))
	require.NoError(t, err)
	path, data := writeRandom(t, t.TempDir(), n*testSlice-5, 32)
	res, err := pan123.NewUploader(c, pan123.WithConcurrency(2)).UploadFile(t.Context(), path, pan123.FileInput{})
	require.NoError(t, err)
	assert.True(t, h.reorders.Load(), "slice 4 was sent while slice 3's URL was late")
	f, ok := s.File(res.FileID)
	require.True(t, ok)
	assert.True(t, bytes.Equal(data, f.Data))
	assert.Equal(t, n, s.Count(pan123test.OpGetUploadURL), "one URL per slice")
}
