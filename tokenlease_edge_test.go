package pan123_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// heldLeaser is a token store whose lease another process holds for ever
// and which has no token; it counts the loads.
type heldLeaser struct {
	ttl   time.Duration
	loads atomic.Int32
}

func (s *heldLeaser) Load(context.Context) (pan123.Token, error) {
	s.loads.Add(1)
	return pan123.Token{}, nil
}
func (s *heldLeaser) Save(context.Context, pan123.Token) error { return nil }
func (s *heldLeaser) TryLease(context.Context) (pan123.TokenLease, error) {
	return nil, nil // held elsewhere
}
func (s *heldLeaser) LeaseTTL() time.Duration { return s.ttl }

// TestLeaseWaitBacksOff: a client waiting for another process's lease polls
// the store at growing intervals (5 ms doubling to 100 ms), not in a busy
// loop: over the 200 ms it waits here, a dozen loads at most.
func TestLeaseWaitBacksOff(t *testing.T) {
	t.Parallel()
	srv := pan123test.NewServer()
	t.Cleanup(srv.Close)
	store := &heldLeaser{ttl: 100 * time.Millisecond}
	c, err := pan123.New(srv.ClientID, srv.ClientSecret, pan123.WithBaseURL(srv.URL), pan123.WithTokenStore(store),
		pan123.WithoutRateLimits())
	require.NoError(t, err)
	_, err = c.Drive.List(t.Context(), 0, 0, 100)
	require.NoError(t, err)
	assert.Equal(t, 1, srv.TokensIssued(), "minted without the lease after the wait")
	assert.GreaterOrEqual(t, store.loads.Load(), int32(2), "the store was polled")
	assert.LessOrEqual(t, store.loads.Load(), int32(12), "the store was polled in a busy loop")
}
