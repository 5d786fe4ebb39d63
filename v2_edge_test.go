package pan123_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-pan123/pan123"
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
