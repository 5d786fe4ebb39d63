package pan123_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// A resume after every slice got through (the completion failed) sends no
// slice again: the last one, shorter than the others, is verified and
// skipped like the rest.
func TestResumeSkipsTheLastSliceToo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path, data := writeRandom(t, t.TempDir(), 3*rSlice+9, 44)
	// The first run stops as completion begins: every slice is on the
	// platform and no complete request was sent. (A completion cut by a
	// deadline could leave a complete request in flight that the fake would
	// act on later, finishing the file before the resume.)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	first := progressLog{hook: func(p pan123.Progress) {
		if p.Event == pan123.EventPhase && p.Phase == pan123.PhaseCompleting {
			cancel()
		}
	}}
	_, err := e.uploader(pan123.WithProgress(first.fn)).UploadFile(ctx, path, pan123.FileInput{Name: "last.bin"})
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, e.srv.Count(pan123test.OpComplete), "no complete request")
	var ue *pan123.UploadError
	require.ErrorAs(t, err, &ue)
	require.Len(t, e.srv.Parts(ue.PreuploadID), 4, "every slice on the platform")

	e.srv.ResetRequests()
	var log progressLog
	res, err := e.uploader(pan123.WithProgress(log.fn)).ResumeFile(t.Context(), ue)
	require.NoError(t, err)
	f, ok := e.srv.File(res.FileID)
	require.True(t, ok)
	require.True(t, bytes.Equal(data, f.Data))
	_, per := putStats(e.srv.Requests())
	assert.Empty(t, per, "no slice sent again")
	assert.Equal(t, []int{1, 2, 3, 4}, log.sliceNos(pan123.EventSliceSkipped))
}
