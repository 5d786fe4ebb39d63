package pan123

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHashPass: one pass gives the whole MD5 and every slice's, for slices
// that divide the data, that do not, and that are bigger than it.
func TestHashPass(t *testing.T) {
	t.Parallel()
	data := make([]byte, 3*hashBufSize+1234)
	for i := range data {
		data[i] = byte(i * 7 / 3)
	}
	for _, size := range []int{len(data), hashBufSize, 1000, 2*hashBufSize + 17} {
		for _, slice := range []int64{0, 1000, hashBufSize, hashBufSize + 1, int64(size), 8 * hashBufSize} {
			var read int
			sum, sums, err := hashPass(bytes.NewReader(data), 0, int64(size), slice, func(n int) { read += n })
			require.NoError(t, err)
			d := data[:size]
			require.Equal(t, md5Hex(d), sum, "size %d slice %d: whole MD5", size, slice)
			require.Equal(t, size, read, "size %d slice %d: bytes read", size, slice)
			var want []string
			for off := 0; slice > 0 && off < size; off += int(slice) {
				want = append(want, md5Hex(d[off:min(off+int(slice), size)]))
			}
			require.Equal(t, want, sums, "size %d slice %d: slice MD5s", size, slice)
		}
	}
	_, _, err := hashPass(bytes.NewReader(data), 0, int64(len(data))+1, 1000, nil)
	require.Error(t, err, "a source shorter than asked")
}

func md5Hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }
