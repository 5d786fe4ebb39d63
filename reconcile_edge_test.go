package pan123_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// listPage is a folder listing answer with no file and the given cursor.
func listPage(last string) pan123test.Fault {
	return pan123test.Fault{Op: pan123test.OpFileList,
		Body: `{"code":0,"message":"ok","data":{"lastFileId":` + last + `,"fileList":[]}}`}
}

// lostCreate uploads content under another name, then the same content as
// a.bin under KeepBoth with the create answer lost after the platform made
// the instant upload, so that the upload reconciles by listing the folder.
// pages answer the first listings. With taken, the folder already has an
// a.bin of other content, so the platform stores the new one as a(1).bin.
func lostCreate(t *testing.T, taken bool, pages ...pan123test.Fault) (*pan123test.Server, *pan123.FileResult, error) {
	t.Helper()
	e := newEnv(t)
	srv := e.srv
	dir := t.TempDir()
	path := filepath.Join(dir, "a.bin")
	require.NoError(t, os.WriteFile(path, bytes.Repeat([]byte("reconcile"), 1000), 0o600))
	up := e.uploader()
	_, err := up.UploadFile(t.Context(), path, pan123.FileInput{Name: "elsewhere.bin"})
	require.NoError(t, err)
	if taken {
		other := filepath.Join(dir, "other.bin")
		require.NoError(t, os.WriteFile(other, []byte("other content"), 0o600))
		_, err := up.UploadFile(t.Context(), other, pan123.FileInput{Name: "a.bin"})
		require.NoError(t, err)
	}
	srv.ResetRequests()
	srv.Inject(pan123test.Fault{Op: pan123test.OpCreate, Lose: true})
	for _, p := range pages {
		srv.Inject(p)
	}
	res, err := up.UploadFile(t.Context(), path, pan123.FileInput{Name: "a.bin", Duplicate: pan123.KeepBoth})
	return srv, res, err
}

// TestReconcileReadsLaterPages: the file an ambiguous create stored is found
// on the second page of the folder's listing, not created a second time.
func TestReconcileReadsLaterPages(t *testing.T) {
	t.Parallel()
	srv, res, err := lostCreate(t, false, listPage("999")) // page 1: nothing here, more to come
	require.NoError(t, err)
	assert.True(t, res.Reused)
	assert.Equal(t, 1, srv.Count(pan123test.OpCreate), "not created twice")
	assert.Equal(t, 2, srv.Count(pan123test.OpFileList), "two pages listed")
	f, ok := srv.File(res.FileID)
	require.True(t, ok)
	assert.Equal(t, "a.bin", f.Name)
}

// TestReconcileStopsAtLastPage: a lastFileId of 0 (or -1) ends the listing;
// it is not taken as a cursor that starts the folder over.
func TestReconcileStopsAtLastPage(t *testing.T) {
	t.Parallel()
	for _, last := range []string{"0", "-1"} {
		t.Run(last, func(t *testing.T) {
			t.Parallel()
			srv, _, _ := lostCreate(t, false, listPage("999"), listPage(last))
			assert.Equal(t, 2, srv.Count(pan123test.OpFileList), "listings")
		})
	}
}

// TestReconcileFindsDerivedName: under KeepBoth, a lost create whose file the
// platform stored as a(1).bin (a.bin was taken) is found by that derived
// name, not created a second time as a(2).bin.
func TestReconcileFindsDerivedName(t *testing.T) {
	t.Parallel()
	srv, res, err := lostCreate(t, true)
	require.NoError(t, err)
	assert.True(t, res.Reused)
	assert.Equal(t, 1, srv.Count(pan123test.OpCreate), "not created twice")
	f, ok := srv.File(res.FileID)
	require.True(t, ok)
	assert.Equal(t, "a(1).bin", f.Name)
	assert.Len(t, srv.Files(), 3, "elsewhere.bin, a.bin and a(1).bin")
}

// TestReconcileRetryBudget: under KeepBoth, a create that keeps failing
// ambiguously (a gateway page each time) is tried as many times as the
// client's retry budget allows (3 here), with a folder listing between
// tries, and then fails.
func TestReconcileRetryBudget(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, nil, func(*pan123test.Server) []pan123.Option {
		return []pan123.Option{pan123.WithRetry(3, time.Millisecond, 2*time.Millisecond)}
	})
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpCreate, Status: 502, Body: "<html>502 Bad Gateway</html>", Times: -1})
	path := filepath.Join(t.TempDir(), "a.bin")
	require.NoError(t, os.WriteFile(path, []byte("budget"), 0o600))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := e.uploader().UploadFile(ctx, path, pan123.FileInput{Name: "a.bin", Duplicate: pan123.KeepBoth})
	require.Error(t, err)
	require.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 3, e.srv.Count(pan123test.OpCreate), "creates")
	assert.Equal(t, 2, e.srv.Count(pan123test.OpFileList), "a listing between tries")
}
