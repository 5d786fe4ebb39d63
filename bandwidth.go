package pan123

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Upload bandwidth caps. Slice bodies (presigned PUTs, V2 slice posts and
// single-step posts) wait on them as the HTTP transport reads them, so
// nothing is buffered for the cap: the bytes stay in the source until they
// may leave. A Client holds one cap shared by every upload through it; an
// upload may add its own (WithUploadBandwidthLimit), and its reads then wait
// for both.

// maxBandwidthBurst bounds what a cap lets through at once after an idle
// moment. A cap's burst is 1/20 of a second of its rate (so that a
// one-second window sees at most about 1.05 × the rate), and at most this
// much. That is still large enough that a read woken late (timer slack on
// a loaded machine) does not lose its share: up to burst ÷ rate of
// lateness is made up, 40 ms at 100 MiB/s.
const maxBandwidthBurst = 4 << 20

// minCapSleep is the shortest wait on a cap: a read whose turn is nearer
// goes at once, in debt that the next reads pay off (so a window may see
// 5 ms more of the rate). At 100 MiB/s a wait
// per 32 KiB read would be 3200 sleeps a second, each one a trip through
// the scheduler that a loaded machine makes late.
const minCapSleep = 5 * time.Millisecond

// bandwidth is one cap in bytes per second, changeable at any time.
type bandwidth struct {
	limit atomic.Int64 // bytes per second; 0 = unlimited

	mu      sync.Mutex // orders reservations with changes of the cap
	lim     *rate.Limiter
	changed chan struct{} // closed (and replaced) when the cap changes
}

// newBandwidth returns a cap of bytesPerSec (≤ 0: unlimited). It starts
// empty: the first bytes wait their turn rather than leave in a burst.
func newBandwidth(bytesPerSec int64) *bandwidth {
	b := &bandwidth{lim: rate.NewLimiter(1, 1), changed: make(chan struct{})}
	b.set(bytesPerSec)
	return b
}

func burstOf(limit int64) int {
	return int(max(1, min(maxBandwidthBurst, limit/20)))
}

// set changes the cap. Reads waiting on it book their turn again under the
// new cap: after a raise they must not wait out a queue booked at the old
// rate. The limiter is never set to rate.Inf: unlimited is
// the atomic zero, which keeps reads off the mutex.
func (b *bandwidth) set(bytesPerSec int64) {
	n := max(bytesPerSec, 0)
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > 0 {
		// Burst first: the tokens saved under the old cap are then clipped
		// to the new burst when the rate changes.
		now := time.Now()
		b.lim.SetBurstAt(now, burstOf(n))
		b.lim.SetLimitAt(now, rate.Limit(n))
	}
	b.limit.Store(n)
	close(b.changed)
	b.changed = make(chan struct{})
}

// reserve books up to n bytes (at most one burst) and returns how many,
// the reservation (nil when the cap is off), how long to wait for it, and
// the channel closed if the cap changes meanwhile.
// The time is read under the lock: a limiter given an earlier time than
// its last one counts the time between twice, and lets too much through.
func (b *bandwidth) reserve(n int) (int, *rate.Reservation, time.Duration, <-chan struct{}) {
	if b == nil || b.limit.Load() == 0 {
		return n, nil, 0, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.limit.Load()
	if l == 0 {
		return n, nil, 0, nil
	}
	n = min(n, burstOf(l))
	now := time.Now()
	r := b.lim.ReserveN(now, n) // n ≤ burst under the lock: always OK
	return n, r, r.DelayFrom(now), b.changed
}

// caps are the caps one body read waits for: the Client's and the
// upload's; either may be nil.
type caps [2]*bandwidth

// wait blocks until up to want bytes may leave under every cap and returns
// how many may (cut to the smallest burst). Before sleeping it calls
// onWait, which pauses the stall detector: a capped read is not a stalled
// one. When a cap changes meanwhile, the turn is booked again under it (one
// more round per change). When ctx ends first, the booking is given back
// and ctx's error returned.
func (cs caps) wait(ctx context.Context, want int, onWait func()) (int, error) {
	for {
		n := want
		for _, b := range cs {
			if b != nil {
				if l := b.limit.Load(); l > 0 {
					n = min(n, burstOf(l))
				}
			}
		}
		var rs [len(cs)]*rate.Reservation
		var changed [len(cs)]<-chan struct{} // nil for a cap that is off: never ready
		var delay time.Duration
		for i, b := range cs {
			// A cap lowered since the cut above can only shorten n here; the
			// other cap's booking of a few more bytes is then harmless.
			var d time.Duration
			n, rs[i], d, changed[i] = b.reserve(n)
			delay = max(delay, d)
		}
		if delay < minCapSleep {
			return n, nil
		}
		onWait()
		t := time.NewTimer(delay)
		select {
		case <-t.C:
			return n, nil
		case <-changed[0]:
		case <-changed[1]:
		case <-ctx.Done():
		}
		t.Stop()
		for _, r := range rs {
			if r != nil {
				r.Cancel()
			}
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
	}
}

// SetBandwidthLimit changes the cap on the bytes per second that all
// uploads through c send, at once, also for uploads already running; 0 (or
// less) removes it. Uploads with their own cap
// (WithUploadBandwidthLimit) keep it as well.
func (c *Client) SetBandwidthLimit(bytesPerSec int64) { c.bw.set(bytesPerSec) }

// BandwidthLimit returns the cap set by WithBandwidthLimit or
// SetBandwidthLimit, in bytes per second; 0 means none.
func (c *Client) BandwidthLimit() int64 { return c.bw.limit.Load() }
