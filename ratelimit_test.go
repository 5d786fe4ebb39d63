package pan123

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

// TestDefaultRateLimits pins the table-D rates (api.md §6) and the twins.
func TestDefaultRateLimits(t *testing.T) {
	t.Parallel()
	got := DefaultRateLimits()
	want := map[string]float64{
		"/api/v1/access_token":                8,
		"/upload/v1/file/create":              5,
		"/upload/v1/file/get_upload_url":      20,
		"/upload/v1/file/list_upload_parts":   20,
		"/upload/v1/file/mkdir":               5,
		"/upload/v1/file/upload_async_result": 5,
		"/upload/v1/file/upload_complete":     20,
	}
	for path, r := range want {
		assert.Equal(t, r, got[path], path)
	}
	// The image bed gets the rates of its V1 twins.
	for v1, oss := range map[string]string{
		pathCreate: pathOSSCreate, pathGetUploadURL: pathOSSGetUploadURL, pathListUploadParts: pathOSSListUploadParts,
		pathComplete: pathOSSComplete, pathAsyncResult: pathOSSAsyncResult, pathMkdir: pathOSSMkdir,
	} {
		assert.Equal(t, got[v1], got[oss], oss)
	}
	for path, r := range got {
		assert.Positive(t, r, path)
	}

	got[pathCreate] = 1000
	assert.Equal(t, 5.0, DefaultRateLimits()[pathCreate], "each call returns a fresh map")
}

func TestNewUsesDefaultRateLimits(t *testing.T) {
	t.Parallel()
	c, err := New(testClientID, testClientSecret)
	require.NoError(t, err)
	for path, r := range DefaultRateLimits() {
		lim := c.limits[path]
		require.NotNil(t, lim, path)
		assert.Equal(t, r, lim.rate, path)
		assert.Equal(t, r, lim.ceil, path)
		assert.True(t, lim.adaptive, path)
	}
}

func TestWithRateLimits(t *testing.T) {
	t.Parallel()
	c, err := New(testClientID, testClientSecret, WithRateLimits(map[string]float64{pathGetUploadURL: 50, pathCreate: 0, pathV2Slice: 2}))
	require.NoError(t, err)
	assert.Equal(t, 50.0, c.limits.rate(pathGetUploadURL), "overridden")
	assert.Nil(t, c.limits[pathCreate], "rate 0 removes the limit")
	assert.Equal(t, 2.0, c.limits.rate(pathV2Slice))
	assert.Equal(t, 20.0, c.limits.rate(pathComplete), "other paths keep their default")
	assert.Equal(t, 8.0, c.limits.rate(pathAccessToken))

	c, err = New(testClientID, testClientSecret, WithoutRateLimits())
	require.NoError(t, err)
	assert.Nil(t, c.limits)
	_, err = c.limits.wait(t.Context(), pathCreate)
	require.NoError(t, err)

	c, err = New(testClientID, testClientSecret, WithoutRateLimits(), WithRateLimits(map[string]float64{pathMkdir: 1}))
	require.NoError(t, err)
	assert.Len(t, c.limits, 1, "options apply in order")

	c, err = New(testClientID, testClientSecret, WithRateLimits(map[string]float64{pathMkdir: 1}), WithoutRateLimits())
	require.NoError(t, err)
	assert.Nil(t, c.limits, "the last option wins")

	_, err = New(testClientID, testClientSecret, WithRateLimits(map[string]float64{pathMkdir: -2}))
	require.ErrorIs(t, err, ErrInvalidInput)
}

// TestRateLimitSpacesRequests: at 50/s with burst 1, six calls need at
// least five intervals of 20 ms. Only a lower bound is asserted.
func TestRateLimitSpacesRequests(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil, WithRateLimits(map[string]float64{pathGetUploadURL: 50}))
	pre := preupload(t, c) // fetch the token first

	start := time.Now()
	for range 6 {
		_, err := c.Drive.UploadURL(t.Context(), pre, 1)
		require.NoError(t, err)
	}
	assert.GreaterOrEqual(t, time.Since(start), 95*time.Millisecond)
	assert.Equal(t, 6, srv.Count(pan123test.OpGetUploadURL))
}

// TestRateLimitPerPath: a path without a limit is not slowed by
// another path's limit.
func TestRateLimitPerPath(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil, WithRateLimits(map[string]float64{pathMkdir: 0.001}))
	pre := preupload(t, c)
	_, err := c.Drive.Mkdir(t.Context(), 0, "a") // takes mkdir's only token for 1000 s
	require.NoError(t, err)
	for range 10 {
		_, err := c.Drive.UploadURL(t.Context(), pre, 1)
		require.NoError(t, err)
	}
	assert.Equal(t, 10, srv.Count(pan123test.OpGetUploadURL))
}

// TestRateLimitCancelWhileWaiting: a call queued behind the limiter returns
// context.Canceled when its ctx is cancelled, without sending anything.
func TestRateLimitCancelWhileWaiting(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil, WithRateLimits(map[string]float64{pathGetUploadURL: 0.001})) // one call per 1000 s
	pre := preupload(t, c)
	_, err := c.Drive.UploadURL(t.Context(), pre, 1)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = c.Drive.UploadURL(ctx, pre, 1)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, srv.Count(pan123test.OpGetUploadURL))

	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	_, err = c.Drive.UploadURL(ctx, pre, 1)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, srv.Count(pan123test.OpGetUploadURL))
}

// TestRateLimitDeadline: a wait that would outlast the caller's deadline
// fails with context.DeadlineExceeded, like any other wait of the SDK.
func TestRateLimitDeadline(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil, WithRateLimits(map[string]float64{pathGetUploadURL: 0.001}))
	pre := preupload(t, c)
	_, err := c.Drive.UploadURL(t.Context(), pre, 1)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	_, err = c.Drive.UploadURL(ctx, pre, 1)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 1, srv.Count(pan123test.OpGetUploadURL))
}

func TestLimitersWait(t *testing.T) {
	t.Parallel()
	var none limiters
	_, err := none.wait(t.Context(), pathCreate)
	require.NoError(t, err)
	assert.Nil(t, newLimiters(nil, true))
	assert.Nil(t, newLimiters(map[string]float64{}, true))

	l := newLimiters(map[string]float64{pathCreate: 1000, pathMkdir: 0}, true)
	assert.NotContains(t, l, pathMkdir)
	slot, err := l.wait(t.Context(), pathCreate)
	require.NoError(t, err)
	assert.False(t, slot.IsZero(), "a paced call has a slot")
	slot, err = l.wait(t.Context(), "/not/limited")
	require.NoError(t, err)
	assert.True(t, slot.IsZero())
}

// TestWithRateLimitsRefusesUnknownPaths: a typo in a path key would
// silently leave the real endpoint at its default rate.
func TestWithRateLimitsRefusesUnknownPaths(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"/custom", "/upload/v1/file/create/", "upload/v1/file/create", "/upload/v1/file/Create", ""} {
		_, err := New(testClientID, testClientSecret, WithRateLimits(map[string]float64{p: 1}))
		require.ErrorIs(t, err, ErrInvalidInput, "%q", p)
		assert.Contains(t, err.Error(), "unknown endpoint path")
	}
	for _, p := range []string{pathCreate, pathOSSFileList, pathV2Single, pathV2Slice, pathFileList, pathAccessToken} {
		_, err := New(testClientID, testClientSecret, WithRateLimits(map[string]float64{p: 1}))
		require.NoError(t, err, p)
	}
}

func TestWithTier(t *testing.T) {
	t.Parallel()
	for tier, want := range map[Tier][2]float64{DefaultTier: {5, 20}, FreeTier: {1, 5}, VIPTier: {20, 20}} {
		c, err := New(testClientID, testClientSecret, WithTier(tier))
		require.NoError(t, err)
		assert.Equal(t, want[0], c.limits.rate(pathCreate), tier)
		assert.Equal(t, want[0], c.limits.rate(pathOSSCreate), tier)
		assert.Equal(t, want[1], c.limits.rate(pathComplete), tier)
		assert.Equal(t, want[1], c.limits.rate(pathV2Complete), tier)
		assert.Equal(t, 20.0, c.limits.rate(pathGetUploadURL), tier)
	}
	assert.Equal(t, DefaultRateLimits(), TierRateLimits(DefaultTier))
	for path, r := range TierRateLimits(FreeTier) {
		assert.LessOrEqual(t, r, DefaultRateLimits()[path], "free never exceeds the default: %s", path)
	}

	c, err := New(testClientID, testClientSecret, WithTier(FreeTier), WithRateLimits(map[string]float64{pathCreate: 3}))
	require.NoError(t, err)
	assert.Equal(t, 3.0, c.limits.rate(pathCreate), "WithRateLimits after WithTier overrides a row")
	assert.Equal(t, 5.0, c.limits.rate(pathComplete), "and keeps the tier's others")
	c, err = New(testClientID, testClientSecret, WithRateLimits(map[string]float64{pathCreate: 3}), WithTier(VIPTier))
	require.NoError(t, err)
	assert.Equal(t, 20.0, c.limits.rate(pathCreate), "WithTier replaces the rates set before it")

	_, err = New(testClientID, testClientSecret, WithTier(Tier(7)))
	require.ErrorIs(t, err, ErrInvalidInput)
	assert.Equal(t, "free", FreeTier.String())
}

// TestPacerAIMD: a 429 sets the rate to 0.9x the lesser of the rate and
// the rate accepted in the second before it (one call at least), once per
// burst; answered calls raise it by 1/512 of the table rate, never above
// the table nor below 1/64 of it; other failures and fixed pacing leave it
// alone.
func TestPacerAIMD(t *testing.T) {
	t.Parallel()
	p := &pacer{rate: 32, ceil: 32, adaptive: true, span: paceSpan}
	limited := &APIError{Code: codeRateLimited}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for i := range 10 {
		p.answer(at(100*i), at(100*i+5), nil)
	}
	assert.Equal(t, 32.0, p.rate, "never above the table")

	p.answer(at(1050), at(1055), limited)
	assert.InDelta(t, 0.9*9, p.rate, 1e-9, "9 calls accepted in the second before: 0.9 x 9/s")
	assert.True(t, p.next.After(at(1055)), "the cut also delays the next call")
	p.answer(at(1040), at(1060), limited)
	assert.InDelta(t, 8.1, p.rate, 1e-9, "a call sent before the cut is the same burst")
	p.answer(at(5000), at(5005), limited)
	assert.InDelta(t, 0.9, p.rate, 1e-9, "none accepted in the second before: 0.9 x 1/s")
	p.answer(at(5010), at(5015), limited)
	assert.InDelta(t, 0.81, p.rate, 1e-9, "and 0.9x the rate under 1/s")
	for i := range 30 {
		p.answer(at(6000+10*i), at(6001+10*i), limited)
	}
	assert.Equal(t, 0.5, p.rate, "floor: 1/64 of the table")

	p.answer(at(7000), at(7001), &APIError{Code: 1})
	assert.Equal(t, 0.5625, p.rate, "a business error is an answer: +32/512")
	p.answer(at(7100), at(7101), errors.New("connection reset"))
	p.answer(at(7200), at(7201), errUnsent)
	assert.Equal(t, 0.5625, p.rate, "a transport error or an unsent call says nothing")
	for i := range 600 {
		p.answer(at(8000+i), at(8001+i), nil)
	}
	assert.Equal(t, 32.0, p.rate, "back to the table, not above")
	assert.LessOrEqual(t, len(p.accepted), paceKept, "bounded memory")

	fast := &pacer{rate: 1000, ceil: 1000, adaptive: true, span: paceSpan}
	for i := range 100 {
		fast.answer(at(i), at(i+1), nil)
	}
	fast.answer(at(100), at(101), limited)
	assert.InDelta(t, 900, fast.rate, 1e-9, "more accepted calls than remembered: 0.9x the rate")

	fixed := &pacer{rate: 64, ceil: 64}
	fixed.answer(at(0), at(1), limited)
	assert.Equal(t, 64.0, fixed.rate)
	var none limiters
	none.observe(pathCreate, time.Now(), limited)
	none.release(pathCreate, time.Now())
	assert.Zero(t, none.rate(pathCreate))
}

// TestPacerProbe: after a cut, one call goes alone and the others wait
// for its answer, or for probeWait when the answer is lost.
func TestPacerProbe(t *testing.T) {
	t.Parallel()
	l := newLimiters(map[string]float64{pathCreate: 1000}, true)
	p := l[pathCreate]
	limited := &APIError{Code: codeRateLimited}
	assert.Zero(t, p.take(time.Now()), "no cut yet: no probe")
	assert.Zero(t, p.take(time.Now().Add(time.Second)))

	l.observe(pathCreate, time.Now(), limited)
	t0 := time.Now().Add(2 * time.Second)
	require.Zero(t, p.take(t0), "the probe goes")
	assert.Positive(t, p.take(t0.Add(time.Second)), "the others wait for its answer")
	l.observe(pathCreate, t0, nil)
	assert.Zero(t, p.take(t0.Add(time.Second)), "answered: pacing goes on")

	l.observe(pathCreate, time.Now().Add(time.Hour), limited)
	t2 := time.Now().Add(time.Hour)
	require.Zero(t, p.take(t2))
	l.release(pathCreate, t2)
	require.Zero(t, p.take(t2.Add(time.Second)), "an unsent probe: the next call probes")
	assert.Positive(t, p.take(t2.Add(2*time.Second)))
	l.observe(pathCreate, t2.Add(time.Second), errors.New("connection reset"))
	require.Zero(t, p.take(t2.Add(3*time.Second)), "a probe without answer: the next call probes")
	assert.Positive(t, p.take(t2.Add(4*time.Second)))
	l.observe(pathCreate, t2.Add(3*time.Second), nil)
	assert.Zero(t, p.take(t2.Add(4*time.Second)), "answered: pacing goes on")

	l.observe(pathCreate, time.Now().Add(2*time.Hour), limited)
	t1 := time.Now().Add(2 * time.Hour)
	require.Zero(t, p.take(t1))
	assert.Positive(t, p.take(t1.Add(probeWait/2)))
	assert.Zero(t, p.take(t1.Add(probeWait)), "a lost answer blocks no longer than probeWait")
}

// TestPacerProbeEndsOnTransportError: after a cut, a probe that ends in a
// transport error says nothing about the rate but is over: the next call
// goes at the rate as a new probe, not held until probeWait runs out.
func TestPacerProbeEndsOnTransportError(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil, WithRateLimits(map[string]float64{pathMkdir: 1000}), WithRetry(1, time.Millisecond, time.Millisecond))
	srv.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Code: codeRateLimited})
	srv.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Drop: true}) // then a reset
	_, err := c.Drive.Mkdir(t.Context(), 0, "a")
	require.ErrorIs(t, err, ErrRateLimited)
	rate := c.limits.rate(pathMkdir)
	_, err = c.Drive.Mkdir(t.Context(), 0, "b") // the probe
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrRateLimited)
	assert.Equal(t, rate, c.limits.rate(pathMkdir), "a transport error leaves the rate alone")
	lim := c.limits[pathMkdir]
	now := time.Now().Add(time.Second)
	assert.Zero(t, lim.take(now), "the probe is over: the next call goes at the rate")
	assert.Positive(t, lim.take(now.Add(time.Second)), "as a new probe, alone")
}

// TestPacerV2SliceAdapts: a V2 slice post, when paced, adapts like any
// API call: a 429 lowers its rate.
func TestPacerV2SliceAdapts(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil, WithRateLimits(map[string]float64{pathV2Slice: 100}))
	srv.Inject(pan123test.Fault{Op: pan123test.OpV2Slice, Code: codeRateLimited, Times: -1})
	err := c.Drive.UploadSliceV2(t.Context(), srv.UploadServers()[0], "pre", 1, "0cc175b9c0f1b6a831c399e269772661", strings.NewReader("a"), 1)
	require.ErrorIs(t, err, ErrRateLimited)
	assert.Less(t, c.limits.rate(pathV2Slice), 100.0)
}
