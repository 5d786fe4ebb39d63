package pan123

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

// TestAPIErrorFromEnvelopeCode: HTTP 200 with a non-zero code is an *APIError
// carrying the code, message, trace ID, method and path.
func TestAPIErrorFromEnvelopeCode(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil)
	srv.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Body: `{"code":1,"message":"该目录下已经有同名文件夹,无法进行创建","data":null,"x-traceID":"trace-abc"}`})

	_, err := c.Drive.Mkdir(t.Context(), 0, "docs")
	ae := requireAPIError(t, err)
	assert.Equal(t, &APIError{HTTPStatus: 200, Code: 1, Message: "该目录下已经有同名文件夹,无法进行创建",
		TraceID: "trace-abc", Method: http.MethodPost, Path: pathMkdir}, ae)
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, "pan123: "), msg)
	for _, part := range []string{"POST", pathMkdir, "code 1", "同名文件夹", "trace-abc"} {
		assert.Contains(t, msg, part)
	}
	assert.False(t, strings.HasSuffix(msg, "."), msg)
	assert.Equal(t, 1, srv.Count(pan123test.OpMkdir), "code 1 is final")
}

func TestAPIErrorCodeAsString(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil)
	srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Body: `{"code":"5066","message":"文件不存在","data":null,"x-traceID":"t"}`})
	_, err := c.Drive.UploadURL(t.Context(), "pre", 1)
	assert.Equal(t, 5066, requireAPIError(t, err).Code)
	assert.ErrorIs(t, err, ErrNotFound)
}

// TestAPIErrorNonJSON: a gateway page is an *APIError with the HTTP status,
// no code, and a short note instead of the page.
func TestAPIErrorNonJSON(t *testing.T) {
	t.Parallel()
	const page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
	srv, c := newTestClient(t, nil, WithRetry(2, time.Millisecond, time.Millisecond))
	srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Status: http.StatusBadGateway, Body: page, Times: -1})

	_, err := c.Drive.UploadURL(t.Context(), "pre", 1)
	ae := requireAPIError(t, err)
	assert.Equal(t, http.StatusBadGateway, ae.HTTPStatus)
	assert.Zero(t, ae.Code)
	assert.Empty(t, ae.TraceID)
	assert.Contains(t, ae.Message, "non-JSON")
	assert.Contains(t, err.Error(), "http 502")
	assert.NotContains(t, err.Error(), "nginx", "the page is not echoed")
	assert.Equal(t, 2, srv.Count(pan123test.OpGetUploadURL), "a 502 is retried")
}

// TestAPIErrorStatusWithEnvelope: a non-2xx answer carrying an envelope with
// code 0 is still an error.
func TestAPIErrorStatusWithEnvelope(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil)
	srv.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Status: http.StatusBadRequest, Body: `{"code":0,"message":"bad request","data":null,"x-traceID":"t-400"}`, Times: -1})
	_, err := c.Drive.Mkdir(t.Context(), 0, "d")
	ae := requireAPIError(t, err)
	assert.Equal(t, http.StatusBadRequest, ae.HTTPStatus)
	assert.Equal(t, "t-400", ae.TraceID)
	assert.Equal(t, 1, srv.Count(pan123test.OpMkdir))
}

func TestAPIErrorTruncatedJSON(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil, WithRetry(1, time.Millisecond, time.Millisecond))
	srv.Inject(pan123test.Fault{Op: pan123test.OpCreate, Body: `{"code":0,"message":"ok","data":{"fileID":1,"preupl`, Times: -1})

	_, err := c.Drive.Create(t.Context(), &FileCreateRequest{Filename: "a", Etag: testMD5, Size: 1})
	ae := requireAPIError(t, err)
	assert.Equal(t, http.StatusOK, ae.HTTPStatus)
	assert.Zero(t, ae.Code)
	assert.Contains(t, ae.Message, "truncated JSON")
	assert.True(t, retryable(t.Context(), err), "a truncated answer is transient")
}

func TestAPIErrorEmptyAndForeignBodies(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{"empty": "", "not an envelope": `{"foo":1}`, "array": `[]`} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, c := newTestClient(t, nil, WithRetry(1, time.Millisecond, time.Millisecond))
			srv.Inject(pan123test.Fault{Op: pan123test.OpCreate, Body: body, Empty: body == "", Times: -1})
			_, err := c.Drive.Create(t.Context(), &FileCreateRequest{Filename: "a", Etag: testMD5, Size: 1})
			ae := requireAPIError(t, err)
			assert.Zero(t, ae.Code)
			assert.NotEmpty(t, ae.Message)
		})
	}
}

// TestAPIErrorBodyTooLarge: an answer over 1 MiB is cut off with a clear
// error and not retried.
func TestAPIErrorBodyTooLarge(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil, WithRetry(5, time.Millisecond, time.Millisecond))
	srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Body: `{"code":0,"message":"` + strings.Repeat("x", maxAPIBody+1) + `","data":null}`, Times: -1})

	_, err := c.Drive.UploadURL(t.Context(), "pre", 1)
	require.ErrorIs(t, err, resty.ErrResponseBodyTooLarge)
	assert.Contains(t, err.Error(), "too large")
	assert.Equal(t, 1, srv.Count(pan123test.OpGetUploadURL), "no retry loop on an oversized answer")
}

func TestAPIErrorBodyAtLimit(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil)
	head, tail := `{"code":0,"message":"`, `","data":{"presignedURL":"https://h/p"}}`
	srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Body: head + strings.Repeat("x", maxAPIBody-len(head)-len(tail)) + tail})
	u, err := c.Drive.UploadURL(t.Context(), "pre", 1)
	require.NoError(t, err)
	assert.Equal(t, "https://h/p", u.PresignedURL)
}

// TestSentinels: errors.Is maps codes and statuses to the sentinels, end to end.
func TestSentinels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		answer    pan123test.Fault // on every upload_complete
		want      error
		wantCalls int // requests of the endpoint with WithRetry(3, ...)
	}{
		{"code 429", pan123test.Fault{Code: 429}, ErrRateLimited, 3},
		{"http 429", pan123test.Fault{Status: http.StatusTooManyRequests, Body: "slow down"}, ErrRateLimited, 3},
		{"code 20103", pan123test.Fault{Code: 20103}, ErrVerifying, 3},
		{"code 5066", pan123test.Fault{Code: 5066, Message: "文件不存在"}, ErrNotFound, 1},
		{"code 401 twice", pan123test.Fault{Code: 401}, ErrUnauthorized, 2}, // one refresh, one replay
		{"http 401 twice", pan123test.Fault{Status: http.StatusUnauthorized, Body: "unauthorized"}, ErrUnauthorized, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newTestClient(t, nil)
			tt.answer.Op, tt.answer.Times = pan123test.OpComplete, -1
			srv.Inject(tt.answer)
			_, err := c.Drive.Complete(t.Context(), "pre")
			require.ErrorIs(t, err, tt.want)
			requireAPIError(t, err)
			assert.Equal(t, tt.wantCalls, srv.Count(pan123test.OpComplete))
			for _, other := range []error{ErrUnauthorized, ErrRateLimited, ErrVerifying, ErrNotFound, ErrInvalidInput, ErrProtocol} {
				if other != tt.want {
					assert.NotErrorIs(t, err, other)
				}
			}
		})
	}
}

func TestAPIErrorIs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *APIError
		want []error
	}{
		{&APIError{HTTPStatus: 200, Code: 401}, []error{ErrUnauthorized}},
		{&APIError{HTTPStatus: 401}, []error{ErrUnauthorized}},
		{&APIError{HTTPStatus: 200, Code: 429}, []error{ErrRateLimited}},
		{&APIError{HTTPStatus: 429}, []error{ErrRateLimited}},
		{&APIError{HTTPStatus: 200, Code: 20103}, []error{ErrVerifying}},
		{&APIError{HTTPStatus: 200, Code: 5066}, []error{ErrNotFound}},
		{&APIError{HTTPStatus: 200, Code: 1}, nil},
		{&APIError{HTTPStatus: 404}, nil},
		{&APIError{HTTPStatus: 500}, nil},
	}
	all := []error{ErrUnauthorized, ErrRateLimited, ErrVerifying, ErrNotFound, ErrInvalidInput, ErrProtocol}
	for _, tt := range tests {
		wrapped := fmt.Errorf("outer: %w", tt.err)
		for _, s := range all {
			want := false
			for _, w := range tt.want {
				want = want || w == s
			}
			assert.Equal(t, want, errors.Is(wrapped, s), "%+v is %v", *tt.err, s)
		}
	}
}

func TestAPIErrorMessage(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "pan123: POST /upload/v1/file/create: code 1: 内部错误 (trace tr-1)",
		(&APIError{HTTPStatus: 200, Code: 1, Message: "内部错误", TraceID: "tr-1", Method: "POST", Path: pathCreate}).Error())
	assert.Equal(t, "pan123: PUT m1.test/bucket/obj: http 403: AccessDenied",
		(&APIError{HTTPStatus: 403, Message: "AccessDenied", Method: "PUT", Path: "m1.test/bucket/obj"}).Error())
}

func TestUploadError(t *testing.T) {
	t.Parallel()
	cause := &APIError{HTTPStatus: 429, Method: "PUT", Path: "h/p"}
	e := &UploadError{FileName: "a.bin", PreuploadID: "pre", SliceNo: 3, Err: cause, resume: &resumeState{}}
	assert.Equal(t, "pan123: upload a.bin: slice 3 (resumable): PUT h/p: http 429", e.Error())
	stream := &UploadError{FileName: "a.bin", PreuploadID: "pre", SliceNo: 3, Err: cause}
	assert.Equal(t, "pan123: upload a.bin: slice 3: PUT h/p: http 429", stream.Error(), "a stream cannot be resumed")
	assert.ErrorIs(t, e, ErrRateLimited)
	var ae *APIError
	require.ErrorAs(t, e, &ae)
	assert.Same(t, cause, ae)
	assert.Equal(t, "pan123: upload b: boom", (&UploadError{FileName: "b", Err: errors.New("boom")}).Error())
}

// TestNewReportsAllProblems: New checks every option and returns every
// problem at once, wrapped in ErrInvalidInput.
func TestNewReportsAllProblems(t *testing.T) {
	t.Parallel()
	c, err := New("", "",
		WithBaseURL("::"),
		WithRetry(0, time.Second, time.Second),
		nil,
		WithHTTPClient(nil),
		WithLogger(nil),
		WithRateLimits(map[string]float64{pathCreate: -1}),
		WithUserAgent(""),
		WithTokenStore(nil),
		WithTokenRefreshMargin(-time.Second),
		WithAccessToken(""),
	)
	require.ErrorIs(t, err, ErrInvalidInput)
	assert.Nil(t, c)
	msg := err.Error()
	for _, want := range []string{"WithBaseURL", `"::"`, "WithRetry", "nil Option", "WithHTTPClient", "WithLogger",
		"WithRateLimits", "WithUserAgent", "WithTokenStore", "WithTokenRefreshMargin", "WithAccessToken", "no credentials"} {
		assert.Contains(t, msg, want)
	}
}

func TestNewValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		id, secret   string
		opts         []Option
		wantErr      bool
		wantContains string
	}{
		{"credentials", "id", "secret", nil, false, ""},
		{"no credentials", "", "", nil, true, "no credentials"},
		{"id without secret", "id", "", nil, true, "together"},
		{"secret without id", "", "secret", nil, true, "together"},
		{"access token only", "", "", []Option{WithAccessToken("tok")}, false, ""},
		{"token store only", "", "", []Option{WithTokenStore(&memStore{})}, false, ""},
		{"relative base URL", "id", "s", []Option{WithBaseURL("/api")}, true, "WithBaseURL"},
		{"ftp base URL", "id", "s", []Option{WithBaseURL("ftp://h")}, true, "WithBaseURL"},
		{"retry base 0", "id", "s", []Option{WithRetry(3, 0, time.Second)}, true, "WithRetry"},
		{"retry cap below base", "id", "s", []Option{WithRetry(3, time.Second, time.Millisecond)}, true, "WithRetry"},
		{"rate 0 is allowed", "id", "s", []Option{WithRateLimits(map[string]float64{pathCreate: 0})}, false, ""},
		{"margin 0 is allowed", "id", "s", []Option{WithTokenRefreshMargin(0)}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				c   *Client
				err error
			)
			require.NotPanics(t, func() { c, err = New(tt.id, tt.secret, tt.opts...) })
			if !tt.wantErr {
				require.NoError(t, err)
				require.NotNil(t, c)
				return
			}
			require.ErrorIs(t, err, ErrInvalidInput)
			assert.Contains(t, err.Error(), tt.wantContains)
			assert.Nil(t, c)
		})
	}
}

// TestNewNeverPanics throws odd option combinations at New.
func TestNewNeverPanics(t *testing.T) {
	t.Parallel()
	optionSets := [][]Option{
		nil,
		{nil, nil},
		{WithHTTPClient(nil)},
		{WithHTTPClient(&http.Client{})},
		{WithLogger(slog.New(slog.DiscardHandler)), WithoutRateLimits(), WithRateLimits(nil)},
		{WithRateLimits(map[string]float64{"": 1, "/x": 0})},
		{WithBaseURL(""), WithBaseURL("http://"), WithBaseURL("%zz")},
		{WithRetry(-1, -1, -1), WithRetry(1<<30, time.Nanosecond, time.Duration(1<<62))},
	}
	for i, opts := range optionSets {
		for _, creds := range [][2]string{{"", ""}, {"id", "secret"}, {"id", ""}} {
			assert.NotPanics(t, func() { _, _ = New(creds[0], creds[1], opts...) }, "set %d creds %q", i, creds)
		}
	}
}
