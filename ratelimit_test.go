package pan123

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, c.limits.wait(t.Context(), pathCreate))

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
	p := newFakePlatform(t)
	c := newTestClient(t, p, WithRateLimits(map[string]float64{pathGetUploadURL: 50}))
	_, err := c.Drive.Complete(t.Context(), "pre") // fetch the token first
	require.NoError(t, err)

	start := time.Now()
	for range 6 {
		_, err := c.Drive.UploadURL(t.Context(), "pre", 1)
		require.NoError(t, err)
	}
	assert.GreaterOrEqual(t, time.Since(start), 95*time.Millisecond)
	assert.Equal(t, 6, p.count(pathGetUploadURL))
}

// TestRateLimitPerPath: a path without a limit is not slowed by
// another path's limit.
func TestRateLimitPerPath(t *testing.T) {
	t.Parallel()
	p := newFakePlatform(t)
	p.handle(pathMkdir, okData(map[string]any{"dirID": 1}))
	c := newTestClient(t, p, WithRateLimits(map[string]float64{pathMkdir: 0.001}))
	_, err := c.Drive.Mkdir(t.Context(), 0, "a") // takes mkdir's only token for 1000 s
	require.NoError(t, err)
	for range 10 {
		_, err := c.Drive.UploadURL(t.Context(), "pre", 1)
		require.NoError(t, err)
	}
	assert.Equal(t, 10, p.count(pathGetUploadURL))
}

// TestRateLimitCancelWhileWaiting: a call queued behind the limiter returns
// context.Canceled when its ctx is cancelled, without sending anything.
func TestRateLimitCancelWhileWaiting(t *testing.T) {
	t.Parallel()
	p := newFakePlatform(t)
	c := newTestClient(t, p, WithRateLimits(map[string]float64{pathGetUploadURL: 0.001})) // one call per 1000 s
	_, err := c.Drive.UploadURL(t.Context(), "pre", 1)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = c.Drive.UploadURL(ctx, "pre", 1)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, p.count(pathGetUploadURL))

	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	_, err = c.Drive.UploadURL(ctx, "pre", 1)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, p.count(pathGetUploadURL))
}

// TestRateLimitDeadline: a wait that would outlast the caller's deadline
// fails with context.DeadlineExceeded, like any other wait of the SDK.
func TestRateLimitDeadline(t *testing.T) {
	t.Parallel()
	p := newFakePlatform(t)
	c := newTestClient(t, p, WithRateLimits(map[string]float64{pathGetUploadURL: 0.001}))
	_, err := c.Drive.UploadURL(t.Context(), "pre", 1)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	_, err = c.Drive.UploadURL(ctx, "pre", 1)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 1, p.count(pathGetUploadURL))
}

func TestLimitersWait(t *testing.T) {
	t.Parallel()
	var none limiters
	require.NoError(t, none.wait(t.Context(), pathCreate))
	assert.Nil(t, newLimiters(nil, true))
	assert.Nil(t, newLimiters(map[string]float64{}, true))

	l := newLimiters(map[string]float64{pathCreate: 1000, pathMkdir: 0}, true)
	assert.NotContains(t, l, pathMkdir)
	require.NoError(t, l.wait(t.Context(), pathCreate))
	require.NoError(t, l.wait(t.Context(), "/not/limited"))
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

// TestPacerAIMD: a 429 halves the rate once per burst, answered calls
// raise it by 1/128 of the table rate, never above the table nor below
// 1/64 of it; other failures and fixed pacing leave it alone.
func TestPacerAIMD(t *testing.T) {
	t.Parallel()
	l := newLimiters(map[string]float64{pathCreate: 64}, true)
	p := l[pathCreate]
	limited := &APIError{Code: codeRateLimited}
	before := time.Now()
	l.observe(pathCreate, time.Now(), nil)
	assert.Equal(t, 64.0, l.rate(pathCreate), "never above the table")

	l.observe(pathCreate, time.Now(), limited)
	assert.Equal(t, 32.0, l.rate(pathCreate))
	assert.True(t, p.next.After(before), "the cut also delays the next call")
	l.observe(pathCreate, before, limited)
	assert.Equal(t, 32.0, l.rate(pathCreate), "a call sent before the cut is the same burst")
	for range 10 {
		l.observe(pathCreate, time.Now().Add(time.Hour), limited)
	}
	assert.Equal(t, 1.0, l.rate(pathCreate), "floor: 1/64 of the table")

	l.observe(pathCreate, time.Now(), &APIError{Code: 1})
	assert.Equal(t, 1.5, l.rate(pathCreate), "a business error is an answer: +64/128")
	l.observe(pathCreate, time.Now(), errors.New("connection reset"))
	assert.Equal(t, 1.5, l.rate(pathCreate), "a transport error says nothing")
	for range 200 {
		l.observe(pathCreate, time.Now(), nil)
	}
	assert.Equal(t, 64.0, l.rate(pathCreate), "back to the table, not above")

	fixed := newLimiters(map[string]float64{pathCreate: 64}, false)
	fixed.observe(pathCreate, time.Now(), limited)
	assert.Equal(t, 64.0, fixed.rate(pathCreate))
	var none limiters
	none.observe(pathCreate, time.Now(), limited)
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
	t1 := time.Now().Add(time.Hour)
	require.Zero(t, p.take(t1))
	assert.Positive(t, p.take(t1.Add(probeWait/2)))
	assert.Zero(t, p.take(t1.Add(probeWait)), "a lost answer blocks no longer than probeWait")
}
