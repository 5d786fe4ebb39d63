package pan123_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// TestUploadMemoryFlat: uploading a 32 MiB file in 8 MiB slices allocates
// less than one slice in total, client and fake together (the fake keeps
// only hashes). A slice copied into memory, or a file read whole, would
// allocate at least 8 MiB. Not parallel: TotalAlloc counts the process.
func TestUploadMemoryFlat(t *testing.T) {
	const slice = 8 << 20
	srv := pan123test.NewServer(pan123test.WithSliceSize(slice), pan123test.WithStore(pan123test.StoreHashes))
	t.Cleanup(srv.Close)
	c, err := pan123.New(srv.ClientID, srv.ClientSecret, pan123.WithBaseURL(srv.URL), pan123.WithoutRateLimits())
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	for i, p := range []pan123.Protocol{pan123.V1, pan123.V2} {
		name := []string{"V1", "V2"}[i]
		path := filepath.Join(t.TempDir(), "big.bin")
		f, err := os.Create(path)
		require.NoError(t, err)
		require.NoError(t, f.Truncate(4*slice+int64(i))) // sparse: zeros, distinct sizes
		require.NoError(t, f.Close())

		up := pan123.NewUploader(c, pan123.WithProtocol(p), pan123.WithConcurrency(2))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		res, err := up.UploadFile(t.Context(), path, pan123.FileInput{Name: fmt.Sprintf("big%d.bin", i)})
		runtime.ReadMemStats(&after)
		require.NoError(t, err)
		require.False(t, res.Reused, "every slice was sent")
		n := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %d KiB allocated for %d MiB", name, n>>10, res.Size>>20)
		assert.Less(t, n, uint64(slice), "%s: allocations grow with the slice or the file", name)
	}
}
