package pan123

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const mockBase = "https://api.pan123.test"

// seenRequest is one request as the mock received it.
type seenRequest struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// mockPlatform maps JSON on an httpmock transport: it answers access_token
// with a fixed token and records every request.
type mockPlatform struct {
	mt *httpmock.MockTransport
	mu sync.Mutex
	// per path, the requests received
	got map[string][]seenRequest
}

func newMockPlatform(t *testing.T, opts ...Option) (*mockPlatform, *Client) {
	t.Helper()
	m := &mockPlatform{mt: httpmock.NewMockTransport(), got: map[string][]seenRequest{}}
	m.reply(pathAccessToken, `{"code":0,"message":"ok","data":{"accessToken":"tok-mock","expiredAt":"2099-01-01T00:00:00+08:00"},"x-traceID":"t0"}`)
	c, err := New(testClientID, testClientSecret, append([]Option{
		WithBaseURL(mockBase), WithHTTPClient(&http.Client{Transport: m.mt}), WithoutRateLimits(),
		WithRetry(1, time.Millisecond, time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	return m, c
}

// reply registers body as the HTTP 200 answer of POST path.
func (m *mockPlatform) reply(path, body string) {
	m.mt.RegisterResponder(http.MethodPost, mockBase+path, func(r *http.Request) (*http.Response, error) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		m.mu.Lock()
		m.got[path] = append(m.got[path], seenRequest{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: b})
		m.mu.Unlock()
		return httpmock.NewStringResponse(http.StatusOK, body), nil
	})
}

func (m *mockPlatform) requests(path string) []seenRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.got[path]
}

func okEnvelope(data string) string {
	return `{"code":0,"message":"ok","data":` + data + `,"x-traceID":"trace-ok"}`
}

// TestEndpointsMapping checks, for every endpoint method, the request the
// client sends (path, method, headers, exact JSON body) and how the answer's
// data is decoded.
func TestEndpointsMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		path     string
		answer   string // data of the envelope
		call     func(ctx context.Context, c *Client) (any, error)
		wantBody string
		want     any
	}{
		{
			name:   "CreateFile",
			path:   pathCreate,
			answer: `{"fileID":0,"preuploadID":"pre-1","reuse":false,"sliceSize":16777216}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Drive.Create(ctx, &FileCreateRequest{ParentFileID: 7, Filename: "a.bin", Etag: testMD5, Size: 100})
			},
			wantBody: `{"parentFileID":7,"filename":"a.bin","etag":"` + testMD5 + `","size":100}`,
			want:     &FileCreateResult{PreuploadID: "pre-1", SliceSize: 16777216},
		},
		{
			name:   "CreateFile with policy and path, instant upload",
			path:   pathCreate,
			answer: `{"fileID":123,"reuse":true}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Drive.Create(ctx, &FileCreateRequest{Filename: "/d/a.bin", Etag: testMD5, Size: 5, Duplicate: Overwrite, ContainDir: true})
			},
			wantBody: `{"parentFileID":0,"filename":"/d/a.bin","etag":"` + testMD5 + `","size":5,"duplicate":2,"containDir":true}`,
			want:     &FileCreateResult{FileID: 123, Reuse: true},
		},
		{
			name:   "GetUploadURL",
			path:   pathGetUploadURL,
			answer: `{"presignedURL":"https://m74.123624.test/123-295/x?X-Amz-Signature=abc","isMultipart":true}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Drive.UploadURL(ctx, "pre-1", 3)
			},
			wantBody: `{"preuploadID":"pre-1","sliceNo":3}`,
			want:     &UploadURL{PresignedURL: "https://m74.123624.test/123-295/x?X-Amz-Signature=abc", IsMultipart: true},
		},
		{
			name:   "ListUploadParts partNumber as number and as string",
			path:   pathListUploadParts,
			answer: `{"parts":[{"partNumber":1,"size":16777216,"etag":"aa"},{"partNumber":"2","size":"5","etag":"bb"}]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Drive.ListParts(ctx, "pre-1")
			},
			wantBody: `{"preuploadID":"pre-1"}`,
			want:     []UploadPart{{PartNumber: 1, Size: 16777216, Etag: "aa"}, {PartNumber: 2, Size: 5, Etag: "bb"}},
		},
		{
			name:   "ListUploadParts empty answer",
			path:   pathListUploadParts,
			answer: `{"parts":null}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Drive.ListParts(ctx, "pre-1")
			},
			wantBody: `{"preuploadID":"pre-1"}`,
			want:     []UploadPart{},
		},
		{
			name:   "CompleteUpload",
			path:   pathComplete,
			answer: `{"async":false,"completed":true,"fileID":99}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Drive.Complete(ctx, "pre-1")
			},
			wantBody: `{"preuploadID":"pre-1"}`,
			want:     &FileCompleteResult{Completed: true, FileID: 99},
		},
		{
			name:   "UploadAsyncResult",
			path:   pathAsyncResult,
			answer: `{"completed":true,"fileID":"100"}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Drive.AsyncResult(ctx, "pre-1")
			},
			wantBody: `{"preuploadID":"pre-1"}`,
			want:     &FileCompleteResult{Completed: true, FileID: 100},
		},
		{
			name:   "Mkdir",
			path:   pathMkdir,
			answer: `{"dirID":55}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Drive.Mkdir(ctx, 0, "docs")
			},
			wantBody: `{"name":"docs","parentID":0}`,
			want:     int64(55),
		},
		{
			name:   "CreateImage sends type 1 and keeps string IDs",
			path:   pathOSSCreate,
			answer: `{"fileID":"","reuse":false,"preuploadID":"h1Kiaaaaaaac/0IDD","sliceSize":104857600}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Image.Create(ctx, &ImageCreateRequest{Filename: "a.png", Etag: testMD5, Size: 10, Type: 5})
			},
			wantBody: `{"parentFileID":"","filename":"a.png","etag":"` + testMD5 + `","size":10,"type":1}`,
			want:     &ImageCreateResult{PreuploadID: "h1Kiaaaaaaac/0IDD", SliceSize: 104857600},
		},
		{
			name:   "CreateImage instant upload",
			path:   pathOSSCreate,
			answer: `{"fileID":"yk6baz03t0l000d7w33fbyq51l4izkne","reuse":true}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Image.Create(ctx, &ImageCreateRequest{ParentID: "yk6dir", Filename: "a.png", Etag: testMD5, Size: 10})
			},
			wantBody: `{"parentFileID":"yk6dir","filename":"a.png","etag":"` + testMD5 + `","size":10,"type":1}`,
			want:     &ImageCreateResult{FileID: "yk6baz03t0l000d7w33fbyq51l4izkne", Reuse: true},
		},
		{
			name:   "GetImageUploadURL",
			path:   pathOSSGetUploadURL,
			answer: `{"presignedURL":"https://m1.123624.test/p?X-Amz-Signature=s","isMultipart":false}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Image.UploadURL(ctx, "h1K/x", 1)
			},
			wantBody: `{"preuploadID":"h1K/x","sliceNo":1}`,
			want:     &UploadURL{PresignedURL: "https://m1.123624.test/p?X-Amz-Signature=s"},
		},
		{
			name:   "ListImageUploadParts",
			path:   pathOSSListUploadParts,
			answer: `{"parts":[{"partNumber":"1","size":104857600,"etag":"cc"}]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Image.ListParts(ctx, "h1K/x")
			},
			wantBody: `{"preuploadID":"h1K/x"}`,
			want:     []UploadPart{{PartNumber: 1, Size: 104857600, Etag: "cc"}},
		},
		{
			name:   "CompleteImageUpload async",
			path:   pathOSSComplete,
			answer: `{"async":true,"completed":false,"fileID":""}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Image.Complete(ctx, "h1K/x")
			},
			wantBody: `{"preuploadID":"h1K/x"}`,
			want:     &ImageCompleteResult{Async: true},
		},
		{
			name:   "ImageUploadAsyncResult",
			path:   pathOSSAsyncResult,
			answer: `{"completed":true,"fileID":"yk6img"}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Image.AsyncResult(ctx, "h1K/x")
			},
			wantBody: `{"preuploadID":"h1K/x"}`,
			want:     &ImageCompleteResult{Completed: true, FileID: "yk6img"},
		},
		{
			name:   "MkdirImage sends a one-element name list and type 1",
			path:   pathOSSMkdir,
			answer: `{"list":[{"filename":"pics","dirID":"yk6dir"}]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Image.Mkdir(ctx, "", "pics")
			},
			wantBody: `{"name":["pics"],"parentID":"","type":1}`,
			want:     "yk6dir",
		},
		{
			name:   "MkdirImage numeric dirID is kept as a string",
			path:   pathOSSMkdir,
			answer: `{"list":[{"filename":"pics","dirID":12345678901234567}]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Image.Mkdir(ctx, "yk6parent", "pics")
			},
			wantBody: `{"name":["pics"],"parentID":"yk6parent","type":1}`,
			want:     "12345678901234567",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, c := newMockPlatform(t)
			m.reply(tt.path, okEnvelope(tt.answer))

			got, err := tt.call(t.Context(), c)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)

			reqs := m.requests(tt.path)
			require.Len(t, reqs, 1)
			r := reqs[0]
			assert.Equal(t, http.MethodPost, r.Method)
			assert.Equal(t, tt.path, r.Path)
			assert.Equal(t, "open_platform", r.Header.Get("Platform"))
			assert.Equal(t, "Bearer tok-mock", r.Header.Get("Authorization"))
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			assert.Equal(t, DefaultUserAgent, r.Header.Get("User-Agent"))
			assert.JSONEq(t, tt.wantBody, string(r.Body))

			// The token was fetched once, with the credentials and without Authorization.
			tok := m.requests(pathAccessToken)
			require.Len(t, tok, 1)
			assert.Equal(t, "open_platform", tok[0].Header.Get("Platform"))
			assert.Empty(t, tok[0].Header.Values("Authorization"))
			assert.Equal(t, "application/json", tok[0].Header.Get("Content-Type"))
			assert.JSONEq(t, `{"clientID":"`+testClientID+`","clientSecret":"`+testClientSecret+`"}`, string(tok[0].Body))
		})
	}
}

func TestAccessTokenMapping(t *testing.T) {
	t.Parallel()
	m, c := newMockPlatform(t)
	m.reply(pathMkdir, okEnvelope(`{"dirID":1}`))
	_, err := c.Drive.Mkdir(t.Context(), 0, "x")
	require.NoError(t, err)
	tok := c.tokens.cur
	assert.Equal(t, "tok-mock", tok.AccessToken)
	assert.True(t, tok.ExpiresAt.Equal(time.Date(2098, 12, 31, 16, 0, 0, 0, time.UTC)), "expiredAt %v", tok.ExpiresAt)
}

func TestAccessTokenAnswerWithoutToken(t *testing.T) {
	t.Parallel()
	m, c := newMockPlatform(t)
	m.reply(pathAccessToken, okEnvelope(`{"accessToken":"","expiredAt":"2099-01-01T00:00:00+08:00"}`))
	_, err := c.Drive.UploadURL(t.Context(), "pre", 1)
	require.ErrorIs(t, err, ErrProtocol)
	assert.Empty(t, m.requests(pathGetUploadURL))
}

func TestUserAgentOption(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	var ua string
	mt.RegisterResponder(http.MethodPost, mockBase+pathGetUploadURL, func(r *http.Request) (*http.Response, error) {
		ua = r.Header.Get("User-Agent")
		return httpmock.NewStringResponse(200, okEnvelope(`{"presignedURL":"https://h/p"}`)), nil
	})
	c, err := New("", "", WithAccessToken("tok"), WithBaseURL(mockBase+"/"), WithUserAgent("my-app/1.0"),
		WithHTTPClient(&http.Client{Transport: mt}))
	require.NoError(t, err)
	_, err = c.Drive.UploadURL(t.Context(), "pre", 1)
	require.NoError(t, err)
	assert.Equal(t, "my-app/1.0", ua)
}

// TestDecodeFailures covers answers whose data cannot be mapped.
func TestDecodeFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path, answer string
		call               func(ctx context.Context, c *Client) error
		wantErr            error
	}{
		{"mkdir dirID 0", pathMkdir, `{"dirID":0}`, func(ctx context.Context, c *Client) error {
			_, err := c.Drive.Mkdir(ctx, 0, "d")
			return err
		}, ErrProtocol},
		{"image mkdir without dirID", pathOSSMkdir, `{"list":[]}`, func(ctx context.Context, c *Client) error {
			_, err := c.Image.Mkdir(ctx, "", "d")
			return err
		}, ErrProtocol},
		{"partNumber not a number", pathListUploadParts, `{"parts":[{"partNumber":"one"}]}`, func(ctx context.Context, c *Client) error {
			_, err := c.Drive.ListParts(ctx, "p")
			return err
		}, ErrProtocol},
		{"data of the wrong shape", pathGetUploadURL, `[1,2]`, func(ctx context.Context, c *Client) error {
			_, err := c.Drive.UploadURL(ctx, "p", 1)
			return err
		}, ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, c := newMockPlatform(t, WithRetry(3, time.Millisecond, time.Millisecond))
			m.reply(tt.path, okEnvelope(tt.answer))
			err := tt.call(t.Context(), c)
			require.ErrorIs(t, err, tt.wantErr)
			assert.Equal(t, 1, len(m.requests(tt.path)), "a protocol error is not retried")
		})
	}
}

// TestInputRejectedBeforeRequest: bad arguments fail with ErrInvalidInput
// and send nothing.
func TestInputRejectedBeforeRequest(t *testing.T) {
	t.Parallel()
	calls := map[string]func(ctx context.Context, c *Client) error{
		"nil FileCreateRequest": func(ctx context.Context, c *Client) error {
			_, err := c.Drive.Create(ctx, nil)
			return err
		},
		"nil ImageCreateRequest": func(ctx context.Context, c *Client) error {
			_, err := c.Image.Create(ctx, nil)
			return err
		},
		"slice 0": func(ctx context.Context, c *Client) error {
			_, err := c.Drive.UploadURL(ctx, "pre", 0)
			return err
		},
		"no preuploadID": func(ctx context.Context, c *Client) error {
			_, err := c.Image.UploadURL(ctx, "", 1)
			return err
		},
		"mkdir bad name": func(ctx context.Context, c *Client) error {
			_, err := c.Drive.Mkdir(ctx, 0, "a/b")
			return err
		},
		"image mkdir empty name": func(ctx context.Context, c *Client) error {
			_, err := c.Image.Mkdir(ctx, "", "")
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, c := newMockPlatform(t)
			require.ErrorIs(t, call(t.Context(), c), ErrInvalidInput)
			assert.Zero(t, m.mt.GetTotalCallCount(), "no request may be sent")
		})
	}
}

func TestFlexInt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{`1`, 1, false},
		{`"1"`, 1, false},
		{`16777216`, 16777216, false},
		{`1.0`, 1, false},
		{`1e3`, 1000, false},
		{`null`, 0, false},
		{`""`, 0, false},
		{`-3`, -3, false},
		{`"x"`, 0, true},
		{`1.5`, 0, true},
		{`true`, 0, true},
	}
	for _, tt := range tests {
		var f flexInt
		err := f.UnmarshalJSON([]byte(tt.in))
		if tt.wantErr {
			assert.Error(t, err, tt.in)
			continue
		}
		if assert.NoError(t, err, tt.in) {
			assert.Equal(t, tt.want, int64(f), tt.in)
		}
	}
}

func TestFlexString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
	}{
		{`"yk6baz"`, "yk6baz"},
		{`""`, ""},
		{`null`, ""},
		{`12345678901234567890`, "12345678901234567890"},
		{`"a\"b"`, `a"b`},
	}
	for _, tt := range tests {
		var f flexString
		require.NoError(t, f.UnmarshalJSON([]byte(tt.in)), tt.in)
		assert.Equal(t, tt.want, string(f), tt.in)
	}
	var f flexString
	assert.Error(t, f.UnmarshalJSON([]byte(`{}`)))
}

// TestNewCopiesHTTPClient: the given client is neither mutated nor used as is.
func TestNewCopiesHTTPClient(t *testing.T) {
	t.Parallel()
	hc := &http.Client{}
	c, err := New(testClientID, testClientSecret, WithHTTPClient(hc))
	require.NoError(t, err)
	assert.Nil(t, hc.Transport, "the caller's client must not be mutated")
	assert.Zero(t, hc.Timeout)
	assert.NotSame(t, hc, c.data)
	assert.Zero(t, c.data.Timeout, "slice uploads have no whole-request timeout")
	assert.Equal(t, DefaultAPITimeout, c.api.GetClient().Timeout)

	hc2 := &http.Client{Timeout: 3 * time.Second}
	c2, err := New(testClientID, testClientSecret, WithHTTPClient(hc2))
	require.NoError(t, err)
	assert.Equal(t, 3*time.Second, c2.api.GetClient().Timeout)
	assert.Zero(t, c2.data.Timeout)
	assert.Equal(t, 3*time.Second, hc2.Timeout)
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	c, err := New(testClientID, testClientSecret)
	require.NoError(t, err)
	assert.Equal(t, DefaultBaseURL, c.baseURL)
	assert.Equal(t, retryPolicy{maxAttempts: DefaultMaxAttempts, base: DefaultRetryBase, cap: DefaultRetryCap}, c.retry)
	assert.Equal(t, DefaultTokenRefreshMargin, c.tokens.margin)
	assert.Equal(t, DefaultUserAgent, c.ua)
	assert.Len(t, c.limits, len(DefaultRateLimits()))

	c, err = New(testClientID, testClientSecret, WithBaseURL("http://127.0.0.1:1/"), WithBaseURL("https://example.test//"))
	require.NoError(t, err)
	assert.Equal(t, "https://example.test", c.baseURL, "the last option wins; trailing slashes are trimmed")
	assert.False(t, strings.HasSuffix(c.baseURL, "/"))
}
