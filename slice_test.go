package pan123

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"testing"
)

// TestHashPass: one pass gives the whole MD5 and every slice's, for slices
// that divide the data, that do not, and that are bigger than it.
func TestHashPass(t *testing.T) {
	data := make([]byte, 3*hashBufSize+1234)
	for i := range data {
		data[i] = byte(i * 7 / 3)
	}
	for _, size := range []int{len(data), hashBufSize, 1000, 2*hashBufSize + 17} {
		for _, slice := range []int64{0, 1000, hashBufSize, hashBufSize + 1, int64(size), 8 * hashBufSize} {
			var read int
			sum, sums, err := hashPass(bytes.NewReader(data), 0, int64(size), slice, func(n int) { read += n })
			if err != nil {
				t.Fatal(err)
			}
			d := data[:size]
			if want := md5Hex(d); sum != want || read != size {
				t.Fatalf("size %d slice %d: sum %s read %d, want %s %d", size, slice, sum, read, want, size)
			}
			var want []string
			for off := 0; slice > 0 && off < size; off += int(slice) {
				want = append(want, md5Hex(d[off:min(off+int(slice), size)]))
			}
			if len(sums) != len(want) {
				t.Fatalf("size %d slice %d: %d slice sums, want %d", size, slice, len(sums), len(want))
			}
			for i := range want {
				if sums[i] != want[i] {
					t.Fatalf("size %d slice %d: slice %d sum %s, want %s", size, slice, i+1, sums[i], want[i])
				}
			}
		}
	}
	if _, _, err := hashPass(bytes.NewReader(data), 0, int64(len(data))+1, 1000, nil); err == nil {
		t.Fatal("a source shorter than asked: no error")
	}
}

func md5Hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }
