package pan123test_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/go-pan123/pan123/pan123test"
)

// TestRateLimit: at most n requests per window; the rest are answered
// code 429 and do not count; other endpoints are not limited.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	s := newServer(t, pan123test.WithRateLimit(pan123test.OpMkdir, 2, time.Hour))
	c := newClient(t, s)
	var codes []int
	for _, name := range []string{"a", "b", "c", "d"} {
		codes = append(codes, c.call(pan123test.OpMkdir, map[string]any{"name": name, "parentID": 0}).Code)
	}
	if want := []int{0, 0, 429, 429}; fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Errorf("codes %v, want %v", codes, want)
	}
	if n := len(s.Files()); n != 2 {
		t.Errorf("%d folders made, want 2", n)
	}
	if got := c.call(pan123test.OpOSSMkdir, map[string]any{"name": []string{"x"}, "parentID": "", "type": 1}).Code; got != 0 {
		t.Errorf("another endpoint got code %d", got)
	}

	s = newServer(t, pan123test.WithRateLimit(pan123test.OpMkdir, 1, 50*time.Millisecond))
	c = newClient(t, s)
	for i, name := range []string{"a", "b"} {
		if i > 0 {
			time.Sleep(60 * time.Millisecond) // a whole window later: the next window
		}
		if got := c.call(pan123test.OpMkdir, map[string]any{"name": name, "parentID": 0}).Code; got != 0 {
			t.Errorf("request %d in its own window: code %d", i, got)
		}
	}
}
