package pan123_test

import (
	"bytes"
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
