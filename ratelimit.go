package pan123

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Tier is the account level whose published request rates a [Client] paces
// by; see [WithTier]. The platform publishes a free and a VIP column.
type Tier int

const (
	// DefaultTier paces by [DefaultRateLimits]: the only published table
	// that lists the upload endpoints (create 5/s, upload_complete 20/s).
	DefaultTier Tier = iota
	// FreeTier paces by [TierRateLimits](FreeTier): create 1/s and
	// upload_complete 5/s, as the platform's support told one client for free
	// accounts, and the free column of the developer table for the rest.
	FreeTier
	// VIPTier paces by [TierRateLimits](VIPTier): create and upload_complete
	// 20/s, and the VIP column of the developer table for the rest.
	VIPTier
)

// String returns "default", "free" or "vip".
func (t Tier) String() string {
	switch t {
	case DefaultTier:
		return "default"
	case FreeTier:
		return "free"
	case VIPTier:
		return "vip"
	}
	return fmt.Sprintf("Tier(%d)", int(t))
}

// DefaultRateLimits returns the client-side request rates (per second) used
// unless [WithTier], [WithRateLimits] or [WithoutRateLimits] says otherwise.
// The platform publishes several tables that disagree. These follow the only
// one that lists upload endpoints (the third-party mount table, "per uid":
// create 5, get_upload_url 20, list_upload_parts 20, upload_complete 20,
// upload_async_result 5, mkdir 5), and the free column of the developer
// table for access_token (8) and api/v2/file/list (5). The image-bed and V2
// upload endpoints are listed nowhere; they get the rate of their V1 twin.
// Endpoints missing from the map are not limited (PUTs to presigned URLs and
// V2 slice posts go to storage hosts and are bounded by concurrency instead).
//
// The rates are ceilings: a Client lowers an endpoint's rate when the
// platform answers 429 and raises it back while it does not (see
// [WithAdaptiveRateLimits]).
func DefaultRateLimits() map[string]float64 {
	return map[string]float64{
		pathAccessToken:        8,
		pathCreate:             5,
		pathGetUploadURL:       20,
		pathListUploadParts:    20,
		pathComplete:           20,
		pathAsyncResult:        5,
		pathMkdir:              5,
		pathOSSCreate:          5,
		pathOSSGetUploadURL:    20,
		pathOSSListUploadParts: 20,
		pathOSSComplete:        20,
		pathOSSAsyncResult:     5,
		pathOSSMkdir:           5,
		pathOSSFileList:        5,
		pathV2Create:           5,
		pathV2Complete:         20,
		pathV2Domain:           5,
		pathV2SHA1Reuse:        2,
		pathFileList:           5,
	}
}

// TierRateLimits returns the request rates (per second) of a tier; for
// [DefaultTier] it is [DefaultRateLimits]. Rows no table gives for the tier
// keep their default. A free account's create (1/s) and upload_complete
// (5/s), and the VIP values of both (20/s), come from one client that asked
// the platform's support; they are in no published table.
func TierRateLimits(t Tier) map[string]float64 {
	m := DefaultRateLimits()
	var set map[string]float64
	switch t {
	case FreeTier:
		set = map[string]float64{
			pathCreate: 1, pathOSSCreate: 1, pathV2Create: 1, pathV2SHA1Reuse: 1,
			pathComplete: 5, pathOSSComplete: 5, pathV2Complete: 5,
			pathAccessToken: 8, pathFileList: 5,
		}
	case VIPTier:
		set = map[string]float64{
			pathCreate: 20, pathOSSCreate: 20, pathV2Create: 20,
			pathComplete: 20, pathOSSComplete: 20, pathV2Complete: 20,
			pathMkdir: 20, pathOSSMkdir: 20, pathAccessToken: 10, pathFileList: 10,
		}
	}
	maps.Copy(m, set)
	return m
}

// knownPath reports whether p is an endpoint path the SDK calls: only those
// can be paced, so [WithRateLimits] refuses any other key (a typo).
func knownPath(p string) bool {
	return p == pathV2Slice || p == pathV2Single || DefaultRateLimits()[p] > 0
}

// knownPaths lists the paths [WithRateLimits] accepts, for its error.
func knownPaths() []string {
	return append(slices.Sorted(maps.Keys(DefaultRateLimits())), pathV2Slice, pathV2Single)
}

// Adaptive pacing: additive increase, multiplicative decrease per endpoint.
const (
	// paceCut multiplies an endpoint's rate on a 429.
	paceCut = 0.5
	// paceFloorShare: the rate never drops below this share of the table's.
	paceFloorShare = 1.0 / 64
	// paceRise is added to the rate per answered call without 429, as a
	// share of the table's rate: at the table's rate of 5/s, a rate halved
	// from 1/s to 0.5/s is back at 1/s after about 13 calls.
	paceRise = 1.0 / 128
	// probeWait bounds how long a cut endpoint waits for the answer to its
	// probe (the first call after the cut) before sending more: its answer
	// may never be observed (a transport error, a cancelled call).
	probeWait = 2 * time.Second
)

// pacer spaces the calls to one endpoint evenly (no burst: no window of any
// length sees more than the rate, as the platform's window is undocumented)
// and, when adaptive, adjusts the rate to the 429s the endpoint answers.
type pacer struct {
	mu       sync.Mutex
	rate     float64   // calls per second now
	ceil     float64   // the table's rate: never exceeded
	adaptive bool      // adjust rate on answers
	next     time.Time // when the next call may go
	cut      time.Time // when rate was last lowered
	// After a cut one call (the probe) goes alone: the others wait for its
	// answer, so that a slow answer does not let a flood out at a rate
	// that may still be too high. probing is set by the cut; probeAt is
	// when the probe left (zero: not yet).
	probing bool
	probeAt time.Time
}

// limiters holds one pacer per endpoint path; nil map = no limits. All the
// calls of one Client share them, as the platform counts per account.
type limiters map[string]*pacer

func newLimiters(perSecond map[string]float64, adaptive bool) limiters {
	if len(perSecond) == 0 {
		return nil
	}
	l := make(limiters, len(perSecond))
	for path, r := range perSecond {
		if r > 0 {
			l[path] = &pacer{rate: r, ceil: r, adaptive: adaptive}
		}
	}
	return l
}

// wait blocks until path may be called, or ctx is done (ctx.Err()).
func (l limiters) wait(ctx context.Context, path string) error {
	p := l[path]
	if p == nil {
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err // a canceled call claims no slot
		}
		d := p.take(time.Now())
		if d <= 0 {
			return nil
		}
		// The rate may drop while we sleep: take again after waking.
		if err := sleepCtx(ctx, d); err != nil {
			return err
		}
	}
}

// take claims the next slot if it is due (0), else says how long to wait.
func (p *pacer) take(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d := p.next.Sub(now); d > 0 {
		return d
	}
	if p.probing && !p.probeAt.IsZero() {
		if d := p.probeAt.Add(probeWait).Sub(now); d > 0 {
			return min(d, p.interval())
		}
		p.probing = false // its answer was lost: go on
	}
	if p.probing {
		p.probeAt = now
	}
	p.next = now.Add(p.interval())
	return 0
}

func (p *pacer) interval() time.Duration { return time.Duration(float64(time.Second) / p.rate) }

// observe adapts path's rate to the answer of a call sent at sent: a 429
// cuts the rate, unless the call left before the last cut (one burst of
// 429s is one signal); any other answer from the platform raises it.
// Transport errors say nothing about the rate.
func (l limiters) observe(path string, sent time.Time, err error) {
	p := l[path]
	if p == nil || !p.adaptive {
		return
	}
	var ae *APIError
	limited := errors.Is(err, ErrRateLimited)
	if err != nil && !limited && !errors.As(err, &ae) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.probing && !p.probeAt.IsZero() && !sent.Before(p.probeAt) {
		p.probing = false // the probe is answered
	}
	switch {
	case limited && sent.After(p.cut):
		p.rate = max(p.rate*paceCut, p.ceil*paceFloorShare)
		now := time.Now()
		p.cut = now
		p.next = maxTime(p.next, now.Add(p.interval()))
		p.probing, p.probeAt = true, time.Time{}
	case !limited:
		p.rate = min(p.rate+p.ceil*paceRise, p.ceil)
	}
}

// rate returns path's current rate (0: not limited), for tests and logs.
func (l limiters) rate(path string) float64 {
	p := l[path]
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rate
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
