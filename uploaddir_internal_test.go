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

// TestUploadDirReturnsWithinItsContext: with the defaults (Files 0), a file
// at the root and one a folder below upload, with progress, well within a
// 10 s deadline; and UploadDir returns when its context ends (a watchdog 10 s
// past the deadline catches a call that does not).
//
// It is not parallel on purpose: a top-level parallel test waits for every
// sequential one, and it must run among the package's first tests, before
// TestUploadDirCancel and the other UploadDir tests, so that a defect that
// hangs UploadDir fails it here within seconds (go test -failfast then starts
// no other test) instead of hanging the whole run.
func TestUploadDirReturnsWithinItsContext(t *testing.T) {
	_, c := newTestClient(t, nil)
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("at the root"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "b.txt"), []byte("one folder below"), 0o600))
	ctx := boundedCtx(t) // 10 s
	deadline, _ := ctx.Deadline()

	type result struct {
		res   *DirResult
		err   error
		calls int
		last  DirProgress
	}
	done := make(chan result, 1)
	go func() {
		var r result
		r.res, r.err = NewUploader(c).UploadDir(ctx, dir, DirInput{Progress: func(p DirProgress) {
			r.calls++ // calls are serialised and end before UploadDir returns
			r.last = p
		}})
		done <- r
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(time.Until(deadline) + 10*time.Second):
		t.Fatal("UploadDir did not return after its context ended")
	}
	require.NoError(t, r.err, "UploadDir did not finish two small files within 10 s")
	require.Len(t, r.res.Files, 2)
	for _, f := range r.res.Files {
		assert.Equal(t, OutcomeUploaded, f.Outcome, f.Path)
	}
	assert.Equal(t, 1, r.res.Folders)
	assert.Positive(t, r.calls, "no progress reported")
	assert.Equal(t, 2, r.last.FilesDone)
}

// TestUploadDirReportsAFailedFolderOnce: a remote folder that cannot be made
// is reported as itself, once: the files and folders below it carry the
// error of "a", not one wrapping per level.
func TestUploadDirReportsAFailedFolderOnce(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil)
	srv.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Times: -1, Status: 403}) // final: not retried
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "a", "b"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a", "b", "f.txt"), []byte("two levels below"), 0o600))

	res, err := NewUploader(c).UploadDir(t.Context(), dir, DirInput{})
	require.Error(t, err)
	require.NotErrorIs(t, err, context.DeadlineExceeded)
	var paths []string
	for _, f := range res.Files {
		paths = append(paths, f.Path)
		require.Equal(t, OutcomeFailed, f.Outcome, f.Path)
		var de *treeDirError
		require.ErrorAs(t, f.Err, &de, f.Path)
		assert.Equal(t, "a", de.rel, f.Path)
		var inner *treeDirError
		assert.False(t, errors.As(de.err, &inner), "%s: the folder error is wrapped again: %v", f.Path, f.Err)
		var ae *APIError
		require.ErrorAs(t, f.Err, &ae, f.Path)
		assert.Equal(t, 403, ae.HTTPStatus, f.Path)
	}
	assert.Equal(t, []string{"a", "a/b", "a/b/f.txt"}, paths)
}
