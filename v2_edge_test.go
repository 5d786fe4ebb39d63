package pan123_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// SingleUpload takes sizes from 1 byte to MaxSingleUploadSize inclusive;
// anything else is refused before a request is sent.
func TestSingleUploadSizeBounds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	server := e.srv.UploadServers()[0]
	for _, size := range []int64{0, pan123.MaxSingleUploadSize + 1} {
		_, err := e.c.Drive.SingleUpload(t.Context(), server, &pan123.FileSingleUploadRequest{Filename: "s.bin", Etag: md5hex(nil), Size: size}, bytes.NewReader(nil))
		assert.ErrorIs(t, err, pan123.ErrInvalidInput, "size %d", size)
	}
	assert.Zero(t, e.tr.requests.Load(), "no request for a size out of bounds")

	// The largest size is valid: the request goes out (and fails, as the
	// body is far shorter than it says).
	_, err := e.c.Drive.SingleUpload(t.Context(), server, &pan123.FileSingleUploadRequest{Filename: "s.bin", Etag: md5hex(nil), Size: pan123.MaxSingleUploadSize}, bytes.NewReader([]byte("x")))
	assert.Error(t, err)
	assert.NotErrorIs(t, err, pan123.ErrInvalidInput)
	assert.Positive(t, e.tr.requests.Load(), "the request was sent")
}

// An upload server's answer of exactly 1 MiB is read; only a longer one is
// refused as oversized.
func TestUploadServerAnswerCapIsOneMiB(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const answer = `{"code":0,"message":"ok","data":{"fileID":5,"completed":true}}`
	data := []byte("single")
	req := &pan123.FileSingleUploadRequest{Filename: "s.bin", Etag: md5hex(data), Size: int64(len(data))}
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpV2Single, Body: answer + strings.Repeat(" ", 1<<20-len(answer))})
	r, err := e.c.Drive.SingleUpload(t.Context(), e.srv.UploadServers()[0], req, bytes.NewReader(data))
	if assert.NoError(t, err) {
		assert.EqualValues(t, 5, r.FileID)
	}
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpV2Single, Body: answer + strings.Repeat(" ", 1<<20+1-len(answer))})
	_, err = e.c.Drive.SingleUpload(t.Context(), e.srv.UploadServers()[0], req, bytes.NewReader(data))
	assert.Error(t, err)
}
