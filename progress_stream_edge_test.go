package pan123_test

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
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

// A resume of a session the platform holds no slice of has nothing to check:
// its hashing phase counts 0 bytes, not the file size it will never reach.
func TestResumeWithNothingToCheckHashesZeroBytes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path, _ := writeRandom(t, t.TempDir(), 2*testSlice+5, 45)
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Times: -1, Status: 500})
	_, err := e.uploader().UploadFile(t.Context(), path, pan123.FileInput{Name: "none.bin"})
	e.srv.ClearFaults()
	var ue *pan123.UploadError
	require.ErrorAs(t, err, &ue)
	require.Empty(t, e.srv.Parts(ue.PreuploadID), "no slice on the platform")

	var mu sync.Mutex
	var hashing []pan123.Progress
	_, err = e.uploader(pan123.WithProgress(func(p pan123.Progress) {
		if p.Phase == pan123.PhaseHashing {
			mu.Lock()
			hashing = append(hashing, p)
			mu.Unlock()
		}
	})).ResumeFile(t.Context(), ue)
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, hashing)
	for _, p := range hashing {
		assert.Zero(t, p.Total, "%+v", p)
	}
}
