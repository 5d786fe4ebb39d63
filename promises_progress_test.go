package pan123_test

import (
	"bytes"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// TestProgressNeverConcurrent: with 8 slices in flight, the progress callback
// is never entered while another call of it runs, even without -race. The
// callback yields while it holds its slot, so that an unserialised reporter
// overlaps it at once.
func TestProgressNeverConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pan123test.WithSliceSize(64<<10))
	data := bytes.Repeat([]byte("progress"), 16*(64<<10)/8) // 16 slices
	var in, overlaps, calls atomic.Int32
	for _, p := range []pan123.Protocol{pan123.V1, pan123.V2} {
		up := e.uploader(pan123.WithProtocol(p), pan123.WithConcurrency(8),
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
