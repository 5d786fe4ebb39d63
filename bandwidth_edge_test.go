package pan123

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// One turn under a cap lets at most 1/20 of a second of its rate through
// (never less than a byte, never more than maxBandwidthBurst), so that a
// one-second window sees at most about 1.05 × the rate.
func TestBandwidthTurnIsATwentiethOfASecond(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		for _, tc := range []struct{ rate, want int64 }{
			{20_000, 1_000},
			{10, 1},
			{1 << 30, maxBandwidthBurst},
		} {
			n, err := caps{newBandwidth(tc.rate)}.wait(t.Context(), 1<<30, func() {})
			require.NoError(t, err)
			assert.EqualValues(t, tc.want, n, "rate %d", tc.rate)
		}
	})
}

// A cap switched off and on again is like one that was never off: after an
// idle second its burst leaves at once (it does not start empty again).
func TestBandwidthTurnedBackOnKeepsItsBurst(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := newBandwidth(1000) // burst 50 B
		time.Sleep(time.Second)
		b.set(0)
		time.Sleep(time.Second)
		b.set(1000)
		waited := false
		n, err := caps{b}.wait(t.Context(), 50, func() { waited = true })
		require.NoError(t, err)
		assert.Equal(t, 50, n)
		assert.False(t, waited, "the saved burst should leave at once")
	})
}
