package pan123_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// memLeaser is a TokenLeaser in memory whose lease another process may
// hold (held), for the tests of the client's side of the lease.
type memLeaser struct {
	ttl      time.Duration
	leaseErr error // returned by TryLease
	saveErr  error // returned by the lease's Save

	mu        sync.Mutex
	loadPanic bool
	tok       pan123.Token
	held      bool
	events    []string
	loaded    chan struct{} // gets a value on every Load (when there is room)
}

func newMemLeaser(tok pan123.Token) *memLeaser {
	return &memLeaser{ttl: time.Minute, tok: tok, loaded: make(chan struct{}, 1)}
}

func (m *memLeaser) event(e string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, e)
}

func (m *memLeaser) Events() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.events...)
}

func (m *memLeaser) Load(context.Context) (pan123.Token, error) {
	select {
	case m.loaded <- struct{}{}:
	default:
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loadPanic && m.held {
		panic("Load under the lease")
	}
	return m.tok, nil
}

func (m *memLeaser) Save(_ context.Context, t pan123.Token) error {
	m.event("save")
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tok = t
	return nil
}

func (m *memLeaser) TryLease(context.Context) (pan123.TokenLease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.leaseErr != nil || m.held {
		return nil, m.leaseErr
	}
	m.held = true
	m.events = append(m.events, "lease")
	return memLease{m}, nil
}

func (m *memLeaser) LeaseTTL() time.Duration { return m.ttl }

type memLease struct{ m *memLeaser }

func (l memLease) Save(ctx context.Context, t pan123.Token) error {
	l.m.event("lease save")
	if l.m.saveErr != nil {
		return l.m.saveErr
	}
	return l.m.Save(ctx, t)
}

func (l memLease) Release(context.Context) error {
	l.m.event("release")
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	l.m.held = false
	return nil
}

// waitLoad waits for a Load of store by a call that ends on done.
func waitLoad(t *testing.T, store *memLeaser, done <-chan error) {
	t.Helper()
	select {
	case <-store.loaded:
	case err := <-done:
		t.Fatalf("the call ended (err %v) while it should wait for the lease", err)
	}
}

// leaseClient returns a fake and a client sharing store, logging to log.
func leaseClient(t *testing.T, store pan123.TokenStore, secret string, log *bytes.Buffer) (*pan123test.Server, *pan123.Client) {
	t.Helper()
	srv := pan123test.NewServer()
	t.Cleanup(srv.Close)
	if secret == "" {
		secret = srv.ClientSecret
	}
	c, err := pan123.New(srv.ClientID, secret, pan123.WithBaseURL(srv.URL), pan123.WithTokenStore(store),
		pan123.WithoutRateLimits(), pan123.WithRetry(1, time.Millisecond, time.Millisecond),
		pan123.WithLogger(slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	require.NoError(t, err)
	return srv, c
}

func TestLeaseMintsAndSavesUnderTheLease(t *testing.T) {
	store := newMemLeaser(pan123.Token{})
	var log bytes.Buffer
	srv, c := leaseClient(t, store, "", &log)
	_, err := c.Drive.List(t.Context(), 0, 0, 100)
	require.NoError(t, err)
	require.Equal(t, 1, srv.TokensIssued())
	require.Equal(t, []string{"lease", "lease save", "save", "release"}, store.Events())
	require.Empty(t, log.String())
}

func TestLeaseReleasedWhenMintingFails(t *testing.T) {
	store := newMemLeaser(pan123.Token{})
	var log bytes.Buffer
	_, c := leaseClient(t, store, "wrong-secret", &log)
	_, err := c.Drive.List(t.Context(), 0, 0, 100)
	require.Error(t, err)
	require.Equal(t, []string{"lease", "release"}, store.Events())
}

// While another process holds the lease, the client loads the store until
// the token that process saves appears, and mints nothing.
func TestLeaseWaiterLoadsTheHoldersToken(t *testing.T) {
	t.Parallel()
	store := newMemLeaser(pan123.Token{})
	store.held = true
	var log bytes.Buffer
	srv, c := leaseClient(t, store, "", &log)
	done := make(chan error, 1)
	go func() {
		_, err := c.Drive.List(t.Context(), 0, 0, 100)
		done <- err
	}()
	for range 3 { // the first Load is renew's own; then it polls
		waitLoad(t, store, done)
	}
	require.NoError(t, store.Save(t.Context(), pan123.Token{AccessToken: srv.IssueToken()}))
	require.NoError(t, <-done)
	require.Zero(t, srv.TokensIssued())
	require.Empty(t, log.String())
}

// A caller whose context ends stops waiting; the renewal goes on without
// it and takes the token the holder saves, for the next call.
func TestLeaseWaitEndsWithTheContext(t *testing.T) {
	t.Parallel()
	store := newMemLeaser(pan123.Token{})
	store.held = true
	var log bytes.Buffer
	srv, c := leaseClient(t, store, "", &log)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := c.Drive.List(ctx, 0, 0, 100)
		done <- err
	}()
	waitLoad(t, store, done)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	require.NoError(t, store.Save(t.Context(), pan123.Token{AccessToken: srv.IssueToken()}))
	_, err := c.Drive.List(t.Context(), 0, 0, 100)
	require.NoError(t, err)
	require.Zero(t, srv.TokensIssued())
}

// A lease held for longer than twice its TTL (a holder alive but stuck) no
// longer holds the client back: it mints without the lease, and says so.
func TestLeaseWaitIsBounded(t *testing.T) {
	t.Parallel()
	store := newMemLeaser(pan123.Token{})
	store.held = true
	store.ttl = 10 * time.Millisecond
	var log bytes.Buffer
	srv, c := leaseClient(t, store, "", &log)
	start := time.Now()
	_, err := c.Drive.List(t.Context(), 0, 0, 100)
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), 2*store.ttl)
	require.Equal(t, 1, srv.TokensIssued())
	require.Equal(t, []string{"save"}, store.Events())
	require.Contains(t, log.String(), "still held by another process")
}

func TestLeaseErrorFallsBackToThePlainStore(t *testing.T) {
	store := newMemLeaser(pan123.Token{})
	store.leaseErr = errors.New("lock: no such device")
	var log bytes.Buffer
	srv, c := leaseClient(t, store, "", &log)
	_, err := c.Drive.List(t.Context(), 0, 0, 100)
	require.NoError(t, err)
	require.Equal(t, 1, srv.TokensIssued())
	require.Equal(t, []string{"save"}, store.Events())
	require.Contains(t, log.String(), "lease failed")
}

// A save refused under the lease (a newer token is stored) is logged; the
// token just minted is still used.
func TestLeaseSaveRefused(t *testing.T) {
	store := newMemLeaser(pan123.Token{})
	store.saveErr = errors.New("a newer token is stored")
	var log bytes.Buffer
	srv, c := leaseClient(t, store, "", &log)
	_, err := c.Drive.List(t.Context(), 0, 0, 100)
	require.NoError(t, err)
	require.Equal(t, 1, srv.TokensIssued())
	require.Equal(t, []string{"lease", "lease save", "release"}, store.Events())
	require.Contains(t, log.String(), "save failed")
}

// The token the platform refused is not taken back from the store, even
// when another process saved nothing newer: the lease holder mints.
func TestLeaseRefusedTokenIsNotReused(t *testing.T) {
	var log bytes.Buffer
	store := newMemLeaser(pan123.Token{})
	srv, c := leaseClient(t, store, "", &log)
	_, err := c.Drive.List(t.Context(), 0, 0, 100)
	require.NoError(t, err)
	srv.ExpireTokens()
	_, err = c.Drive.List(t.Context(), 0, 0, 100)
	require.NoError(t, err)
	require.Equal(t, 2, srv.TokensIssued())
	require.Equal(t, []string{"lease", "lease save", "save", "release", "lease", "lease save", "save", "release"}, store.Events())
}

// A panic in the store while the client holds the lease releases it.
func TestLeaseReleasedOnPanic(t *testing.T) {
	store := newMemLeaser(pan123.Token{})
	store.loadPanic = true
	var log bytes.Buffer
	_, c := leaseClient(t, store, "", &log)
	_, err := c.Drive.List(t.Context(), 0, 0, 100)
	require.ErrorContains(t, err, "panic")
	require.Equal(t, []string{"lease", "release"}, store.Events())
}
