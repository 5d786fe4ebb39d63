package pan123

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

// edgeClient is a client of a fresh pan123test fake, with fast retries and no
// pacing. Internal tests use it to reach the client's clock and settings.
func edgeClient(t *testing.T, srvOpts []pan123test.Option, opts ...Option) (*pan123test.Server, *Client) {
	t.Helper()
	srv := pan123test.NewServer(srvOpts...)
	t.Cleanup(srv.Close)
	base := []Option{WithBaseURL(srv.URL), WithoutRateLimits(), WithRetry(3, time.Millisecond, 2*time.Millisecond)}
	c, err := New(srv.ClientID, srv.ClientSecret, append(base, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return srv, c
}

// leapingClock moves a step forward on every reading: each look at the time
// finds the token cool-down over.
type leapingClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *leapingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

// TestToken401RefreshesOnceAfterCooldown: a call refused with 401 refreshes
// the token and is replayed once, and a second 401 ends it, even when the
// cool-down between mints has passed meanwhile (a platform that answers
// slower than the cool-down). The minting budget alone would let such a call
// mint and replay forever.
func TestToken401RefreshesOnceAfterCooldown(t *testing.T) {
	t.Parallel()
	srv, c := edgeClient(t, nil)
	clk := &leapingClock{t: time.Now(), step: DefaultTokenCooldown + time.Second}
	c.now = clk.Now
	srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Code: 401, Times: -1})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := c.Drive.UploadURL(ctx, "pre", 1)
	require.ErrorIs(t, err, ErrUnauthorized)
	require.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 2, srv.Count(pan123test.OpGetUploadURL), "the call and one replay")
	assert.Equal(t, 2, srv.Count(pan123test.OpAccessToken), "the first token and one refresh")
}
