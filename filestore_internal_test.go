package pan123

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFileTokenStoreTryLease: the lock file's lease is had by one store
// value at a time and free again once released. (The process tests in
// filestore_test.go show the same across processes, and wait up to a minute
// on a lease that is never had; this one fails at once, and is not
// parallel so that a failure here stops a -failfast run before them.)
func TestFileTokenStoreTryLease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token.json")
	a, b := NewFileTokenStore(path), NewFileTokenStore(path)
	held, err := a.TryLease(t.Context())
	require.NoError(t, err)
	require.NotNil(t, held, "a free lock is had")
	other, err := b.TryLease(t.Context())
	require.NoError(t, err)
	require.Nil(t, other, "a held lock is not had twice")
	require.NoError(t, held.Release(t.Context()))
	again, err := b.TryLease(t.Context())
	require.NoError(t, err)
	require.NotNil(t, again, "a released lock is free")
	require.NoError(t, again.Release(t.Context()))
}

// TestFileTokenStoreSaveFailureLeavesNoTempFile: a Save that cannot
// replace the token file (here a folder holds its name) returns the error
// and removes its temporary file.
func TestFileTokenStoreSaveFailureLeavesNoTempFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "token.json")
	require.NoError(t, os.Mkdir(path, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(path, "x"), nil, 0o600))
	err := NewFileTokenStore(path).Save(t.Context(), Token{AccessToken: "t"})
	require.Error(t, err)
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, left, 1)
	assert.Equal(t, "token.json", left[0].Name())
}
