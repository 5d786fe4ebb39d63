package pan123

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestSanitizeURLLeadingQuery: a URL string that is only a query (a relative
// reference, as a garbled answer may give) loses it too: the signature must
// not reach an error text however the URL is shaped.
func TestSanitizeURLLeadingQuery(t *testing.T) {
	for in, want := range map[string]string{
		"?X-Amz-Signature=SECRETSIG": "?REDACTED",
		"#SECRETSIG":                 "?REDACTED",
	} {
		got := sanitizeURL(in)
		assert.Equal(t, want, got, in)
		assert.NotContains(t, got, "SECRETSIG")
	}
}
