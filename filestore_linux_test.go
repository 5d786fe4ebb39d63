package pan123_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/go-pan123/pan123"
)

// envFullDiskChild makes the test binary a child that saves a token under
// a file size limit of 16 bytes, as on a full disk.
const envFullDiskChild = "PAN123_FULL_DISK_CHILD"

// TestFileTokenStoreWriteFailureKeepsTheOldToken: when the new token
// cannot be written whole (here the write fails with EFBIG under a file
// size limit, in a child process), Save returns the error, the token file
// keeps the old token, and no temporary file is left.
func TestFileTokenStoreWriteFailureKeepsTheOldToken(t *testing.T) {
	if path := os.Getenv(envFullDiskChild); path != "" {
		os.Exit(saveUnderSizeLimit(path))
	}
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "token.json")
	store := pan123.NewFileTokenStore(path)
	old := pan123.Token{AccessToken: "old"}
	require.NoError(t, store.Save(t.Context(), old))

	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestFileTokenStoreWriteFailureKeepsTheOldToken$")
	cmd.Env = append(os.Environ(), envFullDiskChild+"="+path)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "child: %s", out)
	assert.Contains(t, string(out), "save: ")
	assert.Contains(t, string(out), "file too large", "Save's error")

	got, err := store.Load(t.Context())
	require.NoError(t, err)
	assert.Equal(t, old, got, "the token file after a failed Save")
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, left, 1, "temporary file left behind")
}

// saveUnderSizeLimit is the child: it saves a token of 64 characters with
// RLIMIT_FSIZE at 16 bytes (only the soft limit, restored before exit so
// that the test binary's own files are not cut) and prints Save's error.
func saveUnderSizeLimit(path string) int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_FSIZE, &lim); err != nil {
		fmt.Println("getrlimit:", err)
		return 1
	}
	small := lim
	small.Cur = 16
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &small); err != nil {
		fmt.Println("setrlimit:", err)
		return 1
	}
	err := pan123.NewFileTokenStore(path).Save(context.Background(), pan123.Token{AccessToken: strings.Repeat("n", 64)})
	if rerr := unix.Setrlimit(unix.RLIMIT_FSIZE, &lim); rerr != nil {
		fmt.Println("setrlimit:", rerr)
		return 1
	}
	fmt.Printf("save: %v\n", err)
	return 0
}
