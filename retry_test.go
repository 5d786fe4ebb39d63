package pan123

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

func TestRetryClassification(t *testing.T) {
	t.Parallel()
	refused := &url.Error{Op: "Post", URL: "http://h/p", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	reset := &url.Error{Op: "Post", URL: "http://h/p", Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}
	tests := []struct {
		name               string
		err                error
		retryable, notSent bool
	}{
		{"code 429", &APIError{HTTPStatus: 200, Code: 429}, true, true},
		{"http 429", &APIError{HTTPStatus: 429}, true, true},
		{"code 20103", &APIError{HTTPStatus: 200, Code: 20103}, true, false},
		{"http 500", &APIError{HTTPStatus: 500}, true, false},
		{"http 502", &APIError{HTTPStatus: 502}, true, false},
		{"http 503", &APIError{HTTPStatus: 503}, true, false},
		{"http 504", &APIError{HTTPStatus: 504}, true, false},
		{"http 408", &APIError{HTTPStatus: 408}, true, false},
		{"unreadable 200", &APIError{HTTPStatus: 200}, true, false},
		{"code 1", &APIError{HTTPStatus: 200, Code: 1}, false, false},
		{"code 5066", &APIError{HTTPStatus: 200, Code: 5066}, false, false},
		{"code 5113", &APIError{HTTPStatus: 200, Code: 5113}, false, false},
		{"code 401", &APIError{HTTPStatus: 200, Code: 401}, false, true},
		{"http 400", &APIError{HTTPStatus: 400}, false, false},
		{"http 403", &APIError{HTTPStatus: 403}, false, false},
		{"http 404", &APIError{HTTPStatus: 404}, false, false},
		{"code 500 with http 500", &APIError{HTTPStatus: 500, Code: 1}, false, false},
		{"wrapped 429", fmt.Errorf("slice 2: %w", &APIError{Code: 429}), true, true},
		{"connection refused", refused, true, true},
		{"wrapped connection refused", fmt.Errorf("POST /x: %w", refused), true, true},
		{"connection reset", reset, true, false},
		{"bare ECONNRESET", syscall.ECONNRESET, true, false},
		{"EPIPE", fmt.Errorf("write: %w", syscall.EPIPE), true, false},
		{"unexpected EOF", io.ErrUnexpectedEOF, true, false},
		{"EOF", fmt.Errorf("read: %w", io.EOF), true, false},
		{"protocol", protocolError("zero slice size"), false, false},
		{"unreadable data", fmt.Errorf("%w: %w", ErrProtocol, &APIError{HTTPStatus: 200, Message: "unreadable data"}), false, false},
		{"invalid input", invalidInput("bad"), false, false},
		{"plain error", errors.New("something"), false, false},
		{"nil", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.retryable, retryable(t.Context(), tt.err), "retryable")
			assert.Equal(t, tt.notSent, notSent(tt.err), "notSent")

			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			assert.False(t, retryable(ctx, tt.err), "nothing is retried once the caller's ctx is done")
		})
	}
}

func TestRetryTransientAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fail pan123test.Fault // the first Times get_upload_url answers
	}{
		{"code 429", pan123test.Fault{Code: 429, Times: 2}},
		{"http 429", pan123test.Fault{Status: http.StatusTooManyRequests, Empty: true, Times: 2}},
		{"http 500", pan123test.Fault{Status: http.StatusInternalServerError, Body: "oops", Times: 2}},
		{"http 503 envelope", pan123test.Fault{Status: http.StatusServiceUnavailable, Body: `{"code":0,"message":"busy","data":null}`, Times: 2}},
		{"code 20103", pan123test.Fault{Code: 20103, Times: 1}},
		{"connection reset", pan123test.Fault{Drop: true, Times: 2}},
		{"truncated JSON", pan123test.Fault{Body: `{"code":0,"data":{"pre`, Times: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newTestClient(t, nil, WithRetry(3, time.Millisecond, time.Millisecond))
			pre := preupload(t, c)
			tt.fail.Op = pan123test.OpGetUploadURL
			srv.Inject(tt.fail)
			u, err := c.Drive.UploadURL(t.Context(), pre, 1)
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(u.PresignedURL, srv.URL+"/storage/"), u.PresignedURL)
			assert.Equal(t, tt.fail.Times+1, srv.Count(pan123test.OpGetUploadURL))

			// Every attempt sends the same body.
			reqs := requestsOf(srv, pan123test.OpGetUploadURL)
			for _, r := range reqs[1:] {
				assert.Equal(t, string(reqs[0].Body), string(r.Body))
			}
		})
	}
}

func TestRetryFinalAnswers(t *testing.T) {
	t.Parallel()
	for _, code := range []int{1, 5066, 5113} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			t.Parallel()
			srv, c := newTestClient(t, nil, WithRetry(5, time.Millisecond, time.Millisecond))
			srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Code: code, Message: "no", Times: -1})
			_, err := c.Drive.UploadURL(t.Context(), "pre", 1)
			assert.Equal(t, code, requireAPIError(t, err).Code)
			assert.Equal(t, 1, srv.Count(pan123test.OpGetUploadURL))
		})
	}
	for _, status := range []int{400, 403, 404} {
		t.Run(fmt.Sprint("http ", status), func(t *testing.T) {
			t.Parallel()
			srv, c := newTestClient(t, nil, WithRetry(5, time.Millisecond, time.Millisecond))
			srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Status: status, Body: "no", Times: -1})
			_, err := c.Drive.UploadURL(t.Context(), "pre", 1)
			assert.Equal(t, status, requireAPIError(t, err).HTTPStatus)
			assert.Equal(t, 1, srv.Count(pan123test.OpGetUploadURL))
		})
	}
}

func TestRetryExhausted(t *testing.T) {
	t.Parallel()
	down := pan123test.Fault{Op: pan123test.OpComplete, Status: http.StatusServiceUnavailable, Body: "down", Times: -1}
	srv, c := newTestClient(t, nil, WithRetry(4, time.Millisecond, time.Millisecond))
	srv.Inject(down)
	_, err := c.Drive.Complete(t.Context(), "pre")
	assert.Equal(t, http.StatusServiceUnavailable, requireAPIError(t, err).HTTPStatus)
	assert.Equal(t, 4, srv.Count(pan123test.OpComplete))

	srv2, c2 := newTestClient(t, nil, WithRetry(1, time.Millisecond, time.Millisecond))
	srv2.Inject(down)
	_, err = c2.Drive.Complete(t.Context(), "pre")
	require.Error(t, err)
	assert.Equal(t, 1, srv2.Count(pan123test.OpComplete), "maxAttempts 1 means no retry")
}

// TestRetryVerifyingIsFinal: a call that polls on its own schedule gets
// 20103 back at once.
func TestRetryVerifyingIsFinal(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil, WithRetry(5, time.Millisecond, time.Millisecond))
	srv.Inject(pan123test.Fault{Op: pan123test.OpComplete, Code: 20103, Times: -1})
	err := c.do(t.Context(), &call{path: pathComplete, body: preuploadBody("pre"), replay: true, verifyingIsFinal: true})
	require.ErrorIs(t, err, ErrVerifying)
	assert.Equal(t, 1, srv.Count(pan123test.OpComplete))
}

// TestRetryConnectionRefused: a refused dial provably sent nothing, so even
// a call that is never replayed (mkdir) is retried.
func TestRetryConnectionRefused(t *testing.T) {
	t.Parallel()
	// Port 1 (tcpmux) is privileged and unused: a port just closed by a
	// listener could be taken meanwhile by another parallel test's server.
	const addr = "127.0.0.1:1"
	if conn, err := net.Dial("tcp", addr); !errors.Is(err, syscall.ECONNREFUSED) {
		if conn != nil {
			_ = conn.Close()
		}
		t.Skipf("%s does not refuse connections here (%v)", addr, err)
	}

	ct := &countingTransport{next: http.DefaultTransport}
	c, err := New("", "", WithAccessToken("tok"), WithBaseURL("http://"+addr), WithoutRateLimits(),
		WithHTTPClient(&http.Client{Transport: ct}), WithRetry(3, time.Millisecond, time.Millisecond))
	require.NoError(t, err)

	_, err = c.Drive.Mkdir(t.Context(), 0, "d")
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.Equal(t, int32(3), ct.n.Load())

	ct.n.Store(0)
	_, err = c.Drive.Create(t.Context(), &FileCreateRequest{Filename: "a", Etag: testMD5, Size: 1, Duplicate: KeepBoth})
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.Equal(t, int32(3), ct.n.Load())
}

// TestRetryAmbiguousFailures pins down which calls are replayed after a
// failure that may have reached the platform (a 5xx, a reset connection):
// create is, unless Duplicate is KeepBoth (a replayed instant upload would
// add a second copy); complete is (keyed by the session); mkdir is not.
// Refusals (429) are replayed for every call.
func TestRetryAmbiguousFailures(t *testing.T) {
	t.Parallel()
	create := func(d Duplicate) func(ctx context.Context, c *Client) error {
		return func(ctx context.Context, c *Client) error {
			_, err := c.Drive.Create(ctx, &FileCreateRequest{Filename: "a", Etag: testMD5, Size: 1, Duplicate: d})
			return err
		}
	}
	complete := func(ctx context.Context, c *Client) error {
		_, err := c.Drive.Complete(ctx, "pre")
		return err
	}
	completeImage := func(ctx context.Context, c *Client) error {
		_, err := c.Image.Complete(ctx, "pre")
		return err
	}
	createImage := func(ctx context.Context, c *Client) error {
		_, err := c.Image.Create(ctx, &ImageCreateRequest{Filename: "a.png", Etag: testMD5, Size: 1})
		return err
	}
	mkdir := func(ctx context.Context, c *Client) error {
		_, err := c.Drive.Mkdir(ctx, 0, "d")
		return err
	}
	mkdirImage := func(ctx context.Context, c *Client) error {
		_, err := c.Image.Mkdir(ctx, "", "d")
		return err
	}
	// Where the fake's own answer would fail (there is no such session), the
	// replay is answered a canned success.
	const okEmpty = `{"code":0,"message":"ok","data":{},"x-traceID":"t"}`
	tests := []struct {
		name     string
		op       pan123test.Op
		call     func(ctx context.Context, c *Client) error
		fail     pan123test.Fault
		replayed bool
	}{
		{"create 500", pan123test.OpCreate, create(DuplicateUnset), pan123test.Fault{Status: 500, Empty: true}, true},
		{"create overwrite reset", pan123test.OpCreate, create(Overwrite), pan123test.Fault{Drop: true}, true},
		{"create keep-both 500", pan123test.OpCreate, create(KeepBoth), pan123test.Fault{Status: 500, Empty: true}, false},
		{"create keep-both reset", pan123test.OpCreate, create(KeepBoth), pan123test.Fault{Drop: true}, false},
		{"create keep-both truncated", pan123test.OpCreate, create(KeepBoth), pan123test.Fault{Body: `{"code":0,"data":{"fi`}, false},
		{"create keep-both 429", pan123test.OpCreate, create(KeepBoth), pan123test.Fault{Code: 429}, true},
		{"image create 502", pan123test.OpOSSCreate, createImage, pan123test.Fault{Status: 502, Empty: true}, true},
		{"complete 502", pan123test.OpComplete, complete, pan123test.Fault{Status: 502, Empty: true}, true},
		{"complete reset", pan123test.OpComplete, complete, pan123test.Fault{Drop: true}, true},
		{"complete 20103", pan123test.OpComplete, complete, pan123test.Fault{Code: 20103}, true},
		{"image complete reset", pan123test.OpOSSComplete, completeImage, pan123test.Fault{Drop: true}, true},
		{"mkdir 500", pan123test.OpMkdir, mkdir, pan123test.Fault{Status: 500, Empty: true}, false},
		{"mkdir reset", pan123test.OpMkdir, mkdir, pan123test.Fault{Drop: true}, false},
		{"mkdir 429", pan123test.OpMkdir, mkdir, pan123test.Fault{Code: 429}, true},
		{"image mkdir 503", pan123test.OpOSSMkdir, mkdirImage, pan123test.Fault{Status: 503, Empty: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newTestClient(t, nil, WithRetry(3, time.Millisecond, time.Millisecond))
			tt.fail.Op = tt.op
			srv.Inject(tt.fail)
			if tt.op == pan123test.OpComplete || tt.op == pan123test.OpOSSComplete {
				srv.Inject(pan123test.Fault{Op: tt.op, Body: okEmpty})
			}
			err := tt.call(t.Context(), c)
			if tt.replayed {
				require.NoError(t, err)
				assert.Equal(t, 2, srv.Count(tt.op))
				return
			}
			require.Error(t, err)
			assert.Equal(t, 1, srv.Count(tt.op), "an ambiguous failure of a non-idempotent call is not replayed")
		})
	}
}

// TestRetryCallerCancelledInFlight: cancelling the caller's ctx during a
// request returns context.Canceled and sends nothing more.
func TestRetryCallerCancelledInFlight(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil, WithRetry(5, time.Millisecond, time.Millisecond))
	pre := preupload(t, c) // the token first: only get_upload_url is in flight below
	srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Stall: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Drive.UploadURL(ctx, pre, 1)
		errc <- err
	}()
	require.Eventually(t, func() bool { return srv.InFlight() == 1 }, 10*time.Second, time.Millisecond, "the request reached the fake")
	cancel()
	err := <-errc
	require.ErrorIs(t, err, context.Canceled)
	srv.Close() // waits for the abandoned request to be logged
	assert.Equal(t, 1, srv.Count(pan123test.OpGetUploadURL))
}

// TestRetryCallerCancelledInBackoff: a cancel during the backoff wait ends it.
func TestRetryCallerCancelledInBackoff(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil, WithRetry(5, time.Hour, time.Hour))
	srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Status: 503, Body: "busy", Times: -1})
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Drive.UploadURL(ctx, "pre", 1)
		errc <- err
	}()
	require.Eventually(t, func() bool { return srv.Count(pan123test.OpGetUploadURL) > 0 }, 10*time.Second, time.Millisecond, "answered once")
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	assert.LessOrEqual(t, srv.Count(pan123test.OpGetUploadURL), 2)
}

func TestRetryCallerDeadline(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil, WithRetry(5, time.Hour, time.Hour))
	srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Status: 503, Body: "busy", Times: -1})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Drive.UploadURL(ctx, "pre", 1)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestRetryAfterHonoured: a Retry-After below the cap is waited in full.
func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	srv, c0 := newTestClient(t, nil)
	pre := preupload(t, c0)
	srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Code: 429, Header: http.Header{"Retry-After": {"1"}}})
	// In a synctest bubble the second passes at once, and exactly: time
	// stands still while the client waits on the fake (outside the bubble),
	// and moves once every goroutine of the bubble waits on a timer. So the
	// client holds no idle connection, whose reader would keep time still.
	synctest.Test(t, func(t *testing.T) {
		tr := &http.Transport{DisableKeepAlives: true}
		c, err := New(testClientID, testClientSecret, WithBaseURL(srv.URL), WithoutRateLimits(),
			WithRetry(2, time.Millisecond, 5*time.Second), WithHTTPClient(&http.Client{Transport: tr}))
		require.NoError(t, err)
		start := time.Now()
		_, err = c.Drive.UploadURL(t.Context(), pre, 1)
		require.NoError(t, err)
		assert.Equal(t, time.Second, time.Since(start), "Retry-After: 1 waits a second although the backoff is 1ms")
		assert.Equal(t, 2, srv.Count(pan123test.OpGetUploadURL))
	})
}

// TestRetryAfterCapped: a Retry-After above the cap waits the cap only; the
// ctx deadline (far below the hint) would fail the call otherwise.
func TestRetryAfterCapped(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil, WithRetry(2, time.Millisecond, 60*time.Millisecond))
	pre := preupload(t, c)
	srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Status: http.StatusTooManyRequests, Empty: true,
		Header: http.Header{"Retry-After": {"3600"}}})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.Drive.UploadURL(ctx, pre, 1)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 60*time.Millisecond, "the hint is honoured up to the cap")
}

// TestRetryVerifyingWaits: 20103 asks for a second; the wait is at least the
// cap when the cap is smaller, although the backoff alone would be ~0.
func TestRetryVerifyingWaits(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil, WithRetry(2, time.Microsecond, 40*time.Millisecond))
	srv.Inject(pan123test.Fault{Op: pan123test.OpComplete, Code: 20103})
	srv.Inject(pan123test.Fault{Op: pan123test.OpComplete, Body: `{"code":0,"message":"ok","data":{"completed":true,"fileID":9},"x-traceID":"t"}`})
	start := time.Now()
	res, err := c.Drive.Complete(t.Context(), "pre")
	require.NoError(t, err)
	assert.Equal(t, int64(9), res.FileID)
	assert.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond)
}

func TestRetryAfterOnAPIError(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil, WithRetry(1, time.Millisecond, time.Millisecond))
	srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Code: 429, Header: http.Header{"Retry-After": {"7"}}, Times: -1})
	_, err := c.Drive.UploadURL(t.Context(), "pre", 1)
	require.ErrorIs(t, err, ErrRateLimited)
	assert.Equal(t, 7*time.Second, requireAPIError(t, err).RetryAfter)
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{"1.5", 0},
		{now.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second},
		{now.Add(-10 * time.Second).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.value != "" {
			h.Set("Retry-After", tt.value)
		}
		assert.Equal(t, tt.want, parseRetryAfter(h, now), "%q", tt.value)
	}
}

// TestBackoffBounds: the wait after n failures is full jitter within
// [0, min(cap, base*2^(n-1))], and actually spreads over that range.
func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	p := retryPolicy{maxAttempts: 10, base: 10 * time.Millisecond, cap: 300 * time.Millisecond}
	for n := 1; n <= 12; n++ {
		ceiling := min(p.cap, p.base<<(n-1))
		var maxSeen time.Duration
		for range 2000 {
			d := p.delay(n, 0)
			require.GreaterOrEqual(t, d, time.Duration(0))
			require.LessOrEqual(t, d, ceiling, "attempt %d", n)
			maxSeen = max(maxSeen, d)
		}
		assert.Greater(t, maxSeen, ceiling/2, "attempt %d: jitter should use the whole range", n)
	}
}

func TestBackoffHints(t *testing.T) {
	t.Parallel()
	p := retryPolicy{maxAttempts: 5, base: time.Millisecond, cap: time.Second}
	assert.Equal(t, 50*time.Millisecond, p.delay(1, 50*time.Millisecond), "a hint above the jitter is waited")
	assert.Equal(t, time.Second, p.delay(1, time.Hour), "a hint is capped")
	assert.LessOrEqual(t, p.delay(1, time.Nanosecond), time.Millisecond)
}

func TestBackoffLargeAttempts(t *testing.T) {
	t.Parallel()
	for _, p := range []retryPolicy{
		{base: time.Millisecond, cap: time.Second},
		{base: time.Minute, cap: time.Hour},
		{base: 40 * time.Second, cap: 24 * time.Hour},
		{base: time.Second, cap: time.Second},
	} {
		for n := 1; n <= 100; n++ {
			for range 20 {
				d := p.delay(n, 0)
				require.GreaterOrEqual(t, d, time.Duration(0), "%+v n=%d", p, n)
				require.LessOrEqual(t, d, p.cap, "%+v n=%d", p, n)
			}
		}
	}
}

func TestSleepCtx(t *testing.T) {
	t.Parallel()
	require.NoError(t, sleepCtx(t.Context(), 0))
	require.NoError(t, sleepCtx(t.Context(), -time.Second))
	require.NoError(t, sleepCtx(t.Context(), time.Millisecond))

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, sleepCtx(ctx, time.Hour), context.Canceled)
	require.ErrorIs(t, sleepCtx(ctx, 0), context.Canceled)

	ctx, cancel = context.WithCancel(t.Context())
	time.AfterFunc(10*time.Millisecond, cancel)
	require.ErrorIs(t, sleepCtx(ctx, time.Hour), context.Canceled)
}
