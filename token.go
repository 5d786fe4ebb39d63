package pan123

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Token is an access token with its expiry.
type Token struct {
	AccessToken string
	// ExpiresAt is the platform's expiredAt. Zero means unknown (a token given
	// with WithAccessToken): it is used until the platform refuses it.
	ExpiresAt time.Time
}

// TokenStore shares one access token between processes or clients of the same
// client ID. The platform allows only 3 live tokens per client ID; a store
// (a file, a database row, a cache key) keeps a fleet of workers at one.
// Implementations must be safe for concurrent use.
type TokenStore interface {
	// Load returns the stored token, or a zero Token when there is none.
	Load(ctx context.Context) (Token, error)
	// Save stores a token the client has just obtained.
	Save(ctx context.Context, t Token) error
}

// tokenSource caches the access token, renews it a margin before expiry,
// and lets only one renewal run at a time however many goroutines need it.
type tokenSource struct {
	canFetch bool
	fetch    func(ctx context.Context) (Token, error) // access_token; never goes through the 401 path
	store    TokenStore
	margin   time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu        sync.Mutex
	cur       Token
	refreshAt time.Time // when cur should be renewed; zero = never by time
	refused   string    // the last token the platform refused
	flight    *tokenCall
}

type tokenCall struct {
	done chan struct{}
	tok  Token
	err  error
}

// set installs t as the current token. Caller holds mu.
func (s *tokenSource) set(t Token) {
	s.cur = t
	s.refreshAt = time.Time{}
	if !t.ExpiresAt.IsZero() {
		now := s.now()
		s.refreshAt = t.ExpiresAt.Add(-s.margin)
		// A token whose life is shorter than the margin is still used for
		// half of it, so that short-lived tokens do not cause a refresh storm.
		if half := now.Add(t.ExpiresAt.Sub(now) / 2); s.refreshAt.Before(half) {
			s.refreshAt = half
		}
	}
}

// fresh reports whether cur may be sent. Caller holds mu.
func (s *tokenSource) fresh() bool {
	return s.cur.AccessToken != "" && (s.refreshAt.IsZero() || s.now().Before(s.refreshAt))
}

// token returns a token to send, renewing it first when needed.
func (s *tokenSource) token(ctx context.Context) (string, error) {
	for {
		s.mu.Lock()
		if s.fresh() {
			t := s.cur.AccessToken
			s.mu.Unlock()
			return t, nil
		}
		if c := s.flight; c != nil {
			s.mu.Unlock()
			select {
			case <-c.done:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			if c.err == nil {
				return c.tok.AccessToken, nil
			}
			if isContextError(c.err) && ctx.Err() == nil {
				continue // the leader gave up on its own context; take over
			}
			return "", c.err
		}
		c := &tokenCall{done: make(chan struct{})}
		s.flight = c
		s.mu.Unlock()

		c.tok, c.err = s.renew(ctx)
		s.mu.Lock()
		if c.err == nil {
			s.set(c.tok)
		}
		s.flight = nil
		s.mu.Unlock()
		close(c.done)
		if c.err != nil {
			return "", c.err
		}
		return c.tok.AccessToken, nil
	}
}

// renew finds a usable token: a shared one from the store, else a new one.
func (s *tokenSource) renew(ctx context.Context) (Token, error) {
	if s.store != nil {
		t, err := s.store.Load(ctx)
		switch {
		case err != nil:
			s.log.WarnContext(ctx, "pan123: token store load failed", "err", err)
		case s.usable(t):
			return t, nil
		}
	}
	if !s.canFetch {
		return Token{}, fmt.Errorf("%w: the access token was refused or expired and no client credentials were given to renew it", ErrUnauthorized)
	}
	r, shared, err := s.lease(ctx) // with a TokenLeaser, one process at a time mints
	if err != nil || shared.AccessToken != "" {
		return shared, err
	}
	defer r.release(ctx)
	t, err := s.fetch(ctx)
	if err != nil {
		return Token{}, fmt.Errorf("get access token: %w", err)
	}
	s.log.DebugContext(ctx, "pan123: new access token", "expires_at", t.ExpiresAt)
	if s.store != nil {
		if err := r.save(ctx, t); err != nil {
			s.log.WarnContext(ctx, "pan123: token store save failed", "err", err)
		}
	}
	return t, nil
}

func (s *tokenSource) refusedToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// invalidate drops tok after the platform refused it (code 401). Only the
// first report for a token counts, so a burst of 401s causes one renewal.
func (s *tokenSource) invalidate(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur.AccessToken == tok {
		s.refused = tok
		s.cur = Token{}
		s.refreshAt = time.Time{}
	}
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// warmToken fetches the access token in the background while the caller
// does local work (the hashing pass), so that on a real network its round
// trip and TLS handshake hide behind that work; a failure is left for the
// first request to report. The returned func waits for the fetch: call it
// before returning, so that no goroutine outlives the upload.
func (c *Client) warmToken(ctx context.Context) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = c.tokens.token(ctx)
	}()
	return func() { <-done }
}
