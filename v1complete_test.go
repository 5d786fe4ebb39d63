package pan123_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// answer is a raw success envelope around data.
func answer(data string) string {
	return `{"code":0,"message":"ok","data":` + data + `,"x-traceID":"t"}`
}

// TestV1CompleteAcceptsSyncFileID: the V1 flow page calls an upload
// finished when upload_complete answers async=false with a non-zero fileID,
// whatever completed says. Both V1-style families take that answer at once,
// without another call.
func TestV1CompleteAcceptsSyncFileID(t *testing.T) {
	t.Parallel()
	t.Run("drive", func(t *testing.T) {
		e := newEnv(t)
		e.srv.Inject(pan123test.Fault{Op: pan123test.OpComplete, Body: answer(`{"async":false,"completed":false,"fileID":4242}`)})
		res, err := e.uploader().Upload(t.Context(), strings.NewReader("hello"), pan123.FileInput{Name: "a.txt"})
		require.NoError(t, err)
		assert.Equal(t, int64(4242), res.FileID)
		assert.Equal(t, 1, e.srv.Count(pan123test.OpComplete))
		assert.Zero(t, e.srv.Count(pan123test.OpAsyncResult))
	})
	t.Run("image", func(t *testing.T) {
		e := newEnv(t)
		e.srv.Inject(pan123test.Fault{Op: pan123test.OpOSSComplete, Body: answer(`{"async":false,"completed":false,"fileID":"img42"}`)})
		res, err := e.uploader().UploadImage(t.Context(), strings.NewReader("hello"), pan123.ImageInput{Name: "a.png"})
		require.NoError(t, err)
		assert.Equal(t, "img42", res.FileID)
		assert.Equal(t, 1, e.srv.Count(pan123test.OpOSSComplete))
	})
	t.Run("drive without fileID polls on", func(t *testing.T) {
		e := newEnv(t)
		e.srv.Inject(pan123test.Fault{Op: pan123test.OpComplete, Body: answer(`{"async":false,"completed":false,"fileID":0}`)})
		res, err := e.uploader().Upload(t.Context(), strings.NewReader("hello"), pan123.FileInput{Name: "a.txt"})
		require.NoError(t, err)
		assert.NotZero(t, res.FileID)
		assert.Equal(t, 2, e.srv.Count(pan123test.OpComplete))
	})
	t.Run("V2 needs completed", func(t *testing.T) {
		// The V2 flow page says done when completed=true and fileID != 0.
		e := newEnv(t)
		e.srv.Inject(pan123test.Fault{Op: pan123test.OpV2Complete, Body: answer(`{"completed":false,"fileID":4242}`)})
		res, err := e.uploader(pan123.WithProtocol(pan123.V2)).Upload(t.Context(), strings.NewReader("hello"), pan123.FileInput{Name: "a.txt"})
		require.NoError(t, err)
		assert.NotEqual(t, int64(4242), res.FileID)
		assert.Equal(t, 2, e.srv.Count(pan123test.OpV2Complete))
	})
}
