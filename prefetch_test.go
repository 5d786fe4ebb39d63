package pan123_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"net/http"
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
