package pan123

import (
	"bytes"
	"testing"
)

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
