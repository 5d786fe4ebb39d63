package pan123_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// The credential rules: a Client mints at most 2 access tokens per
// cool-down whatever fails, and no secret follows a redirect.

// maxTokens is the budget of a Client within one cool-down: the first token
// and one forced refresh.
const maxTokens = 2

// boundedCtx is each test's own deadline: an unbounded refresh loop fails
// the test in seconds instead of hitting go test's timeout.
func boundedCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// tokenOp is the per-slice request of f that carries the access token:
// get_upload_url in V1 (a presigned PUT carries none), the slice POST in V2.
func tokenOp(f flow) pan123test.Op {
	if f.v2 {
		return f.slice
	}
	return f.getURL
}

// TestTokenBudgetAlways401: an endpoint answering code 401 on every call
// ends the upload with ErrUnauthorized (the platform's message and trace
// ID), long before the test's own deadline, having minted at most 2 tokens.
func TestTokenBudgetAlways401(t *testing.T) {
	t.Parallel()
	for _, f := range flows {
		op := tokenOp(f)
		t.Run(f.name+"/"+string(op), func(t *testing.T) {
			t.Parallel()
			r := newRig(t, nil)
			r.srv.Inject(pan123test.Fault{Op: op, Code: 401, Times: -1})
			path, data := rigFile(t, 8*rigSlice, 11)
			_, err := f.upload(boundedCtx(t), r, r.uploader(pan123.WithConcurrency(4)), fromFile, "always401.bin", path, data)
			t.Logf("%s: tokens minted: %d; %v", t.Name(), r.srv.TokensIssued(), err)
			require.ErrorIs(t, err, pan123.ErrUnauthorized)
			require.NotErrorIs(t, err, context.DeadlineExceeded)
			ae := requireAPIError(t, err)
			assert.Equal(t, "access_token无效", ae.Message)
			assert.NotEmpty(t, ae.TraceID)
			assert.LessOrEqual(t, r.srv.TokensIssued(), maxTokens, "tokens minted")
			assert.LessOrEqual(t, r.srv.Count(pan123test.OpAccessToken), maxTokens, "access_token calls")
		})
	}
	t.Run("create/ten uploads", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, nil)
		r.srv.Inject(pan123test.Fault{Op: pan123test.OpCreate, Code: 401, Times: -1})
		path, data := rigFile(t, 1000, 12)
		ctx := boundedCtx(t)
		for range 10 {
			_, err := flows[0].upload(ctx, r, r.uploader(), fromFile, "create401.bin", path, data)
			require.ErrorIs(t, err, pan123.ErrUnauthorized)
		}
		t.Logf("%s: tokens minted: %d", t.Name(), r.srv.TokensIssued())
		assert.LessOrEqual(t, r.srv.TokensIssued(), maxTokens, "tokens minted")
		assert.LessOrEqual(t, r.srv.Count(pan123test.OpAccessToken), maxTokens, "access_token calls")
	})
}

func requireAPIError(t *testing.T, err error) *pan123.APIError {
	t.Helper()
	var ae *pan123.APIError
	require.ErrorAs(t, err, &ae)
	return ae
}

// TestTokenExpiredAtForms: a token whose expiredAt is already past on
// arrival (a client clock ahead of the platform's), missing, or a Unix
// number is used until the platform refuses it: one token for a 16-slice
// upload (a client that took the token for expired would fetch another at
// its second call).
func TestTokenExpiredAtForms(t *testing.T) {
	t.Parallel()
	forms := map[string]func(exp time.Time) any{
		"past":            func(exp time.Time) any { return exp.Add(-100 * 24 * time.Hour).Format(time.RFC3339) },
		"null":            func(time.Time) any { return nil },
		"unix seconds":    func(exp time.Time) any { return exp.Unix() },
		"unix millis":     func(exp time.Time) any { return exp.UnixMilli() },
		"past unix":       func(exp time.Time) any { return exp.Add(-100 * 24 * time.Hour).Unix() },
		"unknown string":  func(time.Time) any { return "in 90 days" },
		"numeric string":  func(exp time.Time) any { return fmt.Sprint(exp.Unix()) },
		"rfc3339 default": func(exp time.Time) any { return exp.Format(time.RFC3339) },
	}
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var logs lockedBuffer
			r := newRig(t, []pan123test.Option{pan123test.WithSliceSize(1 << 10), pan123test.WithExpiredAt(form)},
				pan123.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
			path, data := rigFile(t, 16<<10, 13)
			stored, err := flows[0].upload(boundedCtx(t), r, r.uploader(pan123.WithConcurrency(4)), fromFile, "expiry.bin", path, data)
			t.Logf("%s: tokens minted: %d", t.Name(), r.srv.TokensIssued())
			require.NoError(t, err)
			assert.Zero(t, bytesLost(data, stored))
			assert.Equal(t, 1, r.srv.TokensIssued(), "tokens minted")
			warnings := 0
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, "expiredAt") {
					warnings++
				}
			}
			if strings.HasPrefix(name, "unix") || name == "rfc3339 default" || name == "numeric string" {
				assert.Zero(t, warnings, "a readable future expiry is no warning")
			} else {
				assert.Equal(t, 1, warnings, "one warning for an unusable expiredAt:\n%s", logs.String())
			}
		})
	}
}

// TestTokenLimitNeverMinted: the platform's "tokens number has exceeded the
// limit" (code 401) is ErrTokenLimit, also ErrUnauthorized, and is never
// answered with a new token.
func TestTokenLimitNeverMinted(t *testing.T) {
	t.Parallel()
	for _, f := range flows {
		op := tokenOp(f)
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, nil)
			r.srv.Inject(pan123test.Fault{Op: op, Code: 401, Message: pan123test.MsgTokenLimit, Times: -1})
			path, data := rigFile(t, 4*rigSlice, 14)
			_, err := f.upload(boundedCtx(t), r, r.uploader(pan123.WithConcurrency(4)), fromFile, "limit.bin", path, data)
			t.Logf("%s: tokens minted: %d; %v", t.Name(), r.srv.TokensIssued(), err)
			require.ErrorIs(t, err, pan123.ErrTokenLimit)
			require.ErrorIs(t, err, pan123.ErrUnauthorized)
			assert.Equal(t, pan123test.MsgTokenLimit, requireAPIError(t, err).Message)
			assert.Equal(t, 1, r.srv.TokensIssued(), "no token minted after the limit answer")
		})
	}
}

// recorder is a server outside the platform: it records everything it
// receives. A redirect must never reach it.
type recorder struct {
	mu   sync.Mutex
	seen []string
	URL  string
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) {
		b, _ := io.ReadAll(q.Body)
		rec.mu.Lock()
		rec.seen = append(rec.seen, fmt.Sprintf("%s %s %v %s", q.Method, q.URL, q.Header, b))
		rec.mu.Unlock()
		// Answer like a storage node that accepts anything.
		w.Header().Set("ETag", `"x"`)
		_, _ = io.WriteString(w, `{"code":0,"message":"ok","data":{"accessToken":"evil","presignedURL":"`+q.Host+`","completed":true,"fileID":1}}`)
	}))
	t.Cleanup(srv.Close)
	rec.URL = srv.URL
	return rec
}

func (rec *recorder) requests() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.seen...)
}

// TestRedirectsNeverFollowed: every API call and every slice, answered with
// each redirect status toward another port (as a scheme or host change
// would be), fails with an *APIError naming the status. Nothing reaches
// the other server: no client secret, no token, no body; no error text or
// log line holds a secret or a presigned query, even when the Location
// header does not parse.
func TestRedirectsNeverFollowed(t *testing.T) {
	t.Parallel()
	const steal = "/steal?X-Amz-Signature=LOCATION-SECRET"
	locations := map[string]string{
		"other port": "", // the subtest's own recorder

		"unparsable":    "http://%zz" + steal,
		"relative path": steal,
	}
	type target struct {
		op   pan123test.Op
		call func(ctx context.Context, r *rig) error
	}
	upload := func(f flow) func(ctx context.Context, r *rig) error {
		return func(ctx context.Context, r *rig) error {
			path, data := rigFile(t, 2*rigSlice+3, 15)
			_, err := f.upload(ctx, r, r.uploader(), fromFile, "redirect.bin", path, data)
			return err
		}
	}
	var targets []target
	for _, f := range flows {
		targets = append(targets, target{f.create, upload(f)}, target{f.slice, upload(f)}, target{f.complete, upload(f)})
		if f.getURL != "" {
			targets = append(targets, target{f.getURL, upload(f)})
		}
	}
	targets = append(targets,
		target{pan123test.OpAccessToken, upload(flows[0])},
		target{pan123test.OpMkdir, func(ctx context.Context, r *rig) error { _, err := r.c.Drive.Mkdir(ctx, 0, "d"); return err }},
		target{pan123test.OpOSSMkdir, func(ctx context.Context, r *rig) error { _, err := r.c.Image.Mkdir(ctx, "", "d"); return err }},
		target{pan123test.OpFileList, func(ctx context.Context, r *rig) error { _, err := r.c.Drive.List(ctx, 0, 0, 10); return err }},
		target{pan123test.OpOSSFileList, func(ctx context.Context, r *rig) error { _, err := r.c.Image.List(ctx, "", "", 10); return err }},
		target{pan123test.OpV2Domain, func(ctx context.Context, r *rig) error { _, err := r.c.Drive.UploadDomains(ctx); return err }},
		target{pan123test.OpV2SHA1Reuse, func(ctx context.Context, r *rig) error {
			_, err := r.c.Drive.SHA1Reuse(ctx, &pan123.FileSHA1ReuseRequest{Filename: "a", SHA1: strings.Repeat("a", 40), Size: 1})
			return err
		}},
		target{pan123test.OpV2Single, func(ctx context.Context, r *rig) error {
			_, err := r.c.Drive.SingleUpload(ctx, r.srv.UploadServers()[0], &pan123.FileSingleUploadRequest{Filename: "s",
				Etag: "0cc175b9c0f1b6a831c399e269772661", Size: 1}, strings.NewReader("a"))
			return err
		}},
	)
	type redirect struct {
		status int
		loc    string
	}
	var cases []redirect
	for _, status := range []int{301, 302, 303, 307, 308} {
		cases = append(cases, redirect{status, "other port"})
	}
	cases = append(cases, redirect{302, "unparsable"}, redirect{307, "relative path"})
	for _, rc := range cases {
		status := rc.status
		for _, tg := range targets {
			t.Run(fmt.Sprintf("%d/%s/%s", status, rc.loc, tg.op), func(t *testing.T) {
				t.Parallel()
				var logs lockedBuffer
				var secrets secretSet
				logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				r := newRig(t, nil, pan123.WithLogger(logger))
				secrets.add("client secret", r.srv.ClientSecret)
				secrets.add("location query", "LOCATION-SECRET")
				secrets.watch(r)
				evil := newRecorder(t)
				loc := locations[rc.loc]
				if loc == "" {
					loc = evil.URL + steal
				}
				r.srv.Inject(pan123test.Fault{Op: tg.op, Status: status, Location: loc, Times: -1})
				err := tg.call(boundedCtx(t), r)
				require.Error(t, err)
				ae := requireAPIError(t, err)
				assert.Equal(t, status, ae.HTTPStatus, "the error names the redirect status: %v", err)
				assert.Contains(t, err.Error(), fmt.Sprint(status))
				assert.Empty(t, evil.requests(), "a request followed the redirect")
				for _, q := range r.srv.Requests() {
					assert.NotContains(t, q.Path, "/steal", "a redirect was followed on the platform's host")
				}
				assert.LessOrEqual(t, r.srv.TokensIssued(), maxTokens)
				log := logs.String()
				texts := errorTexts(err)
				secrets.mu.Lock()
				defer secrets.mu.Unlock()
				for secret, kind := range secrets.vals {
					assert.NotContains(t, log, secret, "a %s is in the log", kind)
					for _, s := range texts {
						assert.NotContains(t, s, secret, "a %s is in an error", kind)
					}
				}
				for _, s := range append(texts, log) {
					assert.NotContains(t, s, "X-Amz-")
				}
			})
		}
	}
}

// TestRedirectHTTPSToHTTP: a 308 from the https API host to plain http on
// the same host (another port) is refused: the Bearer token never travels
// in clear text.
func TestRedirectHTTPSToHTTP(t *testing.T) {
	t.Parallel()
	evil := newRecorder(t)
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) {
		http.Redirect(w, q, evil.URL+q.URL.Path, http.StatusPermanentRedirect)
	}))
	t.Cleanup(api.Close)
	c, err := pan123.New("", "", pan123.WithBaseURL(api.URL), pan123.WithHTTPClient(api.Client()),
		pan123.WithAccessToken("tok-SECRET-clear-text"), pan123.WithoutRateLimits())
	require.NoError(t, err)
	_, err = c.Drive.UploadURL(boundedCtx(t), "pre", 1)
	assert.Equal(t, http.StatusPermanentRedirect, requireAPIError(t, err).HTTPStatus, "%v", err)
	assert.Empty(t, evil.requests(), "the token went to the http server")
}
