package pan123

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
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
		assert.Equal(t, rate.Limit(r), lim.Limit(), path)
		assert.Equal(t, 1, lim.Burst(), path)
	}
}

func TestWithRateLimits(t *testing.T) {
	t.Parallel()
	c, err := New(testClientID, testClientSecret, WithRateLimits(map[string]float64{pathGetUploadURL: 50, pathCreate: 0, "/custom": 2}))
	require.NoError(t, err)
	assert.Equal(t, rate.Limit(50), c.limits[pathGetUploadURL].Limit(), "overridden")
	assert.Nil(t, c.limits[pathCreate], "rate 0 removes the limit")
	assert.Equal(t, rate.Limit(2), c.limits["/custom"].Limit())
	assert.Equal(t, rate.Limit(20), c.limits[pathComplete].Limit(), "other paths keep their default")
	assert.Equal(t, rate.Limit(8), c.limits[pathAccessToken].Limit())

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
	_, err := c.CompleteUpload(t.Context(), "pre") // fetch the token first
	require.NoError(t, err)

	start := time.Now()
	for range 6 {
		_, err := c.GetUploadURL(t.Context(), "pre", 1)
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
	_, err := c.Mkdir(t.Context(), 0, "a") // takes mkdir's only token for 1000 s
	require.NoError(t, err)
	for range 10 {
		_, err := c.GetUploadURL(t.Context(), "pre", 1)
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
	_, err := c.GetUploadURL(t.Context(), "pre", 1)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = c.GetUploadURL(ctx, "pre", 1)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, p.count(pathGetUploadURL))

	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	_, err = c.GetUploadURL(ctx, "pre", 1)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, p.count(pathGetUploadURL))
}

// TestRateLimitDeadline: a wait that would outlast the caller's deadline
// fails with context.DeadlineExceeded, like any other wait of the SDK.
func TestRateLimitDeadline(t *testing.T) {
	t.Parallel()
	p := newFakePlatform(t)
	c := newTestClient(t, p, WithRateLimits(map[string]float64{pathGetUploadURL: 0.001}))
	_, err := c.GetUploadURL(t.Context(), "pre", 1)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	_, err = c.GetUploadURL(ctx, "pre", 1)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 1, p.count(pathGetUploadURL))
}

func TestLimitersWait(t *testing.T) {
	t.Parallel()
	var none limiters
	require.NoError(t, none.wait(t.Context(), pathCreate))
	assert.Nil(t, newLimiters(nil))
	assert.Nil(t, newLimiters(map[string]float64{}))

	l := newLimiters(map[string]float64{pathCreate: 1000, pathMkdir: 0})
	assert.NotContains(t, l, pathMkdir)
	require.NoError(t, l.wait(t.Context(), pathCreate))
	require.NoError(t, l.wait(t.Context(), "/not/limited"))
}
