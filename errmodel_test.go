package pan123

import (
	"github.com/go-pan123/pan123/pan123test"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTLSVerificationErrorIsFinal: a server whose certificate the client
// does not trust is tried once, not once per retry: a failed verification
// does not heal by asking again.
func TestTLSVerificationErrorIsFinal(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request reached the untrusted server: %s", r.URL.Path)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	t.Cleanup(srv.Close)

	c, err := New("", "", WithAccessToken("a-token"), WithBaseURL(srv.URL), WithRetry(5, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	_, err = c.Drive.List(t.Context(), 0, 0, 10)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate")
	assert.EqualValues(t, 1, conns.Load(), "TLS handshakes")
}

// TestTransportErrorNamesThePathOnce: a network failure reads
// "pan123: METHOD /path: cause", with one prefix and the path once (not
// again inside the URL of the *url.Error).
func TestTransportErrorNamesThePathOnce(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens: connection refused

	c, err := New(testClientID, testClientSecret, WithBaseURL("http://"+addr), WithRetry(1, time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	_, err = c.Drive.List(t.Context(), 0, 0, 10)
	require.Error(t, err)
	msg := err.Error()
	assert.Equal(t, 1, strings.Count(msg, "pan123:"), msg)
	assert.Equal(t, 1, strings.Count(msg, pathAccessToken), msg)
	assert.True(t, strings.HasPrefix(msg, "pan123: get access token: POST "+pathAccessToken+": "), msg)
	assert.True(t, isTransportError(err), "still a transport error: %v", err)
}

// TestErrorTextHasOnePrefix: whatever layer fails (token, create, URL,
// storage, V2 slice, completion, an unreadable answer), the error an
// upload returns carries the "pan123:" prefix once, and still matches its
// sentinel or *APIError.
func TestErrorTextHasOnePrefix(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		proto Protocol
		fault pan123test.Fault
	}{
		{"token refused", V1, pan123test.Fault{Op: pan123test.OpAccessToken, Code: 401, Times: -1}},
		{"create refused", V1, pan123test.Fault{Op: pan123test.OpCreate, Code: 401, Times: -1}},
		{"url 500", V1, pan123test.Fault{Op: pan123test.OpGetUploadURL, Status: 500, Times: -1}},
		{"put dropped", V1, pan123test.Fault{Op: pan123test.OpPut, Drop: true, Times: -1}},
		{"complete refused", V1, pan123test.Fault{Op: pan123test.OpComplete, Code: 1, Times: -1}},
		{"v2 slice dropped", V2, pan123test.Fault{Op: pan123test.OpV2Slice, Drop: true, Times: -1}},
		{"v2 create garbled", V2, pan123test.Fault{Op: pan123test.OpV2Create, Body: `{"code":0,"data":{"sliceSize":"x"}}`, Times: -1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := pan123test.NewServer(pan123test.WithSliceSize(1 << 10))
			t.Cleanup(srv.Close)
			srv.Inject(tc.fault)
			// Short budgets: each layer fails at once, in milliseconds.
			c, err := New(srv.ClientID, srv.ClientSecret, WithBaseURL(srv.URL), WithRetry(2, time.Millisecond, time.Millisecond),
				WithoutRateLimits())
			require.NoError(t, err)
			up := NewUploader(c, WithProtocol(tc.proto), WithPollInterval(time.Millisecond), WithCompleteTimeout(50*time.Millisecond),
				WithSliceRetry(2, time.Millisecond, time.Millisecond))
			_, err = up.Upload(t.Context(), strings.NewReader(strings.Repeat("one prefix ", 400)), FileInput{Name: "p.txt"})
			require.Error(t, err)
			assert.Equal(t, 1, strings.Count(err.Error(), "pan123:"), err.Error())
		})
	}
}

// TestTransportLeavesAnswerWaitToTheUploader: the default transport sets no
// response-header timeout of its own. It had one of 2 minutes, which cut
// every slice whose answer took longer, whatever WithResponseTimeout said
// (a user's 5 minutes became 2, and each cut was retried). The Uploader's
// watchdog bounds the wait (TestSlowAnswerIsNotAStall); API calls have
// DefaultAPITimeout.
func TestTransportLeavesAnswerWaitToTheUploader(t *testing.T) {
	t.Parallel()
	assert.Zero(t, newTransport().ResponseHeaderTimeout)
	c, err := New(testClientID, testClientSecret)
	require.NoError(t, err)
	assert.Equal(t, DefaultAPITimeout, c.api.GetClient().Timeout, "API calls stay bounded")
	assert.Zero(t, c.data.Timeout, "slice bodies have no whole-request timeout")
}
