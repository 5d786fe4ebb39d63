package pan123

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestRetryableServerCodes: an HTTP 5xx answer whose envelope code is in
// 500..599 is the server's own failure and is tried again; any other code
// on it is a business answer and is final.
func TestRetryableServerCodes(t *testing.T) {
	for _, tc := range []struct {
		status, code int
		want         bool
	}{
		{500, 500, true},
		{503, 599, true},
		{502, 600, false},
		{500, 499, false},
		{200, 599, false},
	} {
		err := &APIError{HTTPStatus: tc.status, Code: tc.code, Message: "x"}
		assert.Equal(t, tc.want, retryable(context.Background(), err), "HTTP %d, code %d", tc.status, tc.code)
	}
}

// TestSleepCtxZeroAfterCancel: a zero wait under an ended context reports
// the context's error every time, not only when a select happens to pick it.
func TestSleepCtxZeroAfterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 200 {
		if err := sleepCtx(ctx, 0); err != context.Canceled {
			t.Fatalf("sleepCtx(canceled, 0) = %v", err)
		}
	}
}

// TestBackoffCeilingExact: the wait before attempt n+1 is drawn from
// [0, base·2^(n-1)] with both ends reachable, and from [0, cap] once that
// ceiling passes the cap, up to the largest attempt counts. Nanosecond
// durations make each end likely in a few hundred draws.
func TestBackoffCeilingExact(t *testing.T) {
	draws := func(p retryPolicy, n int) (lo, hi time.Duration) {
		lo, hi = math.MaxInt64, 0
		for range 300 {
			d := p.delay(n, 0)
			lo, hi = min(lo, d), max(hi, d)
		}
		return lo, hi
	}
	small := retryPolicy{base: 1, cap: 3}
	for n, want := range map[int]time.Duration{1: 1, 2: 2, 3: 3, 10: 3} {
		lo, hi := draws(small, n)
		assert.Equal(t, time.Duration(0), lo, "n=%d", n)
		assert.Equal(t, want, hi, "n=%d: the ceiling", n)
	}
	// A cap past 2^62 ns: at attempt 63 the ceiling is the cap itself.
	// (Not math.MaxInt64: delay panics there, int64(ceiling)+1 overflows.)
	_, hi := draws(retryPolicy{base: 1, cap: math.MaxInt64 - 1}, 63)
	assert.Greater(t, hi, time.Duration(1)<<62, "ceiling below the cap")
}
