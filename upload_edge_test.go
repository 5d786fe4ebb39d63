package pan123_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
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
