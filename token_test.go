package pan123

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

// memStore is an in-memory TokenStore that counts its calls.
type memStore struct {
	mu          sync.Mutex
	tok         Token
	loads       int
	saves       int
	loadErr     error
	saveErr     error
	savedTokens []string
}

func (m *memStore) Load(context.Context) (Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	return m.tok, m.loadErr
}

func (m *memStore) Save(_ context.Context, t Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saves++
	m.savedTokens = append(m.savedTokens, t.AccessToken)
	if m.saveErr != nil {
		return m.saveErr
	}
	m.tok = t
	return nil
}

func (m *memStore) get() Token {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tok
}

// bearer is the token a request carried.
func bearer(r pan123test.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

func TestTokenCached(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil)
	pre := preupload(t, c)
	for range 20 {
		_, err := c.Drive.UploadURL(t.Context(), pre, 1)
		require.NoError(t, err)
	}
	assert.Equal(t, 1, srv.Count(pan123test.OpAccessToken))
	reqs := requestsOf(srv, pan123test.OpGetUploadURL)
	require.Len(t, reqs, 20)
	for _, r := range reqs {
		assert.Equal(t, bearer(reqs[0]), bearer(r))
	}
}

// TestTokenExpiredAtOffset: expiredAt is read with its +08:00 offset.
func TestTokenExpiredAtOffset(t *testing.T) {
	t.Parallel()
	_, c := newTestClient(t, []pan123test.Option{pan123test.WithExpiredAt(func(time.Time) any { return "2030-01-01T08:00:00+08:00" })})
	_, err := c.Drive.UploadDomains(t.Context())
	require.NoError(t, err)
	assert.True(t, c.tokens.cur.ExpiresAt.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)), "got %v", c.tokens.cur.ExpiresAt)
}

// TestTokenEarlyRefresh: a token is renewed once the clock is within the
// refresh margin of its expiredAt, not before. The expiry is given in +08:00
// while the clock is in UTC, so a parser ignoring the offset would fail.
func TestTokenEarlyRefresh(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := newFakeClock(start)
	srv, c := newTestClient(t, []pan123test.Option{pan123test.WithTokenTTL(time.Hour), pan123test.WithClock(clk.Now)},
		WithTokenRefreshMargin(5*time.Minute))
	c.now = clk.Now

	pre := preupload(t, c)
	call := func() {
		t.Helper()
		_, err := c.Drive.UploadURL(t.Context(), pre, 1)
		require.NoError(t, err)
	}
	call()
	require.Equal(t, 1, srv.Count(pan123test.OpAccessToken))
	_, off := c.tokens.cur.ExpiresAt.Zone()
	assert.Equal(t, 8*3600, off, "expiredAt keeps the offset it was sent with")
	assert.True(t, c.tokens.cur.ExpiresAt.Equal(start.Add(time.Hour)))

	clk.Advance(54 * time.Minute) // 6 min before expiry: still fresh
	call()
	assert.Equal(t, 1, srv.Count(pan123test.OpAccessToken))

	clk.Advance(2 * time.Minute) // 4 min before expiry: within the margin
	old := c.tokens.cur.AccessToken
	call() // sends the current token; the renewal runs in the background
	require.Eventually(t, func() bool {
		c.tokens.mu.Lock()
		defer c.tokens.mu.Unlock()
		return c.tokens.cur.AccessToken != old
	}, 10*time.Second, time.Millisecond, "renewed")
	call()
	assert.Equal(t, 2, srv.Count(pan123test.OpAccessToken))

	reqs := requestsOf(srv, pan123test.OpGetUploadURL)
	require.Len(t, reqs, 4)
	assert.Equal(t, bearer(reqs[0]), bearer(reqs[1]))
	assert.Equal(t, bearer(reqs[1]), bearer(reqs[2]), "still valid: sent while the renewal runs")
	assert.NotEqual(t, bearer(reqs[2]), bearer(reqs[3]), "the renewed token is sent")
}

// TestTokenShortLived: a token whose whole life is shorter than the margin
// is used for half of it, not renewed on every call.
func TestTokenShortLived(t *testing.T) {
	t.Parallel()
	clk := newFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	srv, c := newTestClient(t, []pan123test.Option{pan123test.WithTokenTTL(2 * time.Minute), pan123test.WithClock(clk.Now)},
		WithTokenRefreshMargin(5*time.Minute))
	c.now = clk.Now

	pre := preupload(t, c)
	for range 5 {
		_, err := c.Drive.UploadURL(t.Context(), pre, 1)
		require.NoError(t, err)
	}
	assert.Equal(t, 1, srv.Count(pan123test.OpAccessToken))
	clk.Advance(61 * time.Second) // past half its life, still valid: renewed in the background
	_, err := c.Drive.UploadURL(t.Context(), pre, 1)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return srv.Count(pan123test.OpAccessToken) == 2 }, 10*time.Second, time.Millisecond)
	_, err = c.Drive.UploadURL(t.Context(), pre, 1)
	require.NoError(t, err)
	assert.Equal(t, 2, srv.Count(pan123test.OpAccessToken), "one renewal")
}

// TestTokenUnreadableExpiry: a token whose expiredAt cannot be parsed is used
// until the platform refuses it.
func TestTokenUnreadableExpiry(t *testing.T) {
	t.Parallel()
	clk := newFakeClock(time.Now())
	srv, c := newTestClient(t, []pan123test.Option{pan123test.WithExpiredAt(func(time.Time) any { return "in 90 days" })})
	c.now = clk.Now
	pre := preupload(t, c)
	_, err := c.Drive.UploadURL(t.Context(), pre, 1)
	require.NoError(t, err)
	assert.True(t, c.tokens.cur.ExpiresAt.IsZero())
	clk.Advance(365 * 24 * time.Hour)
	_, err = c.Drive.UploadURL(t.Context(), pre, 1)
	require.NoError(t, err)
	assert.Equal(t, 1, srv.Count(pan123test.OpAccessToken))
}

// TestTokenSingleFlight: 100 goroutines finding the token expired cause
// exactly one access_token call.
func TestTokenSingleFlight(t *testing.T) {
	t.Parallel()
	clk := newFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	// The renewal is held until every goroutine has started, so that they
	// pile up on it.
	var hold atomic.Bool
	release := make(chan struct{})
	tr := &countingTransport{next: &http.Transport{}, before: func(r *http.Request) {
		if r.URL.Path == pathAccessToken && hold.Load() {
			<-release
		}
	}}
	srv, c := newTestClient(t, []pan123test.Option{pan123test.WithTokenTTL(time.Hour), pan123test.WithClock(clk.Now)},
		WithHTTPClient(&http.Client{Transport: tr}))
	c.now = clk.Now

	pre := preupload(t, c)
	_, err := c.Drive.UploadURL(t.Context(), pre, 1)
	require.NoError(t, err)
	require.Equal(t, 1, srv.Count(pan123test.OpAccessToken))
	clk.Advance(2 * time.Hour) // expired

	hold.Store(true)
	var started sync.WaitGroup
	started.Add(100)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			started.Done()
			_, err := c.Drive.UploadURL(t.Context(), pre, 1)
			errs <- err
		})
	}
	started.Wait()
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, 2, srv.Count(pan123test.OpAccessToken), "one renewal for 100 callers")
	assert.Equal(t, 101, srv.Count(pan123test.OpGetUploadURL))
}

// TestToken401RefreshReplay: a call refused with 401 refreshes the token
// once and is replayed once with the new token.
func TestToken401RefreshReplay(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil)
	pre := preupload(t, c)
	_, err := c.Drive.UploadURL(t.Context(), pre, 1)
	require.NoError(t, err)

	srv.ExpireTokens()
	_, err = c.Drive.ListParts(t.Context(), pre)
	require.NoError(t, err)
	assert.Equal(t, 2, srv.Count(pan123test.OpAccessToken), "exactly one extra access_token call")
	reqs := requestsOf(srv, pan123test.OpListUploadParts)
	require.Len(t, reqs, 2)
	assert.NotEqual(t, bearer(reqs[0]), bearer(reqs[1]), "the replay carries the new token")
}

// TestToken401Burst: many calls refused at once with the same token renew it once.
func TestToken401Burst(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil)
	pre := preupload(t, c)
	_, err := c.Drive.UploadURL(t.Context(), pre, 1)
	require.NoError(t, err)
	srv.ExpireTokens()

	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 50 {
		wg.Go(func() {
			if _, err := c.Drive.UploadURL(t.Context(), pre, 1); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Zero(t, failed.Load())
	assert.Equal(t, 2, srv.Count(pan123test.OpAccessToken), "one renewal for the whole burst")
}

// TestToken401NoLoopWhenRefreshFails: if access_token itself answers 401, the
// error comes back at once; nothing loops.
func TestToken401NoLoopWhenRefreshFails(t *testing.T) {
	t.Parallel()
	t.Run("first token", func(t *testing.T) {
		t.Parallel()
		srv, c := newTestClient(t, nil, WithRetry(5, time.Millisecond, time.Millisecond))
		srv.Inject(pan123test.Fault{Op: pan123test.OpAccessToken, Code: 401, Message: "clientSecret invalid", Times: -1})
		_, err := c.Drive.UploadURL(t.Context(), "pre", 1)
		require.ErrorIs(t, err, ErrUnauthorized)
		assert.Equal(t, 1, srv.Count(pan123test.OpAccessToken))
		assert.Len(t, srv.Requests(), 1)
	})
	t.Run("renewal after 401", func(t *testing.T) {
		t.Parallel()
		srv, c := newTestClient(t, nil, WithRetry(5, time.Millisecond, time.Millisecond))
		_, err := c.Drive.UploadDomains(t.Context())
		require.NoError(t, err)
		srv.ExpireTokens()
		srv.Inject(pan123test.Fault{Op: pan123test.OpAccessToken, Code: 401, Message: pan123test.MsgTokenLimit, Times: -1})

		_, err = c.Drive.UploadDomains(t.Context())
		require.ErrorIs(t, err, ErrUnauthorized)
		assert.Equal(t, 2, srv.Count(pan123test.OpAccessToken))
		assert.Equal(t, 2, srv.Count(pan123test.OpV2Domain))
		assert.Len(t, srv.Requests(), 4)

		// The next call within the cool-down sends nothing: no token to
		// send, and the platform refused to mint one.
		_, err = c.Drive.UploadDomains(t.Context())
		require.ErrorIs(t, err, ErrUnauthorized)
		require.ErrorIs(t, err, ErrTokenLimit)
		assert.Equal(t, 2, srv.Count(pan123test.OpAccessToken))
		assert.Len(t, srv.Requests(), 4)
	})
}

// TestTokenFetchFailureRetriedOnce: a failing access_token goes through the
// retry policy once; the call that needed the token does not retry it again
// (which would multiply the attempts: maxAttempts² requests). Only answers
// that prove no token was minted are retried: an ambiguous one (a gateway
// page, a reset after sending) may have minted one, and is not.
func TestTokenFetchFailureRetriedOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fail  pan123test.Fault // every access_token answer
		calls int
	}{
		{"http 503 page", pan123test.Fault{Status: http.StatusServiceUnavailable, Body: "down"}, 1},
		{"code 429", pan123test.Fault{Code: 429}, 3},
		{"code 502 envelope", pan123test.Fault{Status: http.StatusBadGateway}, 3},
		{"reset", pan123test.Fault{Drop: true}, 1},
		{"no token in the answer", pan123test.Fault{Body: `{"code":0,"message":"ok","data":{"accessToken":""},"x-traceID":"t"}`}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newTestClient(t, nil, WithRetry(3, time.Millisecond, time.Millisecond))
			tt.fail.Op, tt.fail.Times = pan123test.OpAccessToken, -1
			srv.Inject(tt.fail)
			_, err := c.Drive.UploadURL(t.Context(), "pre", 1)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "access token")
			assert.Equal(t, tt.calls, srv.Count(pan123test.OpAccessToken))
			assert.Zero(t, srv.Count(pan123test.OpGetUploadURL))
		})
	}
}

// TestAccessTokenWithoutCredentials: a refused WithAccessToken token is
// ErrUnauthorized, without any access_token call.
func TestAccessTokenWithoutCredentials(t *testing.T) {
	t.Parallel()
	srv, _ := newTestClient(t, nil)
	given := srv.IssueToken()
	c, err := New("", "", WithBaseURL(srv.URL), WithAccessToken(given), WithoutRateLimits(),
		WithRetry(3, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)

	pre := preupload(t, c)
	_, err = c.Drive.UploadURL(t.Context(), pre, 1)
	require.NoError(t, err)
	assert.Equal(t, given, bearer(requestsOf(srv, pan123test.OpGetUploadURL)[0]))

	srv.ExpireTokens()
	_, err = c.Drive.UploadURL(t.Context(), pre, 1)
	require.ErrorIs(t, err, ErrUnauthorized)
	_, err = c.Drive.UploadURL(t.Context(), pre, 1)
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.Zero(t, srv.Count(pan123test.OpAccessToken))
	assert.Equal(t, 2, srv.Count(pan123test.OpGetUploadURL), "a refused token is not sent again")
}

// TestTokenStoreShared: a second client of the same store reuses the first
// client's token without calling access_token.
func TestTokenStoreShared(t *testing.T) {
	t.Parallel()
	store := &memStore{}
	srv, c1 := newTestClient(t, nil, WithTokenStore(store))
	_, err := c1.Drive.UploadDomains(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, srv.Count(pan123test.OpAccessToken))
	require.Equal(t, 1, store.saves)
	saved := store.get()
	require.NotEmpty(t, saved.AccessToken)
	assert.False(t, saved.ExpiresAt.IsZero())

	c2, err := New(testClientID, testClientSecret, WithBaseURL(srv.URL), WithTokenStore(store), WithoutRateLimits())
	require.NoError(t, err)
	t.Cleanup(c2.CloseIdleConnections)
	_, err = c2.Drive.UploadDomains(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, srv.Count(pan123test.OpAccessToken), "the stored token is reused")
	reqs := requestsOf(srv, pan123test.OpV2Domain)
	require.Len(t, reqs, 2)
	assert.Equal(t, saved.AccessToken, bearer(reqs[1]))

	// A client with only the store (no credentials) works too.
	c3, err := New("", "", WithBaseURL(srv.URL), WithTokenStore(store), WithoutRateLimits())
	require.NoError(t, err)
	t.Cleanup(c3.CloseIdleConnections)
	_, err = c3.Drive.UploadDomains(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, srv.Count(pan123test.OpAccessToken))
}

// TestTokenStoreRefusedNotReused: a stored token the platform refuses is not
// loaded again; a new one is fetched and saved.
func TestTokenStoreRefusedNotReused(t *testing.T) {
	t.Parallel()
	store := &memStore{tok: Token{AccessToken: "stale-token", ExpiresAt: time.Now().Add(24 * time.Hour)}}
	srv, c := newTestClient(t, nil, WithTokenStore(store))

	_, err := c.Drive.UploadDomains(t.Context())
	require.NoError(t, err)
	reqs := requestsOf(srv, pan123test.OpV2Domain)
	require.Len(t, reqs, 2)
	assert.Equal(t, "stale-token", bearer(reqs[0]))
	assert.NotEqual(t, "stale-token", bearer(reqs[1]))
	assert.Equal(t, 1, srv.Count(pan123test.OpAccessToken))
	assert.Equal(t, bearer(reqs[1]), store.get().AccessToken, "the new token is shared")
}

// TestTokenStoreNearExpiry: a stored token within the margin is not used.
func TestTokenStoreNearExpiry(t *testing.T) {
	t.Parallel()
	srv, _ := newTestClient(t, nil)
	old := srv.IssueToken()
	store := &memStore{tok: Token{AccessToken: old, ExpiresAt: time.Now().Add(time.Minute)}}
	c, err := New(testClientID, testClientSecret, WithBaseURL(srv.URL), WithTokenStore(store), WithoutRateLimits())
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	_, err = c.Drive.UploadDomains(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, srv.Count(pan123test.OpAccessToken))
	assert.NotEqual(t, old, bearer(requestsOf(srv, pan123test.OpV2Domain)[0]))
}

// TestTokenStoreFailures: a failing store is logged and worked around.
func TestTokenStoreFailures(t *testing.T) {
	t.Parallel()
	store := &memStore{loadErr: errors.New("disk on fire"), saveErr: errors.New("read-only")}
	var logs syncBuffer
	srv, c := newTestClient(t, nil, WithTokenStore(store), WithLogger(debugLogger(t, &logs)))
	_, err := c.Drive.UploadDomains(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, srv.Count(pan123test.OpAccessToken))
	assert.Contains(t, logs.String(), "disk on fire")
	assert.Contains(t, logs.String(), "read-only")
}

// TestTokenSourceLeaderCancelled: when the goroutine that started the
// token fetch gives up (its ctx is cancelled), the fetch goes on and the
// others get its token: nothing is minted twice.
func TestTokenSourceLeaderCancelled(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	s := &tokenSource{
		canFetch: true,
		margin:   time.Minute,
		cooldown: time.Minute,
		now:      time.Now,
		log:      discardLogger(),
		fetch: func(ctx context.Context) (Token, error) {
			calls.Add(1)
			close(entered)
			<-release
			return Token{AccessToken: "tok-1", ExpiresAt: time.Now().Add(time.Hour)}, ctx.Err()
		},
	}
	leaderCtx, cancel := context.WithCancel(t.Context())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := s.token(leaderCtx)
		leaderErr <- err
	}()
	<-entered
	followerTok := make(chan string, 1)
	go func() {
		tok, err := s.token(t.Context())
		assert.NoError(t, err)
		followerTok <- tok
	}()
	cancel()
	require.ErrorIs(t, <-leaderErr, context.Canceled)
	close(release)
	assert.Equal(t, "tok-1", <-followerTok)
	assert.Equal(t, int32(1), calls.Load())
}

// TestTokenSourceWaiterCancelled: a goroutine waiting for another's renewal
// returns when its own ctx is cancelled.
func TestTokenSourceWaiterCancelled(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	s := &tokenSource{
		canFetch: true,
		now:      time.Now,
		log:      discardLogger(),
		fetch: func(ctx context.Context) (Token, error) {
			close(entered)
			<-release
			return Token{AccessToken: "tok"}, nil
		},
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tok, err := s.token(t.Context())
		assert.NoError(t, err)
		assert.Equal(t, "tok", tok)
	}()
	<-entered
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.token(ctx)
	require.ErrorIs(t, err, context.Canceled)
	close(release)
	<-done
}
