package pan123

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Credentials the fake platform accepts. They look like secrets on purpose:
// the redaction tests search for them in logs and errors.
const (
	testClientID     = "test-client-id"
	testClientSecret = "SECRET-client-secret-4242"
	testMD5          = "0123456789abcdef0123456789abcdef"
)

// seenRequest is one request as the fake platform received it.
type seenRequest struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// handlerFunc answers one request; n is the 1-based count of requests seen
// so far on that path (this one included).
type handlerFunc func(w http.ResponseWriter, r *http.Request, n int)

// fakePlatform is a small loopback fake of the API host, for the core tests:
// it issues tokens, rejects unknown ones with code 401 (HTTP 200, as the
// platform does), records every request and lets a test script answers per
// path. It is deliberately independent of pan123test.
type fakePlatform struct {
	t   *testing.T
	srv *httptest.Server
	URL string

	mu       sync.Mutex
	reqs     []seenRequest
	counts   map[string]int
	valid    map[string]bool
	issued   int
	all      []string // every token issued, valid or not
	tokenTTL time.Duration
	clock    func() time.Time
	handlers map[string]handlerFunc
}

func newFakePlatform(t *testing.T) *fakePlatform {
	t.Helper()
	p := &fakePlatform{
		t:        t,
		counts:   map[string]int{},
		valid:    map[string]bool{},
		tokenTTL: 90 * 24 * time.Hour,
		clock:    time.Now,
		handlers: map[string]handlerFunc{},
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fakePlatform) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	p.reqs = append(p.reqs, seenRequest{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	p.counts[r.URL.Path]++
	n := p.counts[r.URL.Path]
	h := p.handlers[r.URL.Path]
	p.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))

	if r.URL.Path == pathAccessToken {
		if h != nil {
			h(w, r, n)
			return
		}
		p.issueToken(w, body)
		return
	}
	if !p.authorized(r) {
		writeEnvelope(w, codeUnauthorized, "access_token无效", nil)
		return
	}
	if h != nil {
		h(w, r, n)
		return
	}
	writeEnvelope(w, 0, "ok", map[string]any{})
}

func (p *fakePlatform) issueToken(w http.ResponseWriter, body []byte) {
	var creds struct{ ClientID, ClientSecret string }
	if err := json.Unmarshal(body, &creds); err != nil || creds.ClientID != testClientID || creds.ClientSecret != testClientSecret {
		writeEnvelope(w, codeUnauthorized, "clientID or clientSecret invalid", nil)
		return
	}
	p.mu.Lock()
	p.issued++
	tok := fmt.Sprintf("tok-SECRET-%d-%d", p.issued, time.Now().UnixNano())
	p.valid[tok] = true
	p.all = append(p.all, tok)
	exp := p.clock().Add(p.tokenTTL).In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339)
	p.mu.Unlock()
	writeEnvelope(w, 0, "ok", map[string]any{"accessToken": tok, "expiredAt": exp})
}

func (p *fakePlatform) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	defer p.mu.Unlock()
	return ok && p.valid[tok]
}

// handle scripts the answers of path.
func (p *fakePlatform) handle(path string, h handlerFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.handlers[path] = h
}

// accept makes token valid, as if the platform had issued it elsewhere.
func (p *fakePlatform) accept(token string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.valid[token] = true
}

// revokeAll makes every token issued so far answer code 401.
func (p *fakePlatform) revokeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.valid)
}

// issuedTokens returns every token access_token has issued, revoked or not.
func (p *fakePlatform) issuedTokens() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.all...)
}

func (p *fakePlatform) count(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[path]
}

func (p *fakePlatform) total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.reqs)
}

func (p *fakePlatform) requests(path string) []seenRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []seenRequest
	for _, r := range p.reqs {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// writeEnvelope answers HTTP 200 with the platform's JSON envelope.
func writeEnvelope(w http.ResponseWriter, code int, msg string, data any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "data": data, "x-traceID": fmt.Sprintf("trace-%d", code)})
}

// okData answers a successful envelope holding data.
func okData(data any) handlerFunc {
	return func(w http.ResponseWriter, _ *http.Request, _ int) { writeEnvelope(w, 0, "ok", data) }
}

// failFirst answers the first k requests with fail and the rest with ok.
func failFirst(k int, fail, ok handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, n int) {
		if n <= k {
			fail(w, r, n)
			return
		}
		ok(w, r, n)
	}
}

// withCode answers HTTP 200 with a failing envelope code.
func withCode(code int, msg string) handlerFunc {
	return func(w http.ResponseWriter, _ *http.Request, _ int) { writeEnvelope(w, code, msg, nil) }
}

// withServerError answers an HTTP 502 whose envelope has code 502: the
// platform's own failure, which proves it handed out nothing.
func withServerError(w http.ResponseWriter, _ *http.Request, _ int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadGateway)
	_, _ = io.WriteString(w, `{"code":502,"message":"服务异常","data":null,"x-traceID":"trace-502"}`)
}

// withStatus answers a bare HTTP status with a body.
func withStatus(status int, body string) handlerFunc {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// resetConn closes the connection with a TCP RST, without answering.
func resetConn(w http.ResponseWriter, _ *http.Request, _ int) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// newTestClient returns a client of p with fast retries and no rate limits;
// opts come last and win.
func newTestClient(t *testing.T, p *fakePlatform, opts ...Option) *Client {
	t.Helper()
	base := []Option{WithBaseURL(p.URL), WithoutRateLimits(), WithRetry(3, time.Millisecond, 2*time.Millisecond)}
	c, err := New(testClientID, testClientSecret, append(base, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.data.CloseIdleConnections)
	return c
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

// countingTransport counts round trips before handing them to next.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
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
