package pan123

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

// expiredAt as a Unix time: 0 (or less) is no expiry, the token is kept
// until refused; up to 1e11 it is seconds, above it milliseconds.
func TestTokenExpiryAsUnixTime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		expiredAt any
		want      time.Time // zero: unknown, kept until refused
	}{
		{"zero", 0, time.Time{}},
		{"zero string", "0", time.Time{}},
		{"negative", -5, time.Time{}},
		{"1e11 is seconds", int64(1e11), time.Unix(1e11, 0)},
		{"above 1e11 is milliseconds", int64(1e11) + 1, time.UnixMilli(1e11 + 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newFakeClock(time.Date(1972, 1, 1, 0, 0, 0, 0, time.UTC)) // before every expiry above
			srv, c := newTestClient(t, []pan123test.Option{pan123test.WithExpiredAt(func(time.Time) any { return tc.expiredAt })})
			c.now = clk.Now
			pre := preupload(t, c)
			_, err := c.Drive.UploadURL(t.Context(), pre, 1)
			require.NoError(t, err)
			assert.True(t, c.tokens.cur.ExpiresAt.Equal(tc.want), "ExpiresAt %v, want %v", c.tokens.cur.ExpiresAt, tc.want)
			assert.Equal(t, 1, srv.Count(pan123test.OpAccessToken), "the token is used, not fetched again")
		})
	}
}

// The refresh after a 401 does not use up an attempt of the call: with two
// attempts, a call refused once for its token and then failed once by a
// transient error still gets its retry.
func TestTokenRefreshCostsNoAttempt(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil, WithRetry(2, time.Millisecond, time.Millisecond))
	pre := preupload(t, c)
	srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Code: 401})
	srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Status: http.StatusServiceUnavailable})
	_, err := c.Drive.UploadURL(t.Context(), pre, 1)
	require.NoError(t, err)
	assert.Equal(t, 3, srv.Count(pan123test.OpGetUploadURL), "refused, replayed after the refresh, retried")
	assert.Equal(t, 2, srv.Count(pan123test.OpAccessToken))
}

// A redirect from the API host is refused, not followed, and the error says so.
func TestAPIRedirectIsRefused(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil, WithRetry(1, time.Millisecond, time.Millisecond))
	pre := preupload(t, c)
	srv.Inject(pan123test.Fault{Op: pan123test.OpGetUploadURL, Location: "http://127.0.0.1:1/elsewhere"})
	_, err := c.Drive.UploadURL(t.Context(), pre, 1)
	ae := requireAPIError(t, err)
	assert.Equal(t, http.StatusTemporaryRedirect, ae.HTTPStatus)
	assert.Equal(t, redirectRefused, ae.Message)
}
