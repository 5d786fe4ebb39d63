package pan123

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

// A record is keyed on the source's absolute path: the relative and the
// absolute spelling of one file share a record, which names the file
// absolutely (so a later run from another directory finds it).
func TestCheckpointFileIsKeyedOnTheAbsolutePath(t *testing.T) {
	t.Parallel()
	wd, err := os.Getwd()
	require.NoError(t, err)
	dir, tg := t.TempDir(), &driveTarget{in: FileInput{Name: "x.bin"}}
	rel, relAbs := checkpointFile(dir, &source{path: "x.bin"}, tg)
	abs, absAbs := checkpointFile(dir, &source{path: filepath.Join(wd, "x.bin")}, tg)
	assert.Equal(t, filepath.Join(wd, "x.bin"), relAbs)
	assert.Equal(t, absAbs, relAbs)
	assert.Equal(t, abs, rel)
}

// A save that cannot replace the record leaves no temp file behind, and the
// tracker logs the failure (and only a failure).
func TestCheckpointSaveFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var logged []error
	track := &checkpointTracker{file: filepath.Join(dir, "record.json"), log: func(_ string, err error) { logged = append(logged, err) },
		cp: checkpoint{Version: checkpointVersion}}
	track.sliceDone(1)
	assert.Empty(t, logged, "a successful save logged")

	// The record's path is taken by a folder that is not empty: the rename fails.
	bad := filepath.Join(dir, "taken")
	require.NoError(t, os.MkdirAll(filepath.Join(bad, "child"), 0o700))
	track.file = bad
	track.sliceDone(2)
	require.Len(t, logged, 1)
	var le *os.LinkError
	assert.True(t, errors.As(logged[0], &le), "%v", logged[0])
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"record.json", "taken"}, names, "a temp file was left")
}

// failingReaderAt fails every read.
type failingReaderAt struct{ err error }

func (r failingReaderAt) ReadAt([]byte, int64) (int, error) { return 0, r.err }

// A held slice that cannot be read back to verify it fails the resume with
// that read error (the context is fine: it is not a cancellation).
func TestContinueSessionFailsOnAnUnreadableHeldSlice(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, []pan123test.Option{pan123test.WithSliceSize(64 << 10)})
	u := NewUploader(c, WithSliceRetry(1, time.Millisecond, time.Millisecond))
	path := filepath.Join(t.TempDir(), "f.bin")
	require.NoError(t, os.WriteFile(path, make([]byte, 100<<10), 0o600))
	// Stop as completion begins: every slice is held, no complete request
	// sent (one cut by a completion deadline could still land and finish
	// the file).
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stopAtCompletion := WithProgress(func(p Progress) {
		if p.Event == EventPhase && p.Phase == PhaseCompleting {
			cancel()
		}
	})
	_, err := u.UploadFile(ctx, path, FileInput{Name: "f.bin"}, stopAtCompletion)
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, srv.Count(pan123test.OpComplete))
	var ue *UploadError
	require.ErrorAs(t, err, &ue)
	require.NotNil(t, ue.resume)

	st := ue.resume
	cfg, err := u.config(t.Context(), nil)
	require.NoError(t, err)
	errRead := errors.New("disk gone")
	src := &source{r: failingReaderAt{errRead}, size: st.size, path: st.path, mtime: st.mtime}
	res, err := u.continueSession(t.Context(), cfg, src, st.md5, st.t.withClient(c), st.sess, newReporter(nil, "f.bin", st.size), nil)
	require.ErrorIs(t, err, errRead)
	assert.Nil(t, res)
}
