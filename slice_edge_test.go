package pan123

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A capped slice body asks the cap for at most the bytes it has left to
// send, never for nothing (a zero booking would still wait out another
// slice's debt on a shared cap), and in total for exactly its size.
func TestSliceBodyAsksThePaceForWhatIsLeft(t *testing.T) {
	data := bytes.Repeat([]byte{7}, 1000)
	var asked []int
	var sent int64
	b := &sliceBody{src: bytes.NewReader(data), size: 1000, onRead: func(n int) { sent += int64(n) },
		pace: func(n int) (int, error) { asked = append(asked, n); return min(n, 300), nil }}
	b.r = io.NewSectionReader(b.src, 0, b.size)

	n, err := b.Read(nil)
	require.NoError(t, err)
	require.Zero(t, n)
	var got []byte
	buf := make([]byte, 4096)
	for reads := 0; ; reads++ {
		require.Less(t, reads, 10, "reads that move nothing") // a bound, so that such reads fail instead of looping
		n, err := b.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	assert.Equal(t, data, got)
	assert.Equal(t, []int{1000, 700, 400, 100}, asked, "each booking is what is left, at most")
	assert.EqualValues(t, 1000, sent)
}

// A source that ends early (here exactly at a read boundary) fails the
// hashing pass without a progress report of zero bytes.
func TestHashPassOfAShrunkSourceReportsOnlyBytes(t *testing.T) {
	var reads []int
	_, err := md5Of(bytes.NewReader(make([]byte, hashBufSize)), 0, 2*hashBufSize, func(n int) { reads = append(reads, n) })
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, []int{hashBufSize}, reads)
}
