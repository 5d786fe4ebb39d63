package pan123_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// The response timeout starts once a slice's last byte is sent, not at its
// first: a slice that takes longer to send than the response timeout (a
// slow link, here a cap of one slice a second) goes through without a
// retry.
func TestResponseTimeoutCountsFromTheLastByte(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path, _ := writeRandom(t, t.TempDir(), testSlice, 46)
	var log progressLog
	start := time.Now()
	_, err := e.uploader(pan123.WithProgress(log.fn), pan123.WithUploadBandwidthLimit(testSlice),
		pan123.WithResponseTimeout(300*time.Millisecond), pan123.WithStallTimeout(5*time.Second)).
		UploadFile(t.Context(), path, pan123.FileInput{Name: "slow.bin"})
	require.NoError(t, err)
	require.Greater(t, time.Since(start), 600*time.Millisecond, "the slice must take longer to send than the response timeout")
	assert.Empty(t, log.of(pan123.EventSliceRetry))
}

// PutSlice reads the S3 error code of a refused PUT, also from a bare
// <Code> body, and calls any 3xx a refused redirect (never a stored slice).
func TestPutSliceErrorMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	cr, err := e.c.Drive.Create(ctx, &pan123.FileCreateRequest{Filename: "put.bin", Etag: md5hex([]byte("x")), Size: 1})
	require.NoError(t, err)
	u, err := e.c.Drive.UploadURL(ctx, cr.PreuploadID, 1)
	require.NoError(t, err)

	e.srv.Inject(pan123test.Fault{Op: pan123test.OpPut, Status: http.StatusServiceUnavailable, Body: "<Code>SlowDown</Code>"})
	err = e.c.PutSlice(ctx, u.PresignedURL, bytes.NewReader([]byte("x")), 1)
	var ae *pan123.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusServiceUnavailable, ae.HTTPStatus)
	assert.Equal(t, "SlowDown", ae.Message)

	e.srv.Inject(pan123test.Fault{Op: pan123test.OpPut, Location: "http://127.0.0.1:1/elsewhere"})
	err = e.c.PutSlice(ctx, u.PresignedURL, bytes.NewReader([]byte("x")), 1)
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusTemporaryRedirect, ae.HTTPStatus)
	assert.Contains(t, ae.Message, "redirect refused")
}

// untouchedReader fails the test if the upload reads it.
type untouchedReader struct{ t *testing.T }

func (r untouchedReader) Read([]byte) (int, error) {
	r.t.Error("the stream was read")
	return 0, io.EOF
}

// A malformed SHA1 or MD5 in the input is refused before the stream is
// read or any request is sent, even when it is the only thing wrong.
func TestUploadRefusesMalformedHashesUpFront(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	for name, in := range map[string]pan123.FileInput{
		"sha1": {Name: "a.txt", SHA1: "not-a-sha1"},
		"md5":  {Name: "a.txt", MD5: "not-an-md5"},
	} {
		_, err := e.uploader().Upload(ctx, untouchedReader{t}, in)
		assert.ErrorIs(t, err, pan123.ErrInvalidInput, name)
	}
	_, err := e.uploader().UploadImage(ctx, untouchedReader{t}, pan123.ImageInput{Name: "a.png", MD5: "not-an-md5"})
	assert.ErrorIs(t, err, pan123.ErrInvalidInput, "image md5")
	assert.Zero(t, e.tr.requests.Load(), "no request was sent")
}

// A stream with a given SHA1 tries sha1_reuse exactly once, with the real
// size: before spooling when the size is given, after it when not.
func TestStreamSHA1ReuseAskedOnceWithTheSize(t *testing.T) {
	t.Parallel()
	data := []byte("a stream of bytes the platform does not have")
	for _, size := range []int64{0, int64(len(data))} {
		e := newEnv(t)
		in := pan123.FileInput{Name: "s.txt", SHA1: sha1hex(data), Size: size}
		_, err := e.uploader().Upload(t.Context(), io.MultiReader(bytes.NewReader(data)), in)
		require.NoError(t, err)
		var sizes []int64
		for _, r := range e.srv.Requests() {
			if r.Op == pan123test.OpV2SHA1Reuse {
				var body struct{ Size int64 }
				require.NoError(t, json.Unmarshal(r.Body, &body))
				sizes = append(sizes, body.Size)
			}
		}
		assert.Equal(t, []int64{int64(len(data))}, sizes, "Size %d", size)
	}
}

// Upload reads a seekable reader in place and leaves its offset where it
// was.
func TestUploadLeavesTheReaderOffset(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := bytes.NewReader([]byte("skip:the rest is uploaded"))
	_, err := r.Seek(5, io.SeekStart)
	require.NoError(t, err)
	res, err := e.uploader().Upload(t.Context(), r, pan123.FileInput{Name: "rest.txt"})
	require.NoError(t, err)
	f, ok := e.srv.File(res.FileID)
	require.True(t, ok)
	assert.Equal(t, "the rest is uploaded", string(f.Data))
	pos, err := r.Seek(0, io.SeekCurrent)
	require.NoError(t, err)
	assert.EqualValues(t, 5, pos)
}

// A slice given up on takes its bytes back out of the progress: the last
// report counts only the slices the platform accepted.
func TestGivenUpSliceRollsItsBytesBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path, _ := writeRandom(t, t.TempDir(), 4*rSlice, 47)
	var log progressLog
	ue := failAtSlice3(t, e, func(opts ...pan123.UploadOption) error {
		_, err := e.uploader(append(opts, pan123.WithProgress(log.fn))...).UploadFile(t.Context(), path, pan123.FileInput{Name: "g.bin"})
		return err
	})
	require.NotNil(t, ue)
	log.mu.Lock()
	defer log.mu.Unlock()
	last := log.all[len(log.all)-1]
	assert.Equal(t, int64(2*rSlice), last.Done, "last report %+v", last)
}

// A slice cut by the watchdog says which bound cut it and after how long:
// a small slice is sent whole at once, then waits for an answer that a
// stalled platform never gives.
func TestCutSliceErrorNamesTheBound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpPut, Stall: time.Minute, Times: -1})
	_, err := e.uploader(pan123.WithSliceRetry(1, time.Millisecond, time.Millisecond),
		pan123.WithStallTimeout(time.Minute), pan123.WithResponseTimeout(100*time.Millisecond)).
		Upload(t.Context(), bytes.NewReader([]byte("ten bytes!")), pan123.FileInput{Name: "cut.bin"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no answer to the slice after 100ms")
}

// The completion deadline is 2 minutes plus 1 per whole GiB.
func TestDefaultCompleteTimeout(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 2*time.Minute, pan123.DefaultCompleteTimeout(1<<30-1))
	assert.Equal(t, 5*time.Minute, pan123.DefaultCompleteTimeout(3<<30+5))
}
