package pan123_test

import (
	"net/http"
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
