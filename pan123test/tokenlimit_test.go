package pan123test_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/go-pan123/pan123/pan123test"
)

func TestTokenLimit(t *testing.T) {
	t.Parallel()
	s := newServer(t, pan123test.WithTokenLimit(2))
	c := &client{t: t, s: s, hc: http.DefaultClient}
	mkdir := func(tok string, n int, code int) {
		t.Helper()
		c.token = tok
		c.wantCode(pan123test.OpMkdir, map[string]any{"name": fmt.Sprint("d", n), "parentID": 0}, code, "")
	}
	a, b := s.IssueToken(), s.IssueToken()
	mkdir(a, 1, 0)
	s.ExpireTokens() // expired tokens are not live: they make no room
	mkdir(a, 2, 401)
	if got := s.ReplacedTokenUses(); got != 0 {
		t.Errorf("ReplacedTokenUses after an expired token = %d, want 0", got)
	}
	d, e, f := s.IssueToken(), s.IssueToken(), s.IssueToken() // d is logged out by f
	mkdir(e, 3, 0)
	mkdir(f, 4, 0)
	mkdir(d, 5, 401)
	mkdir(d, 6, 401)
	mkdir(b, 7, 401) // expired, not replaced
	if got := s.ReplacedTokenUses(); got != 2 {
		t.Errorf("ReplacedTokenUses = %d, want 2", got)
	}
}
