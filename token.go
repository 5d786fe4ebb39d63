package pan123

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultTokenCooldown is the token budget's window. The platform allows
// about 3 live access tokens per client ID, and minting more can log out
// the user's other sessions, so a Client mints its first token, then at most
// one more per cool-down, whatever fails (refused or expired tokens, lost
// answers): a 401 within the cool-down after a forced refresh is final.
const DefaultTokenCooldown = time.Minute

// Token is an access token with its expiry.
type Token struct {
	AccessToken string
	// ExpiresAt is the platform's expiredAt. Zero means unknown (a token given
	// with WithAccessToken, or an expiredAt missing or unreadable): it is used
	// until the platform refuses it.
	ExpiresAt time.Time
}

// TokenStore shares one access token between processes or clients of the same
// client ID. The platform allows only 3 live tokens per client ID; a store
// (a file, a database row, a cache key) keeps a fleet of workers at one.
// Implementations must be safe for concurrent use. A panic in Load or Save
// is recovered and becomes the error of the calls waiting for the token.
type TokenStore interface {
	// Load returns the stored token, or a zero Token when there is none.
	Load(ctx context.Context) (Token, error)
	// Save stores a token the client has just obtained.
	Save(ctx context.Context, t Token) error
}

// tokenFetchTimeout bounds one token fetch, retries included. The fetch
// runs on its own context: a caller that gives up does not waste the token
// being minted, which the other callers then use.
const tokenFetchTimeout = 2 * time.Minute

// tokenSource caches the access token, renews it a margin before expiry,
// and lets only one renewal run at a time however many goroutines need it.
//
// It is the one place that bounds minting (the platform allows about 3
// live tokens per client ID; more log out the user's other sessions): the
// first token, then at most one more per cool-down, whatever fails. When
// the budget is spent, a refused token's error is final until the
// cool-down ends, and a token due for renewal by time is used meanwhile.
type tokenSource struct {
	canFetch bool
	fetch    func(ctx context.Context) (Token, error) // access_token; never goes through the 401 path
	store    TokenStore
	margin   time.Duration
	cooldown time.Duration
	now      func() time.Time
	log      *slog.Logger
	warned   atomic.Bool // an unusable expiredAt was logged

	mu        sync.Mutex
	cur       Token
	refreshAt time.Time // when cur should be renewed; zero = never by time
	refused   string    // the last token the platform refused
	lastErr   error     // why the last token was dropped or the last fetch failed
	fetched   bool      // a fetch has counted against the budget
	forcedAt  time.Time // when the last counted fetch after the first started
	flight    *tokenCall
}

type tokenCall struct {
	done chan struct{}
	tok  Token
	err  error
}

// errCooldown marks a token refused, or not fetched, because the minting
// budget of the cool-down is spent.
var errCooldown = errors.New("no new access token before the cool-down ends")

// set installs t as the current token. Caller holds mu.
func (s *tokenSource) set(t Token) {
	s.cur = t
	s.refreshAt = time.Time{}
	now := s.now()
	switch {
	case t.ExpiresAt.IsZero():
		// Unknown expiry: used until the platform refuses it.
	case !t.ExpiresAt.After(now):
		// Past on arrival: the local clock runs ahead of the platform's.
		// Renewing would give another such token; use it until refused.
		s.warnExpiry("expiredAt already past; token kept until refused", "expiredAt", t.ExpiresAt, "now", now)
	default:
		s.refreshAt = t.ExpiresAt.Add(-s.margin)
		// A token whose life is shorter than the margin is still used for
		// half of it, so that short-lived tokens do not cause a refresh storm.
		if half := now.Add(t.ExpiresAt.Sub(now) / 2); s.refreshAt.Before(half) {
			s.refreshAt = half
		}
	}
}

// warnExpiry logs a problem with expiredAt once per Client.
func (s *tokenSource) warnExpiry(msg string, args ...any) {
	if !s.warned.Swap(true) {
		s.log.Warn("pan123: "+msg, args...)
	}
}

// fresh reports whether cur may be sent. Caller holds mu.
func (s *tokenSource) fresh() bool {
	return s.cur.AccessToken != "" && (s.refreshAt.IsZero() || s.now().Before(s.refreshAt))
}

// valid reports whether cur has an expiry that has not come yet (it may be
// due for renewal). Caller holds mu.
func (s *tokenSource) valid() bool {
	return s.cur.AccessToken != "" && !s.cur.ExpiresAt.IsZero() && s.now().Before(s.cur.ExpiresAt)
}

// mayFetch reports whether the minting budget allows a fetch now: the
// first one, then one per cool-down. Caller holds mu.
func (s *tokenSource) mayFetch() bool {
	return !s.fetched || s.forcedAt.IsZero() || s.now().Sub(s.forcedAt) >= s.cooldown
}

// token returns a token to send, renewing it first when needed. The
// renewal runs in its own goroutine on a context detached from ctx (with
// tokenFetchTimeout), and the token is kept for the others either way. A
// caller whose token is due by time but not expired sends it meanwhile;
// one without a valid token waits for the renewal or for ctx, whichever
// ends first.
func (s *tokenSource) token(ctx context.Context) (string, error) {
	if err := checkCtx(ctx); err != nil {
		return "", err
	}
	s.mu.Lock()
	if s.cur.AccessToken != "" && (s.fresh() || !s.mayFetch()) {
		t := s.cur.AccessToken
		s.mu.Unlock()
		return t, nil
	}
	c := s.flight
	if c == nil {
		c = &tokenCall{done: make(chan struct{})}
		s.flight = c
		go s.run(context.WithoutCancel(ctx), c)
	}
	if s.valid() {
		// Due for renewal by time but not expired: keep sending it while
		// the renewal runs; nobody waits for the round trip.
		t := s.cur.AccessToken
		s.mu.Unlock()
		return t, nil
	}
	s.mu.Unlock()
	select {
	case <-c.done:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if c.err != nil {
		// A renewal due by time failed: the current token, not refused,
		// may still be accepted.
		s.mu.Lock()
		t := s.cur.AccessToken
		s.mu.Unlock()
		if t != "" {
			return t, nil
		}
		return "", c.err
	}
	return c.tok.AccessToken, nil
}

// run is one renewal. Whatever happens in it, a panic included (turned
// into the renewal's error, as no caller's goroutine could recover it), the
// single-flight is cleared and the waiters are released.
func (s *tokenSource) run(ctx context.Context, c *tokenCall) {
	ctx, cancel := context.WithTimeout(ctx, tokenFetchTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			c.tok, c.err = Token{}, fmt.Errorf("pan123: get access token: panic: %v", r)
		}
		s.mu.Lock()
		if c.err == nil {
			s.set(c.tok)
		}
		s.flight = nil
		s.mu.Unlock()
		close(c.done)
	}()
	c.tok, c.err = s.renew(ctx)
}

// renew finds a usable token: a shared one from the store, else a new one
// if the budget allows.
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
	s.mu.Lock()
	if !s.mayFetch() {
		err := s.cooldownErr()
		s.mu.Unlock()
		return Token{}, err
	}
	s.mu.Unlock()
	r, shared, err := s.lease(ctx) // with a TokenLeaser, one process at a time mints
	if err != nil || shared.AccessToken != "" {
		return shared, err
	}
	defer r.release(ctx)
	start := s.now()
	t, err := s.fetch(ctx)
	s.mu.Lock()
	if fetchCounts(err) {
		if s.fetched {
			s.forcedAt = start
		}
		s.fetched = true
	}
	if err != nil {
		s.lastErr = err
	}
	s.mu.Unlock()
	if err != nil {
		return Token{}, wrapf(err, "get access token")
	}
	s.log.DebugContext(ctx, "pan123: new access token", "expires_at", t.ExpiresAt)
	if s.store != nil {
		if err := r.save(ctx, t); err != nil {
			s.log.WarnContext(ctx, "pan123: token store save failed", "err", err)
		}
	}
	return t, nil
}

// fetchCounts reports whether a fetch that ended with err counts against
// the budget: it minted a token, may have (an answer lost or garbled), or
// was refused (code 401: asking again at once cannot help). A throttled
// fetch (429), one that never left (dial error) and one the platform
// answered with another error code do not count: no token was handed out.
func fetchCounts(err error) bool {
	return err == nil || errors.Is(err, ErrUnauthorized) || (!notSent(err) && !envelopeRefusal(err))
}

// cooldownErr is the final error while the budget is spent: the platform's
// last refusal (or the last fetch failure), marked with errCooldown and
// ErrUnauthorized. Caller holds mu.
func (s *tokenSource) cooldownErr() error {
	cause := s.lastErr
	if cause == nil {
		cause = errors.New("access token refused")
	}
	until := s.forcedAt.Add(s.cooldown).Format(time.RFC3339)
	if !errors.Is(cause, ErrUnauthorized) {
		return fmt.Errorf("%w: %w until %s (at most one forced refresh per %v): %w", ErrUnauthorized, errCooldown, until, s.cooldown, cause)
	}
	return fmt.Errorf("%w (%w until %s; at most one forced refresh per %v)", cause, errCooldown, until, s.cooldown)
}

func (s *tokenSource) refusedToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// invalidate drops tok after the platform refused it with err (code 401).
// Only the first report for a token counts, so a burst of 401s causes one
// renewal.
func (s *tokenSource) invalidate(tok string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur.AccessToken == tok {
		s.refused = tok
		s.lastErr = err
		s.cur = Token{}
		s.refreshAt = time.Time{}
	}
}

// refreshable reports a 401 that a new token may cure: not the token limit
// (a new token makes it worse) and not a refusal already final for the
// cool-down.
func refreshable(err error) bool {
	return errors.Is(err, ErrUnauthorized) && !errors.Is(err, ErrTokenLimit) && !errors.Is(err, errCooldown)
}

// warmToken fetches the access token in the background while the caller
// does local work (the hashing pass), so that on a real network its round
// trip and TLS handshake hide behind that work; a failure is left for the
// first request to report. The returned func waits for the fetch, or for
// ctx: call it before returning. (A fetch whose callers all gave up ends on
// its own, within tokenFetchTimeout, and keeps its token for later calls.)
func (c *Client) warmToken(ctx context.Context) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = c.tokens.token(ctx)
	}()
	return func() { <-done }
}
