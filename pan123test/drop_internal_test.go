package pan123test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

// A Drop reads about half of what is left of the body: a V2 slice has had
// its form fields read already, and those do not count again.
func TestDropHalfIsHalfOfWhatIsLeft(t *testing.T) {
	for _, tc := range []struct{ length, read, want int64 }{
		{1000, 0, 500},
		{1000, 200, 400},
		{1000, 999, 1},
		{1000, 1000, 1},
		{-1, 0, 32 << 10}, // unknown length
	} {
		c := &call{r: &http.Request{ContentLength: tc.length}, body: &body{n: tc.read}}
		assert.Equal(t, tc.want, c.dropHalf(), "length %d, read %d", tc.length, tc.read)
	}
}
