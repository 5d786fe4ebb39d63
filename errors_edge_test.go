package pan123_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// TestTokenLimitNeedsA401: ErrTokenLimit is a refusal of the token (code or
// HTTP status 401) whose message says the limit was reached; the same words
// in another refusal (a 429, a business code) are not the token limit, so
// that such an answer is retried or reported as what it is.
func TestTokenLimitNeedsA401(t *testing.T) {
	for _, tc := range []struct {
		err  pan123.APIError
		want bool
	}{
		{pan123.APIError{HTTPStatus: 200, Code: 401, Message: pan123test.MsgTokenLimit}, true},
		{pan123.APIError{HTTPStatus: 401, Message: pan123test.MsgTokenLimit}, true},
		{pan123.APIError{HTTPStatus: 200, Code: 1, Message: pan123test.MsgTokenLimit}, false},
		{pan123.APIError{HTTPStatus: 429, Message: pan123test.MsgTokenLimit}, false},
		{pan123.APIError{HTTPStatus: 200, Code: 401, Message: "access_token无效"}, false},
	} {
		assert.Equal(t, tc.want, errors.Is(&tc.err, pan123.ErrTokenLimit), "%+v", tc.err)
	}
}
