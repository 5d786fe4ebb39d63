package pan123

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"
)

// TestHashPassReturns: a hashing pass over several buffers, with and
// without slice sums, returns the MD5 of the whole and of each slice. It is
// not parallel, and a watchdog panics (ending the test binary) if a pass
// has not returned after 20 s: a pass that hangs would hang every upload
// test after this one, and the binary only at its timeout. (It comes first
// in the file so that it runs before the other hashing test.)
func TestHashPassReturns(t *testing.T) {
	watchdog := time.AfterFunc(20*time.Second, func() { panic("hashPass has not returned after 20 s") })
	defer watchdog.Stop()
	data := make([]byte, 3*hashBufSize+5)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for _, size := range []int64{0, hashBufSize / 3, hashBufSize, 2*hashBufSize + 1} {
		sum, sums, err := hashPass(bytes.NewReader(data), 0, int64(len(data)), size, nil)
		if err != nil || sum != md5Hex(data) {
			t.Fatalf("slice size %d: %q, %v; want %q", size, sum, err, md5Hex(data))
		}
		var want []string
		for off := int64(0); size > 0 && off < int64(len(data)); off += size {
			want = append(want, md5Hex(data[off:min(off+size, int64(len(data)))]))
		}
		if len(sums) != len(want) {
			t.Fatalf("slice size %d: %d slice sums, want %d", size, len(sums), len(want))
		}
		for i := range want {
			if sums[i] != want[i] {
				t.Errorf("slice size %d: slice %d: %s, want %s", size, i, sums[i], want[i])
			}
		}
	}
}

// TestV2HashPassBoundsSliceSums: the hashing pass computes slice MD5s only
// for a slice size that cuts the file into at most maxSlices slices (more
// would be refused by create's check anyway): a tiny size answered once (or
// read back from a torn checkpoint file) must not make the next pass hold a
// sum per few bytes of a big file.
func TestV2HashPassBoundsSliceSums(t *testing.T) {
	c, err := New("id", "secret")
	if err != nil {
		t.Fatal(err)
	}
	c.v2SliceSize.Store(1)
	tg := &v2Target{driveTarget: driveTarget{c: c}}
	data := make([]byte, maxSlices+1)
	sum, err := tg.hash(bytes.NewReader(data), 0, int64(len(data)), nil)
	if err != nil || len(sum) != 32 {
		t.Fatalf("hash pass: %q, %v", sum, err)
	}
	if n := len(tg.pre.sums); n > maxSlices {
		t.Errorf("%d slice sums kept, want at most %d", n, maxSlices)
	}
}
