package pan123_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// TestUploadDirSymlinks: with FollowSymlinks a link to a regular file (here
// outside the tree) uploads what it points to, under the link's name;
// without it the link is ignored as a link.
func TestUploadDirSymlinks(t *testing.T) {
	t.Parallel()
	target := filepath.Join(t.TempDir(), "target.bin")
	data := randomBytes(500, 1)
	require.NoError(t, os.WriteFile(target, data, 0o600))
	dir := t.TempDir()
	require.NoError(t, os.Symlink(target, filepath.Join(dir, "link.bin")))

	t.Run("followed", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		res, err := e.uploader().UploadDir(t.Context(), dir, pan123.DirInput{FollowSymlinks: true})
		require.NoError(t, err)
		require.Len(t, res.Files, 1)
		assert.Equal(t, pan123.OutcomeUploaded, res.Files[0].Outcome, "%v", res.Files[0].Err)
		assert.Equal(t, int64(len(data)), res.Files[0].Size)
		assert.Equal(t, map[string]string{"link.bin": md5hex(data)}, remoteTree(t, e.srv, 0))
	})
	t.Run("not followed", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		res, err := e.uploader().UploadDir(t.Context(), dir, pan123.DirInput{})
		require.NoError(t, err)
		require.Len(t, res.Files, 1)
		assert.Equal(t, pan123.OutcomeIgnored, res.Files[0].Outcome)
		// No sentinel names the reason; its text is the documented report.
		assert.EqualError(t, res.Files[0].Err, "symbolic link (not followed)")
		assert.Empty(t, e.srv.Requests())
	})
}

// TestUploadDirFollowsEachFolderOnce: with FollowSymlinks, a link back to
// the root (a cycle) and a second link to a folder walked already are
// ignored; each real folder is walked once.
func TestUploadDirFollowsEachFolderOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "d"), 0o700))
	data := randomBytes(400, 2)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "d", "f.bin"), data, 0o600))
	require.NoError(t, os.Symlink(dir, filepath.Join(dir, "loop")))
	require.NoError(t, os.Symlink(filepath.Join(dir, "d"), filepath.Join(dir, "zd")))
	e := newEnv(t)

	res, err := e.uploader().UploadDir(t.Context(), dir, pan123.DirInput{FollowSymlinks: true})
	require.NoError(t, err)
	require.Equal(t, 1, res.Folders, "folders created (a cycle walked would make dozens)")
	got := map[string]pan123.Outcome{}
	for _, f := range res.Files {
		got[f.Path] = f.Outcome
	}
	want := map[string]pan123.Outcome{"d/f.bin": pan123.OutcomeUploaded, "loop": pan123.OutcomeIgnored, "zd": pan123.OutcomeIgnored}
	assert.Equal(t, want, got)
	assert.Equal(t, map[string]string{"d": "dir", "d/f.bin": md5hex(data)}, remoteTree(t, e.srv, 0))
}

// TestUploadDirHashCacheSparesTheHashing: BytesHashed counts the bytes read
// for MD5s: all of them on a first run, none on a second run over the same
// files with the same hash cache, even into another remote folder where
// every file is uploaded again (instantly) with its MD5 from the cache.
func TestUploadDirHashCacheSparesTheHashing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var total int64
	for i, n := range []int{300, 5000} {
		_, data := writeRandom(t, dir, int64(n), uint64(i))
		total += int64(len(data))
	}
	e := newEnv(t)
	up := e.uploader()
	cache := filepath.Join(t.TempDir(), "md5cache.jsonl")
	first := e.srv.SeedFile(pan123test.File{Name: "first", Dir: true}).ID
	second := e.srv.SeedFile(pan123test.File{Name: "second", Dir: true}).ID

	res, err := up.UploadDir(t.Context(), dir, pan123.DirInput{ParentFileID: first, HashCache: cache})
	require.NoError(t, err)
	assert.Equal(t, map[pan123.Outcome]int{pan123.OutcomeUploaded: 2}, outcomes(res))
	assert.Equal(t, total, res.BytesHashed, "first run")

	res, err = up.UploadDir(t.Context(), dir, pan123.DirInput{ParentFileID: second, HashCache: cache})
	require.NoError(t, err)
	assert.Equal(t, map[pan123.Outcome]int{pan123.OutcomeReused: 2}, outcomes(res))
	assert.Zero(t, res.BytesHashed, "second run: the cache knew every MD5")
}

// TestUploadDirFindsAFolderMadeMeanwhile: a folder that someone else makes
// after the parent was listed (its mkdir answers code 1) is found and listed
// as an existing folder: not counted as created, and a file it holds with
// the same content is skipped.
func TestUploadDirFindsAFolderMadeMeanwhile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("first"), 0o600))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o700))
	data := randomBytes(700, 3)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "f.txt"), data, 0o600))
	e := newEnv(t)
	seeded := false
	// Files: 1 runs the entries in walk order, one at a time: a.txt (which
	// lists the root), then the folder sub, then sub/f.txt.
	in := pan123.DirInput{Files: 1, Progress: func(p pan123.DirProgress) {
		if p.FilesDone == 1 && !seeded { // a.txt is done; sub is not resolved yet
			seeded = true
			sub := e.srv.SeedFile(pan123test.File{Name: "sub", Dir: true})
			e.srv.SeedFile(pan123test.File{Name: "f.txt", ParentID: sub.ID, Data: data})
		}
	}}
	res, err := e.uploader().UploadDir(t.Context(), dir, in)
	require.NoError(t, err)
	require.True(t, seeded)

	mkdirs := 0
	for _, r := range e.srv.Requests() {
		if r.Op == pan123test.OpMkdir {
			mkdirs++
			assert.Equal(t, pan123test.CodeInternal, r.Code, "mkdir of an existing name")
		}
	}
	assert.Positive(t, mkdirs)
	assert.Zero(t, res.Folders, "no folder was created")
	want := map[string]pan123.Outcome{"a.txt": pan123.OutcomeUploaded, "sub/f.txt": pan123.OutcomeSkipped}
	got := map[string]pan123.Outcome{}
	for _, f := range res.Files {
		got[f.Path] = f.Outcome
	}
	assert.Equal(t, want, got)
	assert.Equal(t, map[string]string{"a.txt": md5hex([]byte("first")), "sub": "dir", "sub/f.txt": md5hex(data)},
		remoteTree(t, e.srv, 0))
}

// TestUploadDirProgressCountsFailures: the last progress report counts
// every file done and, of them, exactly the failed ones.
func TestUploadDirProgressCountsFailures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeRandom(t, dir, 100, 1)
	writeRandom(t, dir, 200, 2)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "empty"), nil, 0o600)) // refused: 0 bytes
	e := newEnv(t)
	var last pan123.DirProgress
	res, err := e.uploader().UploadDir(t.Context(), dir, pan123.DirInput{Progress: func(p pan123.DirProgress) { last = p }})
	require.ErrorIs(t, err, pan123.ErrInvalidInput)
	assert.Equal(t, map[pan123.Outcome]int{pan123.OutcomeUploaded: 2, pan123.OutcomeFailed: 1}, outcomes(res))
	assert.Equal(t, 3, last.FilesTotal)
	assert.Equal(t, 3, last.FilesDone)
	assert.Equal(t, 1, last.FilesFailed)
}
