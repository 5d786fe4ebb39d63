package pan123

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRetryableServerCodes: an HTTP 5xx answer whose envelope code is in
// 500..599 is the server's own failure and is tried again; any other code
// on it is a business answer and is final.
func TestRetryableServerCodes(t *testing.T) {
	for _, tc := range []struct {
		status, code int
		want         bool
	}{
		{500, 500, true},
		{503, 599, true},
		{502, 600, false},
		{500, 499, false},
		{200, 599, false},
	} {
		err := &APIError{HTTPStatus: tc.status, Code: tc.code, Message: "x"}
		assert.Equal(t, tc.want, retryable(context.Background(), err), "HTTP %d, code %d", tc.status, tc.code)
	}
}

// TestSleepCtxZeroAfterCancel: a zero wait under an ended context reports
// the context's error every time, not only when a select happens to pick it.
func TestSleepCtxZeroAfterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 200 {
		if err := sleepCtx(ctx, 0); err != context.Canceled {
			t.Fatalf("sleepCtx(canceled, 0) = %v", err)
		}
	}
}
