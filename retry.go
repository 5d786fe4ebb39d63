package pan123

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// retryPolicy is the one backoff policy of the SDK: bounded attempts,
// exponential ceilings with full jitter, Retry-After honoured up to cap.
type retryPolicy struct {
	maxAttempts int
	base, cap   time.Duration
}

// delay is the wait before attempt n+1 after n failed attempts (n >= 1).
// hint is the platform's Retry-After, if any; it wins when larger, up to cap.
func (p retryPolicy) delay(n int, hint time.Duration) time.Duration {
	ceiling := p.cap
	if shift := n - 1; shift < 62 && p.base <= p.cap>>shift {
		ceiling = p.base << shift // no overflow: base·2^shift <= cap
	}
	d := time.Duration(rand.Uint64N(uint64(ceiling) + 1)) // unsigned: a ceiling of MaxInt64 does not overflow
	if hint > d {
		d = min(hint, p.cap)
	}
	return d
}

// backoff waits before attempt n+1 after n failed attempts, the one
// schedule of every retry loop (API calls, slices, single-step uploads): the
// delay of p, raised to what the error asks for (its Retry-After; a second
// for code 20103, "请间隔1秒后再试") and to floor. note, if not nil, is told
// the wait first (for a log line). It returns ctx's error if ctx ends first.
func (p retryPolicy) backoff(ctx context.Context, n int, err error, floor time.Duration, note func(wait time.Duration)) error {
	hint := floor
	var ae *APIError
	if errors.As(err, &ae) {
		hint = max(hint, ae.RetryAfter)
		if ae.Code == codeVerifying {
			hint = max(hint, time.Second)
		}
	}
	d := p.delay(n, hint)
	if note != nil {
		note(d)
	}
	return sleepCtx(ctx, d)
}

// sleepCtx waits d or until ctx is done, whichever comes first. A context
// already done wins, however short d is.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// parseRetryAfter reads a Retry-After header: delta seconds or an HTTP date.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		// Saturate rather than overflow into a negative duration.
		return time.Duration(min(int64(s), math.MaxInt64/int64(time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
