package pan123_test

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
)

// A stream of unknown length reports its size as Total once it is spooled:
// every phase after hashing counts against the real size.
func TestStreamProgressTotalIsTheSpooledSize(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	data := bytes.Repeat([]byte("stream of unknown length "), 2*testSlice/25+1)
	var mu sync.Mutex
	var totals []int64
	up := e.uploader(pan123.WithProgress(func(p pan123.Progress) {
		if p.Event == pan123.EventPhase && p.Phase > pan123.PhaseHashing {
			mu.Lock()
			totals = append(totals, p.Total)
			mu.Unlock()
		}
	}))
	_, err := up.Upload(t.Context(), io.MultiReader(bytes.NewReader(data)), pan123.FileInput{Name: "stream.bin"})
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, totals, 3, "uploading, completing, done")
	for _, total := range totals {
		assert.EqualValues(t, len(data), total)
	}
}
