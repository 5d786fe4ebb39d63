package pan123

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHashCacheCompaction: opening the hash cache rewrites its file
// without the stale lines once the lines outnumber twice the live entries
// plus 64, and not a line before: 66 lines for one file stay, 67 become one.
func TestHashCacheCompaction(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ lines, want int }{{1, 1}, {66, 66}, {67, 1}} {
		file := filepath.Join(t.TempDir(), "hashes")
		var b bytes.Buffer
		for i := range tc.lines {
			line, err := json.Marshal(hashEntry{Path: "/a", Size: int64(i), fileStamp: fileStamp{MTime: 1}, MD5: strings.Repeat("0", 32)})
			require.NoError(t, err)
			b.Write(append(line, '\n'))
		}
		require.NoError(t, os.WriteFile(file, b.Bytes(), 0o600))

		c, err := openHashCache(file)
		require.NoError(t, err)
		require.NotNil(t, c, "a cache of %d lines", tc.lines)
		assert.Equal(t, int64(tc.lines-1), c.m["/a"].Size, "the last line wins")
		c.close()
		got, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.Equal(t, tc.want, bytes.Count(got, []byte("\n")), "lines after opening a cache of %d", tc.lines)
		c, err = openHashCache(file)
		require.NoError(t, err)
		assert.Equal(t, int64(tc.lines-1), c.m["/a"].Size, "what the rewrite kept")
		c.close()
	}
}
