package pan123_test

import (
	"bytes"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// newFake starts a fake platform with 64 KiB slices and a client for it that
// retries fast and does not pace.
func newFake(t *testing.T, srvOpts ...pan123test.Option) (*pan123test.Server, *pan123.Client) {
	t.Helper()
	srv := pan123test.NewServer(append([]pan123test.Option{pan123test.WithSliceSize(64 << 10)}, srvOpts...)...)
	t.Cleanup(srv.Close)
	c, err := pan123.New(srv.ClientID, srv.ClientSecret, pan123.WithBaseURL(srv.URL),
		pan123.WithRetry(3, time.Millisecond, 2*time.Millisecond), pan123.WithoutRateLimits())
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return srv, c
}

// TestProgressNeverConcurrent: with 8 slices in flight, the progress callback
// is never entered while another call of it runs, even without -race. The
// callback yields while it holds its slot, so that an unserialised reporter
// overlaps it at once.
func TestProgressNeverConcurrent(t *testing.T) {
	_, c := newFake(t)
	data := bytes.Repeat([]byte("progress"), 16*(64<<10)/8) // 16 slices
	var in, overlaps, calls atomic.Int32
	for _, p := range []pan123.Protocol{pan123.V1, pan123.V2} {
		up := pan123.NewUploader(c, pan123.WithProtocol(p), pan123.WithConcurrency(8),
			pan123.WithProgress(func(pan123.Progress) {
				calls.Add(1)
				if in.Add(1) > 1 {
					overlaps.Add(1)
				}
				for range 20 {
					runtime.Gosched()
				}
				in.Add(-1)
			}))
		data[0]++ // fresh content: every slice is sent
		_, err := up.Upload(t.Context(), bytes.NewReader(data), pan123.FileInput{Name: fmt.Sprintf("p%d.bin", p)})
		require.NoError(t, err)
	}
	assert.Greater(t, calls.Load(), int32(32), "bytes and slice events were reported")
	assert.Zero(t, overlaps.Load(), "the progress callback ran twice at once")
}
