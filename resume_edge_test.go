package pan123_test

import (
	"bytes"
	"testing"
	"time"

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
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpComplete, Times: -1, Status: 500})
	_, err := e.uploader(pan123.WithCompleteTimeout(50*time.Millisecond)).UploadFile(t.Context(), path, pan123.FileInput{Name: "last.bin"})
	e.srv.ClearFaults()
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
