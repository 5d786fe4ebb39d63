package pan123

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
