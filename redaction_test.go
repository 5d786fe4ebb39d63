package pan123

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

const testSignature = "SECRETSIG"

// storageServer is a fake presigned-URL host; every PUT gets put.
func storageServer(t *testing.T, put http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(put)
	t.Cleanup(s.Close)
	return s
}

func presigned(base string) string {
	return base + "/123-295/obj?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20300101&X-Amz-Signature=" + testSignature
}

// TestRedaction runs calls through many faults with a Debug JSON logger and
// checks that the client secret, every access token and the presigned
// signatures appear in no log record and no error string.
func TestRedaction(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	srv, c := newTestClient(t, nil, WithLogger(debugLogger(t, &logs)), WithRetry(3, time.Millisecond, time.Millisecond))
	ctx := t.Context()
	var errs []error
	note := func(err error) {
		t.Helper()
		if err != nil {
			errs = append(errs, err)
		}
	}

	// Plain calls: the first token is fetched.
	pre := preupload(t, c)
	u1, err := c.Drive.UploadURL(ctx, pre, 1)
	require.NoError(t, err)

	// 401, then a refresh whose first access_token attempts are refused.
	srv.ExpireTokens()
	srv.Inject(pan123test.Fault{Op: pan123test.OpAccessToken, Status: http.StatusBadGateway, Times: 2})
	_, err = c.Drive.ListParts(ctx, pre)
	require.NoError(t, err)

	// 429 twice, then success.
	srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Code: 429, Times: 2})
	u2, err := c.Drive.UploadURL(ctx, pre, 1)
	require.NoError(t, err)

	// Transport errors until the attempts run out.
	srv.Inject(pan123test.Fault{Op: pan123test.OpListUploadParts, Drop: true, Times: -1})
	_, err = c.Drive.ListParts(ctx, pre)
	require.Error(t, err)
	note(err)

	// The platform refuses the token and the credentials.
	srv.ExpireTokens()
	srv.Inject(pan123test.Fault{Op: pan123test.OpAccessToken, Code: 401, Message: "clientSecret invalid", Times: -1})
	_, err = c.Drive.AsyncResult(ctx, pre)
	require.ErrorIs(t, err, ErrUnauthorized)
	note(err)

	// Presigned PUTs: dropped mid-body, refused with 403, host down, bad scheme.
	body := bytes.Repeat([]byte("x"), 1<<20)
	srv.Inject(pan123test.Fault{Op: pan123test.OpPut, Drop: true})
	err = c.PutSlice(ctx, u1.PresignedURL, bytes.NewReader(body), int64(len(body)))
	require.Error(t, err)
	var ue *url.Error
	require.ErrorAs(t, err, &ue, "the transport error stays inspectable")
	put, perr := url.Parse(u1.PresignedURL)
	require.NoError(t, perr)
	assert.Contains(t, ue.URL, put.Path, "the URL keeps its path")
	note(err)

	srv.ExpireURLs()
	err = c.PutSlice(ctx, u2.PresignedURL, bytes.NewReader(body[:1]), 1)
	ae := requireAPIError(t, err)
	assert.Equal(t, http.StatusForbidden, ae.HTTPStatus)
	assert.Equal(t, "AccessDenied", ae.Message)
	assert.NotContains(t, ae.Path, "?")
	note(err)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	down := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	err = c.PutSlice(ctx, presigned(down), bytes.NewReader(body[:10]), 10)
	require.Error(t, err)
	note(err)

	err = c.PutSlice(ctx, "ftp://h/obj?X-Amz-Signature="+testSignature, bytes.NewReader(body[:10]), 10)
	require.ErrorIs(t, err, ErrProtocol)
	note(err)

	secrets := []string{testClientSecret, testSignature}
	for _, u := range []*UploadURL{u1, u2} {
		q, err := url.Parse(u.PresignedURL)
		require.NoError(t, err)
		sig := q.Query().Get("X-Amz-Signature")
		require.NotEmpty(t, sig)
		secrets = append(secrets, sig)
	}
	tokens := map[string]bool{}
	for _, r := range srv.Requests() {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			tokens[tok] = true
		}
	}
	require.Equal(t, 2, srv.TokensIssued(), "two tokens were issued")
	require.Len(t, tokens, 2, "and both were sent")
	for tok := range tokens {
		secrets = append(secrets, tok)
	}
	out := logs.String()
	for _, want := range []string{"retrying", "refreshing", "request failed", `"level":"DEBUG"`} {
		assert.Contains(t, out, want, "the logs must hold the faults, or this test proves nothing")
	}
	for _, s := range secrets {
		assert.NotContains(t, out, s, "logs leak a secret")
		for _, err := range errs {
			for _, text := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err)} {
				assert.NotContains(t, text, s, "error leaks a secret: %s", text)
			}
			if errors.As(err, &ue) {
				assert.NotContains(t, ue.URL, s)
			}
		}
	}
}

// TestPutSlice checks the presigned PUT itself: Content-Length set, octet
// stream, no Authorization, no Platform, the query kept for the storage host.
func TestPutSlice(t *testing.T) {
	t.Parallel()
	type seen struct {
		header http.Header
		length int64
		query  string
		body   []byte
	}
	got := make(chan seen, 1)
	s := storageServer(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Header.Clone(), r.ContentLength, r.URL.RawQuery, b}
	})
	c, err := New("", "", WithAccessToken("tok-SECRET"), WithBaseURL("http://127.0.0.1:1"))
	require.NoError(t, err)

	// The handler sends before it answers, so a PutSlice that returned nil
	// has been seen: a receive that would wait means no PUT was made.
	received := func() seen {
		t.Helper()
		select {
		case g := <-got:
			return g
		default:
			t.Fatal("PutSlice returned nil, but the storage server saw no PUT")
			return seen{}
		}
	}
	require.NoError(t, c.PutSlice(t.Context(), presigned(s.URL), strings.NewReader("hello"), 5))
	g := received()
	assert.Equal(t, int64(5), g.length)
	assert.Equal(t, "hello", string(g.body))
	assert.Equal(t, "application/octet-stream", g.header.Get("Content-Type"))
	assert.Empty(t, g.header.Values("Authorization"))
	assert.Empty(t, g.header.Values("Platform"))
	assert.Empty(t, g.header.Values("Transfer-Encoding"))
	assert.Contains(t, g.query, "X-Amz-Signature="+testSignature)

	require.NoError(t, c.PutSlice(t.Context(), presigned(s.URL), nil, 0))
	g = received()
	assert.Equal(t, int64(0), g.length)
}

func TestSanitizeURL(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"https://h/p?X-Amz-Signature=SECRETSIG": "https://h/p?REDACTED",
		"https://h/p#frag":                      "https://h/p?REDACTED",
		"https://h/p?":                          "https://h/p?REDACTED",
		"https://h/p":                           "https://h/p",
		"":                                      "",
	}
	for in, want := range tests {
		assert.Equal(t, want, sanitizeURL(in), in)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	raw := &url.Error{Op: "Put", URL: "https://h/p?X-Amz-Signature=" + testSignature, Err: io.ErrUnexpectedEOF}

	got := redact(raw)
	assert.NotContains(t, got.Error(), testSignature)
	assert.ErrorIs(t, got, io.ErrUnexpectedEOF)
	assert.Equal(t, testSignature, strings.TrimPrefix(raw.URL, "https://h/p?X-Amz-Signature="), "the original is not mutated")

	wrapped := redact(fmt.Errorf("slice 3: %w", raw))
	assert.NotContains(t, wrapped.Error(), testSignature)
	assert.Contains(t, wrapped.Error(), "slice 3")
	assert.ErrorIs(t, wrapped, io.ErrUnexpectedEOF)
	var ue *url.Error
	require.ErrorAs(t, wrapped, &ue)
	assert.Equal(t, "https://h/p?REDACTED", ue.URL)

	plain := errors.New("boom")
	assert.Same(t, plain, redact(plain))
	noQuery := &url.Error{Op: "Post", URL: "https://h/p", Err: io.EOF}
	assert.Same(t, noQuery, redact(noQuery))
	assert.Nil(t, redact(nil))
}
