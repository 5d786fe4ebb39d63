package pan123

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// foreverHeld is a token store whose lease another process holds for ever.
type foreverHeld struct{ ttl time.Duration }

func (foreverHeld) Load(context.Context) (Token, error)          { return Token{}, nil }
func (foreverHeld) Save(context.Context, Token) error            { return nil }
func (foreverHeld) TryLease(context.Context) (TokenLease, error) { return nil, nil }
func (s foreverHeld) LeaseTTL() time.Duration                    { return s.ttl }

// TestLeaseWaitDeadline: a client waits for another process's lease twice
// its TTL, but never past half the token fetch's own deadline, so that
// minting without the lease still has time; then it goes on without the
// lease. In a synctest bubble the waits are exact.
func TestLeaseWaitDeadline(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ttl, want time.Duration
	}{
		{ttl: 100 * time.Millisecond, want: 200 * time.Millisecond},
		{ttl: 10 * time.Minute, want: tokenFetchTimeout / 2},
	} {
		synctest.Test(t, func(t *testing.T) {
			s := &tokenSource{store: foreverHeld{ttl: tc.ttl}, now: time.Now, log: discardLogger()}
			start := time.Now()
			r, tok, err := s.lease(t.Context())
			waited := time.Since(start)
			require.NoError(t, err)
			assert.Empty(t, tok.AccessToken)
			require.NotNil(t, r, "a renewal without the lease")
			assert.Nil(t, r.lease)
			assert.GreaterOrEqual(t, waited, tc.want, "TTL %v", tc.ttl)
			assert.Less(t, waited, tc.want+leasePollMax+time.Millisecond, "TTL %v", tc.ttl)
		})
	}
}
