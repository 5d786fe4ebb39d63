package pan123_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// localTree is a generated folder tree: its regular files by relative path
// with their MD5s, and its folders.
type localTree struct {
	root    string
	files   map[string]string // rel path → md5 (non-empty files)
	empty   []string          // 0-byte files
	folders []string
	bytes   int64
}

// makeTree writes nFiles files over nFolders folders (two levels deep, plus
// an empty one) under a new temp folder: sizes from 1 byte to a few slices,
// some files with the same content, some 0-byte files, and a symbolic link.
func makeTree(t *testing.T, nFolders, nFiles int) *localTree {
	t.Helper()
	lt := &localTree{root: t.TempDir(), files: map[string]string{}}
	dirs := []string{""}
	for i := 0; len(dirs) < nFolders+1; i++ {
		top := fmt.Sprintf("d%02d", i)
		dirs = append(dirs, top)
		for j := 0; j < 4 && len(dirs) < nFolders+1; j++ {
			dirs = append(dirs, top+"/"+fmt.Sprintf("s%d", j))
		}
	}
	for _, d := range dirs[1:] {
		require.NoError(t, os.MkdirAll(filepath.Join(lt.root, d), 0o700))
		lt.folders = append(lt.folders, d)
	}
	require.NoError(t, os.Mkdir(filepath.Join(lt.root, "zz-empty"), 0o700))
	lt.folders = append(lt.folders, "zz-empty")
	var shared []byte
	for i := range nFiles {
		rel := path.Join(dirs[i%len(dirs)], fmt.Sprintf("f%04d.bin", i))
		var data []byte
		switch {
		case i%100 == 42:
			data = nil
			lt.empty = append(lt.empty, rel)
		case i%50 == 7 && shared != nil:
			data = shared // same content as another file: an instant upload
		case i%500 == 1:
			data = randomBytes(2*testSlice+int64(i), uint64(i))
		default:
			data = randomBytes(1+int64(i*37%3000), uint64(i))
		}
		if i == 7 {
			shared = data
		}
		require.NoError(t, os.WriteFile(filepath.Join(lt.root, filepath.FromSlash(rel)), data, 0o600))
		if len(data) > 0 {
			lt.files[rel] = md5hex(data)
			lt.bytes += int64(len(data))
		}
	}
	require.NoError(t, os.Symlink(filepath.Join(lt.root, "d00", "f0001.bin"), filepath.Join(lt.root, "link.bin")))
	return lt
}

func randomBytes(n int64, seed uint64) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b)
	return b
}

// remoteTree maps the fake's drive below parent to relative paths: files to
// their MD5s, folders to "dir".
func remoteTree(t *testing.T, srv *pan123test.Server, parent int64) map[string]string {
	t.Helper()
	byID := map[int64]pan123test.File{}
	for _, f := range srv.Files() {
		byID[f.ID] = f
	}
	out := map[string]string{}
	for _, f := range byID {
		rel, id := f.Name, f.ParentID
		for id != parent {
			p, ok := byID[id]
			if !ok {
				rel = ""
				break
			}
			rel, id = p.Name+"/"+rel, p.ParentID
		}
		if rel == "" {
			continue
		}
		_, dup := out[rel]
		require.False(t, dup, "%s stored twice", rel)
		if f.Dir {
			out[rel] = "dir"
		} else {
			out[rel] = f.MD5
		}
	}
	return out
}

func (lt *localTree) want() map[string]string {
	out := map[string]string{}
	for rel, sum := range lt.files {
		out[rel] = sum
	}
	for _, d := range lt.folders {
		out[d] = "dir"
	}
	return out
}

// requireOnlyEmptyFailed checks that the 0-byte files, and they only,
// failed as UploadFile fails them: each an *UploadError matching
// ErrInvalidInput, joined in err.
func requireOnlyEmptyFailed(t *testing.T, lt *localTree, res *pan123.DirResult, err error) {
	t.Helper()
	require.NotEmpty(t, lt.empty)
	var ue *pan123.UploadError
	require.ErrorAs(t, err, &ue)
	require.ErrorIs(t, err, pan123.ErrInvalidInput)
	var failed []string
	for _, f := range res.Files {
		if f.Outcome == pan123.OutcomeFailed {
			failed = append(failed, f.Path)
			require.ErrorAs(t, f.Err, &ue)
			require.ErrorIs(t, f.Err, pan123.ErrInvalidInput)
		}
	}
	require.ElementsMatch(t, lt.empty, failed)
}

func outcomes(res *pan123.DirResult) map[pan123.Outcome]int {
	n := map[pan123.Outcome]int{}
	for _, f := range res.Files {
		n[f.Outcome]++
	}
	return n
}

// TestUploadDir: a tree of 1,000 files over 50 folders arrives complete;
// 0-byte files fail as UploadFile fails them, the link is not followed;
// a second run sends nothing and reads no file.
func TestUploadDir(t *testing.T) {
	t.Parallel()
	lt := makeTree(t, 50, 200)
	e := newEnv(t)
	parent := e.srv.SeedFile(pan123test.File{Name: "backup", Dir: true}).ID
	cache := filepath.Join(lt.root, ".md5cache") // inside the tree: not uploaded
	// Auto: single-step upload, one post per small file.
	up := e.uploader(pan123.WithProtocol(pan123.Auto))
	var last pan123.DirProgress
	in := pan123.DirInput{ParentFileID: parent, HashCache: cache, Files: 16, Progress: func(p pan123.DirProgress) {
		assert.LessOrEqual(t, p.BytesDone, p.BytesTotal)
		assert.GreaterOrEqual(t, p.FilesDone, last.FilesDone)
		last = p
	}}
	res, err := up.UploadDir(t.Context(), lt.root, in)

	requireOnlyEmptyFailed(t, lt, res, err)
	n := outcomes(res)
	assert.Equal(t, 1, n[pan123.OutcomeIgnored], "the link")
	assert.Equal(t, len(lt.files), n[pan123.OutcomeUploaded]+n[pan123.OutcomeReused])
	assert.Equal(t, remoteTree(t, e.srv, parent), lt.want())
	assert.Equal(t, len(lt.folders), res.Folders)
	assert.Equal(t, len(lt.folders), e.srv.Count(pan123test.OpMkdir), "one mkdir per new folder")
	assert.Equal(t, 1, e.srv.Count(pan123test.OpFileList), "only the existing parent is listed")
	assert.Equal(t, last.FilesTotal, last.FilesDone)
	assert.Equal(t, last.BytesTotal, last.BytesDone)
	assert.Equal(t, len(lt.files)+len(lt.empty), last.FilesTotal)
	for _, f := range res.Files {
		if f.Outcome == pan123.OutcomeUploaded || f.Outcome == pan123.OutcomeReused {
			stored, ok := e.srv.File(f.FileID)
			require.True(t, ok, f.Path)
			assert.Equal(t, lt.files[f.Path], stored.MD5, f.Path)
		}
	}

	// Run again: every folder listed once, no mkdir, no create, no bytes,
	// and no file read (the hash cache knows them all).
	e.srv.ResetRequests()
	last = pan123.DirProgress{}
	res, err = up.UploadDir(t.Context(), lt.root, in)
	requireOnlyEmptyFailed(t, lt, res, err)
	n = outcomes(res)
	assert.Equal(t, len(lt.files), n[pan123.OutcomeSkipped])
	assert.Zero(t, res.BytesHashed)
	assert.Zero(t, res.Folders)
	var bytesSent int64
	for _, r := range e.srv.Requests() {
		assert.Equal(t, pan123test.OpFileList, r.Op, "second run sent %s", r.Op)
		bytesSent += r.Bytes
	}
	assert.Zero(t, bytesSent)
	assert.Equal(t, len(lt.folders)+1, e.srv.Count(pan123test.OpFileList))
}

// TestUploadDirResumes: a run canceled at half, then run again with the same
// checkpoint folder, finishes without sending finished files again.
func TestUploadDirResumes(t *testing.T) {
	t.Parallel()
	lt := makeTree(t, 6, 60)
	e := newEnv(t)
	ckpt := t.TempDir()
	up := e.uploader(pan123.WithCheckpointDir(ckpt), pan123.WithConcurrency(2))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	in := pan123.DirInput{Files: 2, Progress: func(p pan123.DirProgress) {
		if p.FilesDone >= p.FilesTotal/2 {
			cancel()
		}
	}}
	res, err := up.UploadDir(ctx, lt.root, in)
	require.ErrorIs(t, err, context.Canceled)
	done := map[string]bool{}
	var left int64 // bytes of the files not finished
	for _, f := range res.Files {
		if f.Outcome == pan123.OutcomeUploaded || f.Outcome == pan123.OutcomeReused {
			done[f.Path] = true
		} else {
			left += f.Size
		}
	}
	require.NotEmpty(t, done)
	require.Less(t, len(done), len(lt.files))
	reused := outcomes(res)[pan123.OutcomeReused]

	e.srv.ResetRequests()
	in.Progress = nil
	res, err = up.UploadDir(t.Context(), lt.root, in)
	requireOnlyEmptyFailed(t, lt, res, err)
	for _, f := range res.Files {
		if done[f.Path] {
			assert.Equal(t, pan123.OutcomeSkipped, f.Outcome, f.Path)
		}
	}
	assert.LessOrEqual(t, res.BytesHashed, left, "finished files are not read again")
	assert.Positive(t, reused+outcomes(res)[pan123.OutcomeReused], "same contents are instant uploads")
	assert.Equal(t, lt.want(), remoteTree(t, e.srv, 0))
}

// TestUploadDirUnderFaults: slice, API and connection faults lose nothing.
func TestUploadDirUnderFaults(t *testing.T) {
	t.Parallel()
	lt := makeTree(t, 6, 60)
	e := newEnv(t)
	for _, f := range []pan123test.Fault{
		{Op: pan123test.OpPut, Times: 6, Status: 500},
		{Op: pan123test.OpPut, After: 10, Times: 3, Drop: true},
		{Op: pan123test.OpCreate, After: 5, Times: 3, Code: 429},
		{Op: pan123test.OpMkdir, Times: 1, Status: 502}, // reconciled by EnsureDir
	} {
		e.srv.Inject(f)
	}
	res, err := e.uploader().UploadDir(t.Context(), lt.root, pan123.DirInput{})
	requireOnlyEmptyFailed(t, lt, res, err)
	assert.Equal(t, len(lt.files), outcomes(res)[pan123.OutcomeUploaded]+outcomes(res)[pan123.OutcomeReused])
	assert.Equal(t, lt.want(), remoteTree(t, e.srv, 0))
}

// TestUploadDirFailures: a file the platform refuses fails alone, or stops
// the tree with FailFast.
func TestUploadDirFailures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i := range 6 {
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d", i)), randomBytes(100, uint64(i)), 0o600))
	}
	for _, failFast := range []bool{false, true} {
		t.Run(fmt.Sprint("failFast=", failFast), func(t *testing.T) {
			e := newEnv(t)
			// A different f2 is there already; Duplicate is unset: refused.
			e.srv.SeedFile(pan123test.File{Name: "f2", Data: []byte("other content")})
			res, err := e.uploader().UploadDir(t.Context(), dir, pan123.DirInput{Files: 1, FailFast: failFast})
			var ue *pan123.UploadError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, "f2", ue.FileName)
			n := outcomes(res)
			assert.Equal(t, 1, n[pan123.OutcomeFailed])
			if failFast {
				assert.Equal(t, 2, n[pan123.OutcomeUploaded], "f0 and f1 before f2")
				assert.Equal(t, 3, n[pan123.OutcomeCanceled])
			} else {
				assert.Equal(t, 5, n[pan123.OutcomeUploaded])
			}
		})
	}
}

// TestUploadDirExisting: the policies for files the folder holds already.
func TestUploadDirExisting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	same, other := randomBytes(300, 1), randomBytes(300, 2)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "same"), same, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "changed"), other, 0o600))
	for _, tc := range []struct {
		existing pan123.ExistingPolicy
		dup      pan123.Duplicate
		want     map[pan123.Outcome]int
		names    []string
	}{
		{pan123.ExistingSkip, pan123.Overwrite, map[pan123.Outcome]int{pan123.OutcomeSkipped: 1, pan123.OutcomeUploaded: 1}, []string{"changed", "same"}},
		{pan123.ExistingOverwrite, pan123.Overwrite, map[pan123.Outcome]int{pan123.OutcomeReused: 1, pan123.OutcomeUploaded: 1}, []string{"changed", "same"}},
		{pan123.ExistingKeepBoth, pan123.KeepBoth, map[pan123.Outcome]int{pan123.OutcomeReused: 1, pan123.OutcomeUploaded: 1}, []string{"changed", "changed(1)", "same", "same(1)"}},
	} {
		t.Run(fmt.Sprint(tc.existing), func(t *testing.T) {
			e := newEnv(t)
			e.srv.SeedFile(pan123test.File{Name: "same", Data: same})
			e.srv.SeedFile(pan123test.File{Name: "changed", Data: []byte("old")})
			res, err := e.uploader().UploadDir(t.Context(), dir, pan123.DirInput{Existing: tc.existing, Duplicate: tc.dup})
			require.NoError(t, err)
			assert.Equal(t, tc.want, outcomes(res))
			var names []string
			for _, f := range e.srv.Files() {
				names = append(names, f.Name)
			}
			assert.ElementsMatch(t, tc.names, names)
		})
	}
}

func TestUploadDirBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	file, _ := writeRandom(t, t.TempDir(), 10, 1)
	up := e.uploader()
	for name, call := range map[string]func() error{
		"missing folder": func() error {
			_, err := up.UploadDir(t.Context(), filepath.Join(t.TempDir(), "no"), pan123.DirInput{})
			return err
		},
		"a file": func() error { _, err := up.UploadDir(t.Context(), file, pan123.DirInput{}); return err },
		"negative parent": func() error {
			_, err := up.UploadDir(t.Context(), t.TempDir(), pan123.DirInput{ParentFileID: -1})
			return err
		},
		"bad policy": func() error {
			_, err := up.UploadDir(t.Context(), t.TempDir(), pan123.DirInput{Existing: 9})
			return err
		},
		"bad files": func() error { _, err := up.UploadDir(t.Context(), t.TempDir(), pan123.DirInput{Files: -1}); return err },
		"bad option": func() error {
			_, err := up.UploadDir(t.Context(), t.TempDir(), pan123.DirInput{}, pan123.WithConcurrency(0))
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			require.ErrorIs(t, call(), pan123.ErrInvalidInput)
		})
	}
	assert.Empty(t, e.srv.Requests())
}

// TestUploadDirCancel: canceling stops every file promptly and leaves no
// goroutine and no temporary file behind.
func TestUploadDirCancel(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	t.Run("cancel", func(t *testing.T) {
		lt := makeTree(t, 4, 40)
		e := newEnv(t)
		// The token first: its fetch runs detached from the call, by design
		// (a minted token is kept for the next call), and may outlive a
		// cancel that comes before it ends; that is not UploadDir's leak.
		_, err := e.c.Drive.List(t.Context(), 0, 0, 1)
		require.NoError(t, err)
		// Every slice hangs until the client goes away.
		e.srv.Inject(pan123test.Fault{Op: pan123test.OpPut, Times: -1, Stall: time.Hour})
		// A hang guard, not a wait: canceling takes milliseconds. It is short so
		// that a run with no progress (nothing cancels) fails in seconds.
		guard, stop := context.WithTimeout(t.Context(), 10*time.Second)
		defer stop()
		ctx, cancel := context.WithCancel(guard)
		defer cancel()
		tmp := t.TempDir()
		res, err := e.uploader(pan123.WithTempDir(tmp)).UploadDir(ctx, lt.root, pan123.DirInput{Progress: func(p pan123.DirProgress) {
			if len(p.Current) >= 2 {
				cancel() // two files in flight
			}
		}})
		require.ErrorIs(t, err, context.Canceled)
		require.NoError(t, guard.Err(), "UploadDir returned only at the hang guard")
		n := outcomes(res)
		assert.Positive(t, n[pan123.OutcomeCanceled])
		assert.Zero(t, n[pan123.OutcomeUploaded]+n[pan123.OutcomeReused])
		assert.Equal(t, len(lt.files)+len(lt.empty), n[pan123.OutcomeCanceled]+n[pan123.OutcomeFailed])
		left, err := os.ReadDir(tmp)
		require.NoError(t, err)
		assert.Empty(t, left, "temporary files left behind")
		e.c.CloseIdleConnections()
	})
}

// TestUploadDirSharesTheCallCap: WithUploadBandwidthLimit caps the whole
// UploadDir call, not each of its files: 4 files of 32 KiB at 256 KiB/s
// cannot take much less than half a second (each with a cap of its own, a
// quarter of that).
func TestUploadDirSharesTheCallCap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i := range 4 {
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprint("f", i)), randomBytes(32<<10, uint64(i)), 0o600))
	}
	e := newEnv(t)
	start := time.Now()
	res, err := e.uploader(pan123.WithUploadBandwidthLimit(256<<10)).UploadDir(t.Context(), dir, pan123.DirInput{Files: 4})
	require.NoError(t, err)
	assert.Equal(t, 4, outcomes(res)[pan123.OutcomeUploaded])
	assert.GreaterOrEqual(t, time.Since(start), 400*time.Millisecond, "the files did not share one cap")
}
