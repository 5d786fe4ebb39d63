package pan123test_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

// blobs lists the blob files of a state directory.
func blobs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// A second SaveState drops the blobs nothing refers to any more and
// rewrites a blob that was damaged on disk.
func TestSaveStateAgainCleansAndRepairsBlobs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := newServer(t)
	c := newClient(t, s)
	a, b := payload(300, 31), payload(400, 32)
	c.upload(families[0], "a.bin", a)
	s.SeedFile(pan123test.File{Name: "b.bin", Data: b})
	require.NoError(t, s.SaveState(dir))
	require.ElementsMatch(t, []string{md5hex(a), md5hex(b)}, blobs(t, dir))

	// a.bin is overwritten by b (an instant upload): a's blob is not needed
	// any more. b's blob is damaged on disk meanwhile.
	var cr createData
	c.data(pan123test.OpCreate, with(families[0].createBody("a.bin", b), "duplicate", 2), &cr)
	require.True(t, cr.Reuse)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "blobs", md5hex(b)), b[:10], 0o644))
	require.NoError(t, s.SaveState(dir))
	assert.Equal(t, []string{md5hex(b)}, blobs(t, dir))

	s2 := newServer(t)
	require.NoError(t, s2.LoadState(dir))
	files := s2.Files()
	require.Len(t, files, 2)
	for _, f := range files {
		assert.Equal(t, b, f.Data, "%v", f)
	}
}

// A state saved before any upload loads into a fake whose file IDs still
// count from 10000001.
func TestLoadStateOfAnEmptyFakeKeepsTheFirstID(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, newServer(t).SaveState(dir))
	s := newServer(t)
	require.NoError(t, s.LoadState(dir))
	c := newClient(t, s)
	assert.EqualValues(t, 10000001, fileID(t, c.upload(families[0], "f", []byte("x"))))
}

// String names an image by its image ID and a file by its number.
func TestFileStringNamesTheRightID(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	img := s.SeedImage(pan123test.File{Name: "a.png", Data: []byte("abc")})
	file := s.SeedFile(pan123test.File{Name: "a.txt", Data: []byte("abc")})
	assert.Equal(t, `file `+img.ImageID+` "a.png" (3 bytes, md5 900150983cd24fb0d6963f7d28e17f72)`, img.String())
	assert.Equal(t, `file 10000001 "a.txt" (3 bytes, md5 900150983cd24fb0d6963f7d28e17f72)`, file.String())
}
