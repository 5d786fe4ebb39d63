package pan123

import (
	"context"
	"time"
)

// TokenLeaser is a [TokenStore] that also hands out a renewal lease, so that
// when processes sharing the store find the token stale at the same moment,
// one of them mints a token while the others wait and load what it saved.
// With a store that lacks it, every such process mints its own token.
//
// A [Client] renews through the lease like this. It takes the lease, loads
// the stored token again and uses it if it is fresh and not the token the
// platform has just refused; otherwise it mints a token, saves it with
// [TokenLease.Save] and releases the lease. While another process holds the
// lease, the client loads the store every few milliseconds (at most every
// 100 ms) and uses the first fresh token that appears. It waits at most
// twice [TokenLeaser.LeaseTTL] (a lease that lapses, then the next holder's)
// or until its context ends. When that time is up, or when the lease cannot
// be taken (an error from TryLease), it mints without the lease, as with a
// plain store, and logs a warning.
//
// [FileTokenStore] implements it for the processes of one machine; the
// module github.com/go-pan123/pan123/redisstore for processes on many.
type TokenLeaser interface {
	TokenStore
	// TryLease takes the renewal lease when no one holds it. It returns a
	// nil lease and a nil error when another holder has it.
	TryLease(ctx context.Context) (TokenLease, error)
	// LeaseTTL is the longest a lease keeps the others waiting: it lapses
	// at the latest this long after it was taken, or when its holder exits.
	LeaseTTL() time.Duration
}

// TokenLease is a renewal lease taken with [TokenLeaser.TryLease]. It is used
// by one goroutine.
type TokenLease interface {
	// Save stores a token minted under the lease. If the lease has lapsed
	// and a token minted under a later lease is stored, Save must leave it
	// in place and return an error.
	Save(ctx context.Context, t Token) error
	// Release ends the lease so that another process can take it.
	Release(ctx context.Context) error
}

// How often a client waiting for another process's lease loads the store:
// every leasePollMin at first, doubling up to leasePollMax.
const (
	leasePollMin = 5 * time.Millisecond
	leasePollMax = 100 * time.Millisecond
	// leaseReleaseTimeout bounds Release, which runs even when the
	// renewal's context has ended.
	leaseReleaseTimeout = 5 * time.Second
)

// renewal is where renew saves a token it mints: through a lease when one
// is held, else straight to the store (which may be nil).
type renewal struct {
	store TokenStore
	lease TokenLease
}

// lease prepares a renewal. With a [TokenLeaser] store it waits for the
// lease; a fresh token that another process saved meanwhile is returned
// instead (with a nil renewal). The caller must call release.
func (s *tokenSource) lease(ctx context.Context) (_ *renewal, _ Token, err error) {
	r := &renewal{store: s.store}
	l, ok := s.store.(TokenLeaser)
	if !ok {
		return r, Token{}, nil
	}
	handed := false // r.lease goes to the caller; else it is released here, even on a panic
	defer func() {
		if !handed {
			r.release(ctx)
		}
	}()
	// Twice the TTL: a dead holder's lease lapses, and the next holder
	// mints. Never past half the fetch's own deadline, so that the fallback
	// (minting without the lease) still has time to run.
	deadline := time.Now().Add(min(2*l.LeaseTTL(), tokenFetchTimeout/2))
	for wait := leasePollMin; ; wait = min(2*wait, leasePollMax) {
		r.lease, err = l.TryLease(ctx)
		if err != nil {
			r.lease = nil
			if ctx.Err() != nil {
				return nil, Token{}, ctx.Err()
			}
			s.log.WarnContext(ctx, "pan123: token store lease failed; renewing without it", "err", err)
			return r, Token{}, nil
		}
		if t, err := l.Load(ctx); err == nil && s.usable(t) {
			return nil, t, nil
		}
		if r.lease != nil {
			handed = true
			return r, Token{}, nil
		}
		if time.Now().After(deadline) {
			s.log.WarnContext(ctx, "pan123: token store lease still held by another process; renewing without it")
			return r, Token{}, nil
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return nil, Token{}, err
		}
	}
}

// save stores t through the lease, or in the store.
func (r *renewal) save(ctx context.Context, t Token) error {
	switch {
	case r.lease != nil:
		return r.lease.Save(ctx, t)
	case r.store != nil:
		return r.store.Save(ctx, t)
	}
	return nil
}

// release ends the lease, if any; it runs even after ctx has ended.
func (r *renewal) release(ctx context.Context) {
	if r == nil || r.lease == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaseReleaseTimeout)
	defer cancel()
	_ = r.lease.Release(ctx) // a lease not released lapses by itself
}

// usable reports whether a stored token may be used instead of minting one:
// it is set, not the token the platform last refused, and not about to expire.
func (s *tokenSource) usable(t Token) bool {
	return t.AccessToken != "" && t.AccessToken != s.refusedToken() &&
		(t.ExpiresAt.IsZero() || s.now().Before(t.ExpiresAt.Add(-s.margin)))
}
