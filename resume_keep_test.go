package pan123_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// TestResumeKeepsSessionOnUnreadableListing: one listing of the saved
// session that cannot be read (an answer garbled on the way: code 0, data
// of the wrong shape) does not prove the session gone: the listing is asked
// once more, and the run continues the same session, sending only the
// slices the platform lacks. Before, the record was dropped and every slice
// sent again in a new session. (A listing unreadable every time still
// starts over: TestCheckpointThatCannotContinue.)
func TestResumeKeepsSessionOnUnreadableListing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir, cpDir := t.TempDir(), t.TempDir()
	path, data := writeRandom(t, dir, 5*rSlice+7, 31)
	ue := interruptCheckpointed(t, e, cpDir, path, "keep.bin")
	held := len(e.srv.Parts(ue.PreuploadID))
	require.Positive(t, held)

	e.srv.Inject(pan123test.Fault{Op: pan123test.OpListUploadParts, Body: `{"code":0,"message":"ok","data":{"parts":"x"}}`})
	e.srv.ResetRequests()
	res, err := e.uploader(pan123.WithCheckpointDir(cpDir)).UploadFile(t.Context(), path, pan123.FileInput{Name: "keep.bin"})
	require.NoError(t, err)
	reqs := e.srv.Requests()
	assert.Equal(t, 2, count(reqs, pan123test.OpListUploadParts), "the listing was asked again")
	assert.Zero(t, count(reqs, pan123test.OpCreate), "the saved session was continued")
	_, per := putStats(reqs)
	assert.Len(t, per, 6-held, "only the slices the platform lacked were sent")
	f, ok := e.srv.File(res.FileID)
	require.True(t, ok)
	assert.True(t, bytes.Equal(data, f.Data), "stored bytes differ from the source")
	assert.Empty(t, checkpoints(t, cpDir))
}
