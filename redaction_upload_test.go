package pan123_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// lockedBuffer is a bytes.Buffer for a slog handler shared by goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// secretSet collects every secret that crossed the wire: tokens from
// Authorization headers and access_token answers, presigned signatures
// from PUT URLs and get_upload_url answers.
type secretSet struct {
	mu   sync.Mutex
	vals map[string]string // secret -> what it is
}

func (s *secretSet) add(kind, v string) {
	if v == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vals == nil {
		s.vals = map[string]string{}
	}
	s.vals[v] = kind
}

func (s *secretSet) count(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, k := range s.vals {
		if k == kind {
			n++
		}
	}
	return n
}

// watch makes the rig's transport feed s.
func (s *secretSet) watch(r *rig) {
	r.tr.onRequest = func(q *http.Request) {
		if tok, ok := strings.CutPrefix(q.Header.Get("Authorization"), "Bearer "); ok {
			s.add("token", tok)
		}
		s.add("signature", q.URL.Query().Get("X-Amz-Signature"))
	}
	r.tr.onResponse = func(q *http.Request, body []byte) {
		var env struct {
			Data struct {
				AccessToken  string `json:"accessToken"`
				PresignedURL string `json:"presignedURL"`
			} `json:"data"`
		}
		if json.Unmarshal(body, &env) != nil {
			return
		}
		s.add("token", env.Data.AccessToken)
		if u, err := url.Parse(env.Data.PresignedURL); err == nil {
			s.add("signature", u.Query().Get("X-Amz-Signature"))
		}
	}
}

// errorTexts renders err and every error it wraps in the ways a caller
// might print them.
func errorTexts(err error) []string {
	var out []string
	for _, e := range walkErrors(err) {
		out = append(out, e.Error(), fmt.Sprintf("%v", e), fmt.Sprintf("%+v", e))
		var ue *url.Error
		if errors.As(e, &ue) {
			out = append(out, ue.URL, fmt.Sprintf("%#v", *ue))
		}
	}
	return out
}

// walkErrors lists err and everything it wraps, depth first.
func walkErrors(err error) []error {
	if err == nil {
		return nil
	}
	out := []error{err}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		out = append(out, walkErrors(u.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, walkErrors(e)...)
		}
	}
	return out
}

// TestRedactionUpload uploads through 401 refreshes, 429s, dropped
// connections, expired URLs and finally a slice whose every PUT dies with a
// transport error (*url.Error), logging at Debug, and checks that the
// client secret, every access token and every presigned signature are in
// no log record and no error string.
func TestRedactionUpload(t *testing.T) {
	t.Parallel()
	for _, f := range flows {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			var logs lockedBuffer
			var secrets secretSet
			logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			r := newRigWith(t, nil, func(srv *pan123test.Server) []pan123.Option {
				// A ready-made token first (IssueToken), then the credentials for refreshes.
				tok := srv.IssueToken()
				secrets.add("token", tok)
				return []pan123.Option{pan123.WithLogger(logger), pan123.WithAccessToken(tok)}
			})
			secrets.add("client secret", r.srv.ClientSecret)
			secrets.watch(r)
			var errs []error
			var errMu sync.Mutex
			var expiring atomic.Bool
			expiring.Store(true)
			keepErrs := pan123.WithProgress(func(p pan123.Progress) {
				if p.Err != nil {
					errMu.Lock()
					errs = append(errs, p.Err)
					errMu.Unlock()
				}
				if p.Event == pan123.EventSliceDone && expiring.CompareAndSwap(true, false) {
					r.srv.ExpireTokens() // once (the mint budget allows one forced refresh): a 401 and a refresh
				}
			})

			// 1. An upload that gets through every fault.
			r.srv.Inject(pan123test.Fault{Op: f.create, Code: 429})
			r.srv.Inject(pan123test.Fault{Op: f.slice, SliceNo: 1, Drop: true})
			r.srv.Inject(pan123test.Fault{Op: f.slice, SliceNo: 2, Status: 503})
			r.srv.Inject(pan123test.Fault{Op: pan123test.OpAccessToken, Code: 429})
			if f.getURL != "" {
				r.srv.Inject(pan123test.Fault{Op: f.getURL, SliceNo: 3, Code: 429})
				r.srv.Inject(pan123test.Fault{Op: pan123test.OpPut, SliceNo: 3, Status: 403})
				r.tr.beforePut = func(n int64) {
					if n == 2 {
						r.srv.ExpireURLs()
					}
				}
			}
			path, data := rigFile(t, 4*rigSlice+9, 77)
			up := r.uploader(pan123.WithConcurrency(2), pan123.WithTempDir(t.TempDir()), keepErrs)
			stored, err := f.upload(t.Context(), r, up, fromFile, "redact-ok.bin", path, data)
			require.NoError(t, err)
			require.Zero(t, bytesLost(data, stored))

			// 2. A slice whose every send dies mid-body: the final error
			// wraps the transport's *url.Error. (Tokens stay valid now, so
			// that the last attempt fails on the connection, not on a 401.)
			expiring.Store(false)
			r.srv.Inject(pan123test.Fault{Op: f.slice, SliceNo: 2, Times: -1, Drop: true})
			path2, data2 := rigFile(t, 3*rigSlice+1, 78)
			_, err = f.upload(t.Context(), r, up, fromFile, "redact-fail.bin", path2, data2,
				pan123.WithSliceRetry(3, time.Millisecond, 2*time.Millisecond))
			var ue *pan123.UploadError
			require.ErrorAs(t, err, &ue)
			assert.Equal(t, 2, ue.SliceNo)
			var urlErr *url.Error
			require.ErrorAs(t, err, &urlErr, "the final error wraps the transport error")
			errs = append(errs, err)

			// The test saw what it guards: secrets went over the wire, and
			// the log holds the faults.
			require.GreaterOrEqual(t, secrets.count("token"), 2, "tokens seen")
			if f.getURL != "" {
				require.GreaterOrEqual(t, secrets.count("signature"), 8, "presigned signatures seen")
			}
			log := logs.String()
			require.Contains(t, log, "new access token")
			require.Contains(t, log, "retrying slice")
			require.Contains(t, log, `"level":"DEBUG"`)

			var texts []string
			for _, e := range errs {
				texts = append(texts, errorTexts(e)...)
			}
			secrets.mu.Lock()
			defer secrets.mu.Unlock()
			for secret, kind := range secrets.vals {
				assert.NotContains(t, log, secret, "a %s is in the log", kind)
				for _, s := range texts {
					assert.NotContains(t, s, secret, "a %s is in an error", kind)
				}
			}
			// No presigned query at all, not only the signature.
			assert.NotContains(t, log, "X-Amz-")
			for _, s := range texts {
				assert.NotContains(t, s, "X-Amz-")
			}
			t.Logf("%s: %d secrets checked against %d log bytes and %d error texts; final error: %v",
				f.name, len(secrets.vals), len(log), len(texts), err)
		})
	}
}
