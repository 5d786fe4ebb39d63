package pan123

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

// Credentials the fake platform accepts. They look like secrets on purpose:
// the redaction tests search for them in logs and errors.
const (
	testClientID     = "test-client-id"
	testClientSecret = "SECRET-client-secret-4242"
	testMD5          = "0123456789abcdef0123456789abcdef"
)

// newTestClient starts a pan123test fake that takes the test credentials
// (srvOpts come after and win) and returns it with a client of it that
// retries fast (3 attempts) and does not pace; opts come last and win. The
// fake closes when the test ends, then the client's idle connections.
func newTestClient(t *testing.T, srvOpts []pan123test.Option, opts ...Option) (*pan123test.Server, *Client) {
	t.Helper()
	srv := pan123test.NewServer(append([]pan123test.Option{pan123test.WithCredentials(testClientID, testClientSecret)}, srvOpts...)...)
	base := []Option{WithBaseURL(srv.URL), WithoutRateLimits(), WithRetry(3, time.Millisecond, 2*time.Millisecond)}
	c, err := New(testClientID, testClientSecret, append(base, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.data.CloseIdleConnections)
	t.Cleanup(srv.Close) // runs first
	return srv, c
}

// preupload opens a V1 upload session for a 1-byte file on c's fake and
// returns its preuploadID: a session get_upload_url and list_upload_parts
// accept.
func preupload(t *testing.T, c *Client) string {
	t.Helper()
	res, err := c.Drive.Create(t.Context(), &FileCreateRequest{Filename: "session.bin", Etag: testMD5, Size: 1, Duplicate: KeepBoth})
	require.NoError(t, err)
	require.NotEmpty(t, res.PreuploadID)
	return res.PreuploadID
}

// requestsOf returns the requests of op the fake has answered, in order.
func requestsOf(srv *pan123test.Server, op pan123test.Op) []pan123test.Request {
	var out []pan123test.Request
	for _, r := range srv.Requests() {
		if r.Op == op {
			out = append(out, r)
		}
	}
	return out
}

// fakeClock is a settable time source for c.now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingTransport counts round trips before handing them to next;
// before, when set, runs first (it may hold the request back).
type countingTransport struct {
	next   http.RoundTripper
	n      atomic.Int32
	before func(*http.Request)
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	if c.before != nil {
		c.before(r)
	}
	return c.next.RoundTrip(r)
}

// syncBuffer is a bytes.Buffer safe for concurrent writers (slog handlers).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// debugLogger returns a JSON slog logger at Debug level writing to buf.
func debugLogger(t *testing.T, buf io.Writer) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// requireAPIError asserts that err holds an *APIError and returns it.
func requireAPIError(t *testing.T, err error) *APIError {
	t.Helper()
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	return ae
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
