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

// flowSlice is the fake's slice size in these tests: small, so that slices
// fit in the socket buffers and a file of a few slices is quick.
const flowSlice = 64 << 10

// TestSlowAnswerIsNotAStall: a platform that answers every send 300 ms after
// its last byte, with a stall timeout of 100 ms, gets each slice (or the
// single-step file) exactly once. Under Auto with Duplicate unset, a replay
// of the single-step upload would be refused as a same-name file.
func TestSlowAnswerIsNotAStall(t *testing.T) {
	const size = 3*flowSlice + 5
	for _, p := range driveProtocols {
		t.Run(protocolName(p), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, pan123test.WithSliceSize(flowSlice))
			op := bytesOp(p, size)
			e.srv.Inject(pan123test.Fault{Op: op, Times: -1, Delay: 300 * time.Millisecond})
			path, data := writeRandom(t, t.TempDir(), size, 11)
			res, err := e.uploader(pan123.WithProtocol(p), pan123.WithStallTimeout(100*time.Millisecond)).
				UploadFile(t.Context(), path, pan123.FileInput{Name: "slow.bin"})
			require.NoError(t, err)
			f, ok := e.srv.File(res.FileID)
			require.True(t, ok)
			assert.True(t, bytes.Equal(data, f.Data))
			want := 4
			if singleStep(p, size) {
				want = 1
			}
			assert.Equal(t, want, e.srv.Count(op), "each slice sent once")
		})
	}
}

// TestCompletionSurvivesInternalError: one code 1 "内部错误" on
// upload_complete (or while polling) does not end the upload nor drop its
// checkpoint: completion asks again and the file is stored with each slice
// sent once. A persistent one ends at the completion deadline with
// ErrCompleteTimeout, keeping the record for a later run.
func TestCompletionSurvivesInternalError(t *testing.T) {
	const size = 3*flowSlice + 5
	cases := []struct {
		name  string
		p     pan123.Protocol
		fake  []pan123test.Option
		fault pan123test.Op
	}{
		{"V1 complete", pan123.V1, nil, pan123test.OpComplete},
		{"V1 async result", pan123.V1, []pan123test.Option{pan123test.WithAsync(1)}, pan123test.OpAsyncResult},
		{"V2 complete", pan123.V2, nil, pan123test.OpV2Complete},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, append([]pan123test.Option{pan123test.WithSliceSize(flowSlice)}, tc.fake...)...)
			cpDir := t.TempDir()
			path, data := writeRandom(t, t.TempDir(), size, 12)
			e.srv.Inject(pan123test.Fault{Op: tc.fault, Code: pan123test.CodeInternal})
			res, err := e.uploader(pan123.WithProtocol(tc.p), pan123.WithCheckpointDir(cpDir)).
				UploadFile(t.Context(), path, pan123.FileInput{Name: "c.bin"})
			require.NoError(t, err)
			f, ok := e.srv.File(res.FileID)
			require.True(t, ok)
			assert.True(t, bytes.Equal(data, f.Data))
			assert.Equal(t, 4, e.srv.Count(bytesOp(tc.p, size)), "each slice sent once")
			assert.Empty(t, checkpoints(t, cpDir))

			// Persistent: the deadline ends it, the record stays.
			path, _ = writeRandom(t, t.TempDir(), size, 13)
			e.srv.Inject(pan123test.Fault{Op: tc.fault, Code: pan123test.CodeInternal, Times: -1})
			_, err = e.uploader(pan123.WithProtocol(tc.p), pan123.WithCheckpointDir(cpDir), pan123.WithCompleteTimeout(50*time.Millisecond)).
				UploadFile(t.Context(), path, pan123.FileInput{Name: "c2.bin"})
			require.ErrorIs(t, err, pan123.ErrCompleteTimeout)
			assert.NotErrorIs(t, err, pan123.ErrCompleteRefused)
			assert.Len(t, checkpoints(t, cpDir), 1, "the session may still finish: its record is kept")
		})
	}
}
