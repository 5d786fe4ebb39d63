package pan123

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

// boundedCtx is the test's own deadline: a hang fails in seconds.
func boundedCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestTokenCooldown: after the first token and one forced refresh, a 401
// is final until the cool-down has passed on the client's clock; then one
// more refresh is allowed.
func TestTokenCooldown(t *testing.T) {
	t.Parallel()
	clk := newFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	srv, c := newTestClient(t, []pan123test.Option{pan123test.WithClock(clk.Now)})
	c.now = clk.Now
	pre := preupload(t, c)
	call := func() error {
		_, err := c.Drive.UploadURL(boundedCtx(t), pre, 1)
		return err
	}
	require.NoError(t, call())
	srv.ExpireTokens()
	require.NoError(t, call(), "one forced refresh")
	require.Equal(t, 2, srv.Count(pan123test.OpAccessToken))

	srv.ExpireTokens()
	for range 5 {
		err := call()
		require.ErrorIs(t, err, ErrUnauthorized)
		var ae *APIError
		require.ErrorAs(t, err, &ae, "the platform's refusal: %v", err)
		assert.Equal(t, "access_token无效", ae.Message)
		assert.NotEmpty(t, ae.TraceID)
	}
	assert.Equal(t, 2, srv.Count(pan123test.OpAccessToken), "no token within the cool-down")
	assert.Equal(t, 4, srv.Count(pan123test.OpGetUploadURL), "a refused token is not sent again")

	clk.Advance(DefaultTokenCooldown)
	require.NoError(t, call(), "a refresh after the cool-down")
	assert.Equal(t, 3, srv.Count(pan123test.OpAccessToken))
}

// TestTokenStorePanicOnce: a TokenStore.Load that panics once (recovered
// by the caller, or turned into an error) leaves the single-flight usable:
// the next call gets a token instead of hanging.
func TestTokenStorePanicOnce(t *testing.T) {
	t.Parallel()
	store := &panicStore{}
	srv, c := newTestClient(t, nil, WithTokenStore(store))
	first := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = errors.New("recovered")
			}
		}()
		_, err = c.Drive.UploadDomains(boundedCtx(t))
		return err
	}
	require.Error(t, first())
	_, err := c.Drive.UploadDomains(boundedCtx(t))
	require.NoError(t, err)
	assert.Equal(t, 1, srv.Count(pan123test.OpAccessToken))
}

type panicStore struct{ loads atomic.Int32 }

func (s *panicStore) Load(context.Context) (Token, error) {
	if s.loads.Add(1) == 1 {
		panic("store broken")
	}
	return Token{}, nil
}

func (s *panicStore) Save(context.Context, Token) error { return nil }

// TestTokenFetchOutlivesCanceledCaller: a caller that gives up while the
// token is being fetched does not waste it: ten callers each canceled
// during the fetch leave one token, which the next callers use.
func TestTokenFetchOutlivesCanceledCaller(t *testing.T) {
	t.Parallel()
	type caller struct {
		cancel context.CancelFunc
		done   chan struct{}
	}
	var cur atomic.Pointer[caller]
	var fetches atomic.Int32
	tr := &countingTransport{next: &http.Transport{}, before: func(r *http.Request) {
		if r.URL.Path == pathAccessToken {
			fetches.Add(1)
			k := cur.Load()
			k.cancel() // the caller gives up while its token is fetched
			<-k.done
		}
	}}
	srv, c := newTestClient(t, nil, WithHTTPClient(&http.Client{Transport: tr}))
	for range 10 {
		ctx, cancel := context.WithCancel(boundedCtx(t))
		k := &caller{cancel, make(chan struct{})}
		cur.Store(k)
		_, _ = c.Drive.UploadDomains(ctx)
		close(k.done)
		cancel()
	}
	_, err := c.Drive.UploadDomains(boundedCtx(t))
	require.NoError(t, err)
	assert.Equal(t, int32(1), fetches.Load(), "token fetches")
	assert.Equal(t, 1, srv.Count(pan123test.OpAccessToken), "tokens minted")
}

// TestNilContext: every public entry point that takes a context refuses a
// nil one with ErrInvalidInput, before any request or goroutine.
func TestNilContext(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil)
	up := NewUploader(c)
	var ctx context.Context // nil
	file := t.TempDir() + "/f"
	require.NoError(t, os.WriteFile(file, []byte("abc"), 0o600))
	body := func() *strings.Reader { return strings.NewReader("abc") }
	calls := map[string]func() error{
		"UploadFile":      func() error { _, err := up.UploadFile(ctx, file, FileInput{}); return err },
		"Upload":          func() error { _, err := up.Upload(ctx, body(), FileInput{Name: "f"}); return err },
		"UploadImageFile": func() error { _, err := up.UploadImageFile(ctx, file, ImageInput{}); return err },
		"UploadDir":       func() error { _, err := up.UploadDir(ctx, t.TempDir(), DirInput{}); return err },
		"UploadImage":     func() error { _, err := up.UploadImage(ctx, body(), ImageInput{Name: "f"}); return err },
		"ResumeFile":      func() error { _, err := up.ResumeFile(ctx, &UploadError{}); return err },
		"ResumeImageFile": func() error { _, err := up.ResumeImageFile(ctx, &UploadError{}); return err },
		"CreateFile":      func() error { _, err := c.Drive.Create(ctx, &FileCreateRequest{Filename: "f"}); return err },
		"GetUploadURL":    func() error { _, err := c.Drive.UploadURL(ctx, "pre", 1); return err },
		"ListUploadParts": func() error { _, err := c.Drive.ListParts(ctx, "pre"); return err },
		"CompleteUpload":  func() error { _, err := c.Drive.Complete(ctx, "pre"); return err },
		"UploadAsyncResult": func() error {
			_, err := c.Drive.AsyncResult(ctx, "pre")
			return err
		},
		"Mkdir":                func() error { _, err := c.Drive.Mkdir(ctx, 0, "d"); return err },
		"ListFiles":            func() error { _, err := c.Drive.List(ctx, 0, 0, 10); return err },
		"EnsureDir":            func() error { _, err := c.Drive.EnsureDir(ctx, 0, "a/b"); return err },
		"EnsureImageDir":       func() error { _, err := c.Image.EnsureDir(ctx, "", "a/b"); return err },
		"ListImages":           func() error { _, err := c.Image.List(ctx, "", "", 10); return err },
		"CreateImage":          func() error { _, err := c.Image.Create(ctx, &ImageCreateRequest{Filename: "f"}); return err },
		"GetImageUploadURL":    func() error { _, err := c.Image.UploadURL(ctx, "pre", 1); return err },
		"ListImageUploadParts": func() error { _, err := c.Image.ListParts(ctx, "pre"); return err },
		"CompleteImageUpload":  func() error { _, err := c.Image.Complete(ctx, "pre"); return err },
		"ImageUploadAsyncResult": func() error {
			_, err := c.Image.AsyncResult(ctx, "pre")
			return err
		},
		"MkdirImage":       func() error { _, err := c.Image.Mkdir(ctx, "", "d"); return err },
		"CreateFileV2":     func() error { _, err := c.Drive.CreateV2(ctx, &FileCreateRequest{Filename: "f"}); return err },
		"UploadDomains":    func() error { _, err := c.Drive.UploadDomains(ctx); return err },
		"UploadSliceV2":    func() error { return c.Drive.UploadSliceV2(ctx, srv.UploadServers()[0], "pre", 1, testMD5, body(), 3) },
		"CompleteUploadV2": func() error { _, err := c.Drive.CompleteV2(ctx, "pre"); return err },
		"SingleUpload": func() error {
			_, err := c.Drive.SingleUpload(ctx, srv.UploadServers()[0], &FileSingleUploadRequest{Filename: "f", Etag: testMD5, Size: 3}, body())
			return err
		},
		"SHA1Reuse": func() error { _, err := c.Drive.SHA1Reuse(ctx, &FileSHA1ReuseRequest{Filename: "f"}); return err },
		"PutSlice":  func() error { return c.PutSlice(ctx, srv.URL+"/storage/k/1?X-Amz-Signature=1", body(), 3) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			require.ErrorIs(t, err, ErrInvalidInput)
			if !strings.HasPrefix(name, "Resume") { // an empty UploadError is refused first
				assert.Contains(t, err.Error(), "nil context")
			}
		})
	}
	assert.Empty(t, srv.Requests(), "no request sent")
}

// TestTokenRenewalFailureKeepsToken: when the renewal due by time fails,
// the current token (not refused, not yet expired) is still sent.
func TestTokenRenewalFailureKeepsToken(t *testing.T) {
	t.Parallel()
	clk := newFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	srv, c := newTestClient(t, []pan123test.Option{pan123test.WithTokenTTL(time.Hour), pan123test.WithClock(clk.Now)},
		WithTokenRefreshMargin(5*time.Minute))
	c.now = clk.Now
	pre := preupload(t, c)
	_, err := c.Drive.UploadURL(boundedCtx(t), pre, 1)
	require.NoError(t, err)
	srv.Inject(pan123test.Fault{Op: pan123test.OpAccessToken, Status: http.StatusBadGateway, Body: "down", Times: -1})
	clk.Advance(56 * time.Minute) // within the margin: renewal due
	_, err = c.Drive.UploadURL(boundedCtx(t), pre, 1)
	require.NoError(t, err)
	reqs := requestsOf(srv, pan123test.OpGetUploadURL)
	require.Len(t, reqs, 2)
	assert.Equal(t, bearer(reqs[0]), bearer(reqs[1]), "the current token is kept")
	// The renewal runs in the background; once it has failed, later calls
	// keep the current token without another fetch.
	require.Eventually(t, func() bool {
		c.tokens.mu.Lock()
		defer c.tokens.mu.Unlock()
		return srv.Count(pan123test.OpAccessToken) == 2 && c.tokens.flight == nil
	}, 10*time.Second, time.Millisecond)
	_, err = c.Drive.UploadURL(boundedCtx(t), pre, 1)
	require.NoError(t, err)
	assert.Equal(t, 2, srv.Count(pan123test.OpAccessToken), "the first fetch, then one renewal: a 502 page may have minted, so it is not sent again")
	assert.Equal(t, bearer(reqs[0]), bearer(requestsOf(srv, pan123test.OpGetUploadURL)[2]), "the current token is still sent")
}
