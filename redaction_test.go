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

// dropAfterSome reads a little of the body, then resets the connection.
func dropAfterSome(w http.ResponseWriter, r *http.Request) {
	_, _ = io.CopyN(io.Discard, r.Body, 4<<10)
	resetConn(w, r, 0)
}

// TestRedaction runs calls through many faults with a Debug JSON logger and
// checks that the client secret, every access token and the presigned
// signature appear in no log record and no error string.
func TestRedaction(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	p := newFakePlatform(t)
	c := newTestClient(t, p, WithLogger(debugLogger(t, &logs)), WithRetry(3, time.Millisecond, time.Millisecond))
	ctx := t.Context()
	var errs []error
	note := func(err error) {
		t.Helper()
		if err != nil {
			errs = append(errs, err)
		}
	}

	// A plain call: the first token is fetched.
	_, err := c.Drive.UploadURL(ctx, "pre", 1)
	require.NoError(t, err)

	// 401, then a refresh whose first access_token attempt is refused.
	p.revokeAll()
	p.handle(pathAccessToken, failFirst(2, withServerError, func(w http.ResponseWriter, r *http.Request, _ int) {
		p.issueToken(w, mustBody(t, r))
	}))
	_, err = c.Drive.Complete(ctx, "pre")
	require.NoError(t, err)

	// 429 twice, then success.
	p.handle(pathGetUploadURL, failFirst(2, withCode(429, "请求太频繁"), okData(map[string]any{"presignedURL": "https://h/p"})))
	_, err = c.Drive.UploadURL(ctx, "pre", 1)
	require.NoError(t, err)

	// Transport errors until the attempts run out.
	p.handle(pathListUploadParts, resetConn)
	_, err = c.Drive.ListParts(ctx, "pre")
	require.Error(t, err)
	note(err)

	// The platform refuses the token and the credentials.
	p.revokeAll()
	p.handle(pathAccessToken, withCode(401, "clientSecret invalid"))
	_, err = c.Drive.AsyncResult(ctx, "pre")
	require.ErrorIs(t, err, ErrUnauthorized)
	note(err)

	// Presigned PUTs: dropped mid-body, refused with 403, host down, bad scheme.
	body := bytes.Repeat([]byte("x"), 1<<20)
	drop := storageServer(t, dropAfterSome)
	err = c.PutSlice(ctx, presigned(drop.URL), bytes.NewReader(body), int64(len(body)))
	require.Error(t, err)
	var ue *url.Error
	require.ErrorAs(t, err, &ue, "the transport error stays inspectable")
	assert.Contains(t, ue.URL, "/123-295/obj", "the URL keeps its path")
	note(err)

	denied := storageServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`)
	})
	err = c.PutSlice(ctx, presigned(denied.URL), bytes.NewReader(body[:10]), 10)
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

	secrets := append([]string{testClientSecret, testSignature}, p.issuedTokens()...)
	require.GreaterOrEqual(t, len(secrets), 4, "at least two tokens were issued")
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

	require.NoError(t, c.PutSlice(t.Context(), presigned(s.URL), strings.NewReader("hello"), 5))
	g := <-got
	assert.Equal(t, int64(5), g.length)
	assert.Equal(t, "hello", string(g.body))
	assert.Equal(t, "application/octet-stream", g.header.Get("Content-Type"))
	assert.Empty(t, g.header.Values("Authorization"))
	assert.Empty(t, g.header.Values("Platform"))
	assert.Empty(t, g.header.Values("Transfer-Encoding"))
	assert.Contains(t, g.query, "X-Amz-Signature="+testSignature)

	require.NoError(t, c.PutSlice(t.Context(), presigned(s.URL), nil, 0))
	g = <-got
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
