package pan123test

import (
	"fmt"
	"net/http"
	"time"
)

// rateLimit is one endpoint's enforced rate: at most n requests in each
// window of length per.
type rateLimit struct {
	n   int
	per time.Duration
}

// window counts the requests of one endpoint in the current window.
type window struct {
	index int64 // which window since the server started
	count int
}

// WithRateLimit makes the API endpoint op enforce a request rate, as the
// platform does per account: at most n requests in each window of length
// per (windows follow each other from the server's start, like a counter
// per calendar second; the platform's own window is undocumented). A
// request over the limit is answered HTTP 200 with code 429 "请求太频繁"
// (after the Platform and token checks) and does not count. Windows run
// in real time, not on the [WithClock] clock. Use it once per endpoint;
// the last call for an op wins. Default: no endpoint is limited.
func WithRateLimit(op Op, n int, per time.Duration) Option {
	return func(c *config) {
		if c.rates == nil {
			c.rates = map[Op]rateLimit{}
		}
		c.rates[op] = rateLimit{n, per}
	}
}

func (c *config) validateRates() error {
	for op, r := range c.rates {
		if r.n < 1 || r.per <= 0 {
			return fmt.Errorf("WithRateLimit(%s): need n >= 1 and per > 0", op)
		}
	}
	return nil
}

// limited answers 429 and reports true when the request's op is over its
// rate.
func (c *call) limited() bool {
	r, ok := c.s.cfg.rates[c.rec.Op]
	if !ok {
		return false
	}
	s := c.s
	i := int64(time.Since(s.started) / r.per)
	s.mu.Lock()
	w := s.windows[c.rec.Op]
	if w.index != i {
		w = window{index: i}
	}
	over := w.count >= r.n
	if !over {
		w.count++
	}
	s.windows[c.rec.Op] = w
	s.mu.Unlock()
	if over {
		c.envelope(http.StatusOK, CodeTooManyRequests, codeMessage(CodeTooManyRequests), nil)
	}
	return over
}
