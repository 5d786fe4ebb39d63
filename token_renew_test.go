package pan123

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTokenRenewalDueByTimeDoesNotBlock: once a token is due for renewal
// by time (within the margin of its expiry) but still valid, callers keep
// sending it while one renewal runs in the background; they wait for a
// renewal only when they have no valid token. Before, every caller waited
// for the access_token round trip at each renewal.
func TestTokenRenewalDueByTimeDoesNotBlock(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	entered, release := make(chan struct{}, 1), make(chan struct{})
	s := &tokenSource{
		canFetch: true,
		margin:   5 * time.Minute,
		cooldown: time.Minute,
		now:      clock,
		log:      discardLogger(),
		fetch: func(ctx context.Context) (Token, error) {
			entered <- struct{}{}
			<-release
			return Token{AccessToken: "tok-2", ExpiresAt: clock().Add(time.Hour)}, nil
		},
	}
	s.mu.Lock()
	s.fetched = true
	s.set(Token{AccessToken: "tok-1", ExpiresAt: now.Add(10 * time.Minute)})
	s.mu.Unlock()

	mu.Lock()
	now = now.Add(6 * time.Minute) // inside the margin, 4 minutes before expiry
	mu.Unlock()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for range 3 {
		tok, err := s.token(ctx)
		require.NoError(t, err, "a caller waited for the renewal")
		assert.Equal(t, "tok-1", tok)
	}
	<-entered // one renewal runs meanwhile
	close(release)
	require.Eventually(t, func() bool {
		tok, err := s.token(ctx)
		return err == nil && tok == "tok-2"
	}, 5*time.Second, time.Millisecond, "the renewed token is used once it arrives")
	select {
	case <-entered:
		t.Fatal("a second renewal ran")
	default:
	}
}
