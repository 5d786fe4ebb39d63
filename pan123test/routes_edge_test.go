package pan123test_test

import (
	"strings"
	"testing"

	"github.com/go-pan123/pan123/pan123test"
)

// A JSON body of exactly 1 MiB is read whole and accepted; one byte more
// is rejected as too large.
func TestJSONBodyCapIsOneMiB(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	const body = `{"name":"a","parentID":0}`
	pad := func(n int) string { return body + strings.Repeat(" ", n-len(body)) }
	c.wantCode(pan123test.OpMkdir, pad(1<<20), 0, "ok")
	c.wantCode(pan123test.OpMkdir, pad(1<<20+1), pan123test.CodeBadRequest, "JSON body larger than 1048576 bytes")
}
