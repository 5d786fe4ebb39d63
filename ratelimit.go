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

// Adaptive pacing: a 429 lowers an endpoint's rate to a little under what
// the platform was seen to accept (a multiplicative decrease of the lesser
// of that and the rate), and each answered call without 429 raises it
// slowly (additive increase). The decrease measures rather than halves: a
// free account's create (1/s where the table says 5/s) is found with one
// 429, not three, and is not halved again each time a probe above it
// meets one.
const (
	// paceMargin multiplies the accepted rate on a 429: the new rate stays
	// a little under what the platform accepted, so that the calls after
	// the cut do not meet a 429 each time their spacing jitters.
	paceMargin = 0.9
	// paceSpan is the span before a 429 over which the accepted calls are
	// counted: the platform's limits are stated per second.
	paceSpan = time.Second
	// paceFloorShare: the rate never drops below this share of the table's.
	paceFloorShare = 1.0 / 64
	// paceRise is added to the rate per answered call without 429, as a
	// share of the table's rate: each probe above the platform's limit
	// costs a 429, so a free account's create (1/s, table 5/s) creeps back
	// above its limit only after about 10 calls, and a rate cut to half the
	// table's is back there after 256 calls.
	paceRise = 1.0 / 512
	// probeWait bounds how long a cut endpoint waits for the end of its
	// probe (the first call after the cut) before sending more: a safety
	// net, as every call reports its end (observe or release).
	probeWait = 2 * time.Second
	// paceKept bounds the accepted calls remembered per endpoint; a rate
	// above paceKept per second is cut from itself, not measured.
	paceKept = 64
)

// pacer spaces the calls to one endpoint evenly, with no burst: no window
// of any length sees more than the rate, as the platform's window is
// undocumented and may enforce strict spacing. When adaptive, it adjusts
// the rate to the 429s the endpoint answers.
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
	// the probe's slot (zero: not taken yet).
	probing bool
	probeAt time.Time
	// accepted holds the slots of recent calls answered without 429 (at
	// most paceKept, none older than span before the newest).
	accepted []time.Time
	span     time.Duration // paceSpan; tests that scale time scale it
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
			l[path] = &pacer{rate: r, ceil: r, adaptive: adaptive, span: paceSpan}
		}
	}
	return l
}

// wait blocks until path may be called, or ctx is done (ctx.Err()). It
// returns the call's slot (zero when path is not limited), which the
// caller hands to observe once the call has ended, sent or not.
func (l limiters) wait(ctx context.Context, path string) (time.Time, error) {
	p := l[path]
	if p == nil {
		return time.Time{}, nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return time.Time{}, err // a canceled call claims no slot
		}
		now := time.Now()
		d := p.take(now)
		if d <= 0 {
			return now, nil
		}
		// The rate may drop while we sleep: take again after waking.
		if err := sleepCtx(ctx, d); err != nil {
			return time.Time{}, err
		}
	}
}

// take claims the next slot at now if it is due (0), else says how long
// to wait.
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

// observe ends the call to path that wait gave slot, err being its
// outcome: nil or an answer of the platform (*APIError), or a failure
// that is neither (a transport error, a call that never left), which
// says nothing about the rate but ends a probe.
func (l limiters) observe(path string, slot time.Time, err error) {
	if p := l[path]; p != nil {
		p.answer(slot, time.Now(), err)
	}
}

// release ends the call to path of slot that never left.
func (l limiters) release(path string, slot time.Time) { l.observe(path, slot, errUnsent) }

// errUnsent is the outcome of a call that never left.
var errUnsent = errors.New("not sent")

// answer adapts the rate at now to the outcome err of the call of slot: a
// 429 cuts the rate, unless the call left before the last cut (one burst
// of 429s is one signal); any other answer of the platform raises it.
func (p *pacer) answer(slot, now time.Time, err error) {
	if !p.adaptive {
		return
	}
	var ae *APIError
	limited := errors.Is(err, ErrRateLimited)
	answered := err == nil || limited || errors.As(err, &ae)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.probing && !p.probeAt.IsZero() && !slot.Before(p.probeAt) {
		// The probe has ended. Unanswered, it proved nothing: the next
		// call probes again, so that one call at a time is in flight
		// until one is answered.
		p.probing, p.probeAt = !answered, time.Time{}
	}
	switch {
	case !answered:
	case limited && slot.After(p.cut):
		p.rate = max(p.cutRate(slot), p.ceil*paceFloorShare)
		p.cut = now
		p.next = maxTime(p.next, now.Add(p.interval()))
		p.probing, p.probeAt = true, time.Time{}
	case !limited:
		p.rate = min(p.rate+p.ceil*paceRise, p.ceil)
		p.remember(slot)
	}
}

// cutRate is the rate after a 429 to the call of slot: paceMargin times
// the lesser of the rate and the rate the platform accepted in the
// span before it. When it accepted none, one call a span is counted:
// a 429 proves no more than that too many, and limits under it are
// reached by further cuts.
func (p *pacer) cutRate(slot time.Time) float64 {
	n := 0
	for _, t := range p.accepted {
		if t.Before(slot) && slot.Sub(t) < p.span {
			n++
		}
	}
	seen := float64(max(n, 1)) / p.span.Seconds()
	if n >= paceKept {
		seen = p.rate // more than it remembers: not measured
	}
	return min(p.rate, seen) * paceMargin
}

// remember keeps slot among the accepted calls, forgetting those that can
// no longer be counted.
func (p *pacer) remember(slot time.Time) {
	newest := slot
	if n := len(p.accepted); n > 0 {
		newest = maxTime(newest, p.accepted[n-1])
	}
	kept := p.accepted[:0]
	for _, t := range p.accepted {
		if newest.Sub(t) < p.span {
			kept = append(kept, t)
		}
	}
	p.accepted = append(kept, slot)
	if len(p.accepted) > paceKept {
		p.accepted = p.accepted[len(p.accepted)-paceKept:]
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
