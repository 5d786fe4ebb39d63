package pan123

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestBackoffSchedule: the one schedule of the retry loops raises the
// jittered delay to the answer's Retry-After, to a second for code 20103,
// and to the caller's floor, never above the cap; a done context ends the
// wait at once with its error. (The context is canceled before the call, so
// no test time is spent waiting.)
func TestBackoffSchedule(t *testing.T) {
	p := retryPolicy{maxAttempts: 5, base: time.Millisecond, cap: 2 * time.Second}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	waitOf := func(err error, floor time.Duration) time.Duration {
		var got time.Duration
		werr := p.backoff(ctx, 1, err, floor, func(d time.Duration) { got = d })
		assert.ErrorIs(t, werr, context.Canceled)
		return got
	}
	assert.Equal(t, 300*time.Millisecond, waitOf(&APIError{Code: codeRateLimited, RetryAfter: 300 * time.Millisecond}, 0), "Retry-After")
	assert.Equal(t, time.Second, waitOf(&APIError{Code: codeVerifying}, 0), "20103: a second")
	assert.Equal(t, time.Second, waitOf(errors.New("queue busy"), time.Second), "floor")
	assert.Equal(t, 2*time.Second, waitOf(&APIError{HTTPStatus: 503, RetryAfter: time.Hour}, 0), "capped")
	assert.LessOrEqual(t, waitOf(nil, 0), time.Millisecond, "jitter under the first ceiling")
	wrapped := wrapf(&APIError{Code: codeRateLimited, RetryAfter: 700 * time.Millisecond}, "get upload url")
	assert.Equal(t, 700*time.Millisecond, waitOf(wrapped, 0), "found through wrapping")
}

// TestDelayHugeCap: a cap of math.MaxInt64 (WithRetry accepts any
// positive cap) does not overflow the jitter's range into a panic.
func TestDelayHugeCap(t *testing.T) {
	p := retryPolicy{maxAttempts: 3, base: 1 << 61, cap: math.MaxInt64}
	for n := 1; n <= 4; n++ {
		assert.NotPanics(t, func() { p.delay(n, 0) }, "attempt %d", n)
	}
}

// TestSleepCtxDoneContextWins: a context already done ends a wait with its
// error even when the wait is so short that its timer has fired too (a
// select between two ready cases picks either: TestBackoffSchedule's
// jittered wait of a few microseconds returned nil about once in 20 runs).
func TestSleepCtxDoneContextWins(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for range 200 {
		if err := sleepCtx(ctx, time.Nanosecond); !errors.Is(err, context.Canceled) {
			t.Fatalf("sleepCtx with a done context returned %v", err)
		}
	}
}
