package pan123

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		name  string
		fail  handlerFunc
		times int
	}{
		{"code 429", withCode(429, "请求太频繁"), 2},
		{"http 429", withStatus(http.StatusTooManyRequests, ""), 2},
		{"http 500", withStatus(http.StatusInternalServerError, "oops"), 2},
		{"http 503 envelope", withStatus(http.StatusServiceUnavailable, `{"code":0,"message":"busy","data":null}`), 2},
		{"code 20103", withCode(20103, "文件正在校验中,请间隔1秒后再试"), 1},
		{"connection reset", resetConn, 2},
		{"truncated JSON", withStatus(http.StatusOK, `{"code":0,"data":{"pre`), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newFakePlatform(t)
			p.handle(pathGetUploadURL, failFirst(tt.times, tt.fail, okData(map[string]any{"presignedURL": "https://h/p"})))
			c := newTestClient(t, p, WithRetry(3, time.Millisecond, time.Millisecond))
			u, err := c.Drive.UploadURL(t.Context(), "pre", 1)
			require.NoError(t, err)
			assert.Equal(t, "https://h/p", u.PresignedURL)
			assert.Equal(t, tt.times+1, p.count(pathGetUploadURL))

			// Every attempt sends the same body.
			reqs := p.requests(pathGetUploadURL)
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
			p := newFakePlatform(t)
			p.handle(pathGetUploadURL, withCode(code, "no"))
			c := newTestClient(t, p, WithRetry(5, time.Millisecond, time.Millisecond))
			_, err := c.Drive.UploadURL(t.Context(), "pre", 1)
			assert.Equal(t, code, requireAPIError(t, err).Code)
			assert.Equal(t, 1, p.count(pathGetUploadURL))
		})
	}
	for _, status := range []int{400, 403, 404} {
		t.Run(fmt.Sprint("http ", status), func(t *testing.T) {
			t.Parallel()
			p := newFakePlatform(t)
			p.handle(pathGetUploadURL, withStatus(status, "no"))
			c := newTestClient(t, p, WithRetry(5, time.Millisecond, time.Millisecond))
			_, err := c.Drive.UploadURL(t.Context(), "pre", 1)
			assert.Equal(t, status, requireAPIError(t, err).HTTPStatus)
			assert.Equal(t, 1, p.count(pathGetUploadURL))
		})
	}
}

func TestRetryExhausted(t *testing.T) {
	t.Parallel()
	p := newFakePlatform(t)
	p.handle(pathComplete, withStatus(http.StatusServiceUnavailable, "down"))
	c := newTestClient(t, p, WithRetry(4, time.Millisecond, time.Millisecond))
	_, err := c.Drive.Complete(t.Context(), "pre")
	assert.Equal(t, http.StatusServiceUnavailable, requireAPIError(t, err).HTTPStatus)
	assert.Equal(t, 4, p.count(pathComplete))

	p2 := newFakePlatform(t)
	p2.handle(pathComplete, withStatus(http.StatusServiceUnavailable, "down"))
	c2 := newTestClient(t, p2, WithRetry(1, time.Millisecond, time.Millisecond))
	_, err = c2.Drive.Complete(t.Context(), "pre")
	require.Error(t, err)
	assert.Equal(t, 1, p2.count(pathComplete), "maxAttempts 1 means no retry")
}

// TestRetryVerifyingIsFinal: a call that polls on its own schedule gets
// 20103 back at once.
func TestRetryVerifyingIsFinal(t *testing.T) {
	t.Parallel()
	p := newFakePlatform(t)
	p.handle(pathComplete, withCode(20103, "文件正在校验中,请间隔1秒后再试"))
	c := newTestClient(t, p, WithRetry(5, time.Millisecond, time.Millisecond))
	err := c.do(t.Context(), &call{path: pathComplete, body: preuploadBody("pre"), replay: true, verifyingIsFinal: true})
	require.ErrorIs(t, err, ErrVerifying)
	assert.Equal(t, 1, p.count(pathComplete))
}

// TestRetryConnectionRefused: a refused dial provably sent nothing, so even
// a call that is never replayed (mkdir) is retried.
func TestRetryConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

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
	ok := map[string]handlerFunc{
		pathMkdir:    okData(map[string]any{"dirID": 5}),
		pathOSSMkdir: okData(map[string]any{"list": []any{map[string]any{"filename": "d", "dirID": "x"}}}),
	}
	tests := []struct {
		name     string
		path     string
		call     func(ctx context.Context, c *Client) error
		fail     handlerFunc
		replayed bool
	}{
		{"create 500", pathCreate, create(DuplicateUnset), withStatus(500, ""), true},
		{"create overwrite reset", pathCreate, create(Overwrite), resetConn, true},
		{"create keep-both 500", pathCreate, create(KeepBoth), withStatus(500, ""), false},
		{"create keep-both reset", pathCreate, create(KeepBoth), resetConn, false},
		{"create keep-both truncated", pathCreate, create(KeepBoth), withStatus(200, `{"code":0,"data":{"fi`), false},
		{"create keep-both 429", pathCreate, create(KeepBoth), withCode(429, "请求太频繁"), true},
		{"image create 502", pathOSSCreate, createImage, withStatus(502, ""), true},
		{"complete 502", pathComplete, complete, withStatus(502, ""), true},
		{"complete reset", pathComplete, complete, resetConn, true},
		{"complete 20103", pathComplete, complete, withCode(20103, "文件正在校验中"), true},
		{"image complete reset", pathOSSComplete, completeImage, resetConn, true},
		{"mkdir 500", pathMkdir, mkdir, withStatus(500, ""), false},
		{"mkdir reset", pathMkdir, mkdir, resetConn, false},
		{"mkdir 429", pathMkdir, mkdir, withCode(429, "请求太频繁"), true},
		{"image mkdir 503", pathOSSMkdir, mkdirImage, withStatus(503, ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newFakePlatform(t)
			okH := ok[tt.path]
			if okH == nil {
				okH = okData(map[string]any{})
			}
			p.handle(tt.path, failFirst(1, tt.fail, okH))
			c := newTestClient(t, p, WithRetry(3, time.Millisecond, time.Millisecond))
			err := tt.call(t.Context(), c)
			if tt.replayed {
				require.NoError(t, err)
				assert.Equal(t, 2, p.count(tt.path))
				return
			}
			require.Error(t, err)
			assert.Equal(t, 1, p.count(tt.path), "an ambiguous failure of a non-idempotent call is not replayed")
		})
	}
}

// TestRetryCallerCancelledInFlight: cancelling the caller's ctx during a
// request returns context.Canceled and sends nothing more.
func TestRetryCallerCancelledInFlight(t *testing.T) {
	t.Parallel()
	p := newFakePlatform(t)
	arrived := make(chan struct{}, 1)
	p.handle(pathGetUploadURL, func(w http.ResponseWriter, r *http.Request, _ int) {
		arrived <- struct{}{}
		<-r.Context().Done()
	})
	c := newTestClient(t, p, WithRetry(5, time.Millisecond, time.Millisecond))
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Drive.UploadURL(ctx, "pre", 1)
		errc <- err
	}()
	<-arrived
	cancel()
	err := <-errc
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, p.count(pathGetUploadURL))
}

// TestRetryCallerCancelledInBackoff: a cancel during the backoff wait ends it.
func TestRetryCallerCancelledInBackoff(t *testing.T) {
	t.Parallel()
	p := newFakePlatform(t)
	arrived := make(chan struct{}, 10)
	p.handle(pathGetUploadURL, func(w http.ResponseWriter, r *http.Request, n int) {
		withStatus(503, "busy")(w, r, n)
		arrived <- struct{}{}
	})
	c := newTestClient(t, p, WithRetry(5, time.Hour, time.Hour))
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Drive.UploadURL(ctx, "pre", 1)
		errc <- err
	}()
	<-arrived
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	assert.LessOrEqual(t, p.count(pathGetUploadURL), 2)
}

func TestRetryCallerDeadline(t *testing.T) {
	t.Parallel()
	p := newFakePlatform(t)
	p.handle(pathGetUploadURL, withStatus(503, "busy"))
	c := newTestClient(t, p, WithRetry(5, time.Hour, time.Hour))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Drive.UploadURL(ctx, "pre", 1)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestRetryAfterHonoured: a Retry-After below the cap is waited in full.
func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	p := newFakePlatform(t)
	p.handle(pathGetUploadURL, failFirst(1, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "1")
		withCode(429, "请求太频繁")(w, r, n)
	}, okData(map[string]any{"presignedURL": "https://h/p"})))
	// In a synctest bubble the second passes at once, and exactly: the
	// client reaches the fake in memory (a goroutine blocked on a socket
	// would keep the bubble's clock from moving).
	synctest.Test(t, func(t *testing.T) {
		c := newTestClient(t, p, WithRetry(2, time.Millisecond, 5*time.Second),
			WithHTTPClient(&http.Client{Transport: handlerTransport{http.HandlerFunc(p.serve)}}))
		start := time.Now()
		_, err := c.Drive.UploadURL(t.Context(), "pre", 1)
		require.NoError(t, err)
		assert.Equal(t, time.Second, time.Since(start), "Retry-After: 1 waits a second although the backoff is 1ms")
		assert.Equal(t, 2, p.count(pathGetUploadURL))
	})
}

// handlerTransport answers requests with h in memory, without a socket.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// TestRetryAfterCapped: a Retry-After above the cap waits the cap only; the
// ctx deadline (far below the hint) would fail the call otherwise.
func TestRetryAfterCapped(t *testing.T) {
	t.Parallel()
	p := newFakePlatform(t)
	p.handle(pathGetUploadURL, failFirst(1, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "3600")
		withStatus(http.StatusTooManyRequests, "")(w, r, n)
	}, okData(map[string]any{"presignedURL": "https://h/p"})))
	c := newTestClient(t, p, WithRetry(2, time.Millisecond, 60*time.Millisecond))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.Drive.UploadURL(ctx, "pre", 1)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 60*time.Millisecond, "the hint is honoured up to the cap")
}

// TestRetryVerifyingWaits: 20103 asks for a second; the wait is at least the
// cap when the cap is smaller, although the backoff alone would be ~0.
func TestRetryVerifyingWaits(t *testing.T) {
	t.Parallel()
	p := newFakePlatform(t)
	p.handle(pathComplete, failFirst(1, withCode(20103, "文件正在校验中,请间隔1秒后再试"), okData(map[string]any{"completed": true, "fileID": 9})))
	c := newTestClient(t, p, WithRetry(2, time.Microsecond, 40*time.Millisecond))
	start := time.Now()
	res, err := c.Drive.Complete(t.Context(), "pre")
	require.NoError(t, err)
	assert.Equal(t, int64(9), res.FileID)
	assert.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond)
}

func TestRetryAfterOnAPIError(t *testing.T) {
	t.Parallel()
	p := newFakePlatform(t)
	p.handle(pathGetUploadURL, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Retry-After", "7")
		withCode(429, "请求太频繁")(w, r, n)
	})
	c := newTestClient(t, p, WithRetry(1, time.Millisecond, time.Millisecond))
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
