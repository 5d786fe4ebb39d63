package pan123_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
)

// EventBytes means Done moved forward: an upload reports no byte event
// without bytes (not when the transport reads a slice body to its end).
func TestEventBytesAlwaysMovesForward(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path, _ := writeRandom(t, t.TempDir(), 3*rSlice+9, 45)
	var log progressLog
	_, err := e.uploader(pan123.WithProgress(log.fn), pan123.WithConcurrency(1)).UploadFile(t.Context(), path, pan123.FileInput{Name: "p.bin"})
	require.NoError(t, err)
	log.mu.Lock()
	defer log.mu.Unlock()
	require.NotEmpty(t, log.all)
	for i, p := range log.all {
		if p.Event == pan123.EventBytes && i > 0 {
			assert.Greater(t, p.Done, log.all[i-1].Done, "event %d (%s phase) after %+v", i, p.Phase, log.all[i-1])
		}
	}
}
