package pan123test

import "slices"

// WithTokenLimit makes the fake keep at most n live access tokens, as the
// platform does per client ID (about 3): issuing one more logs out the
// oldest, and requests carrying a logged-out token answer code 401 and are
// counted by [Server.ReplacedTokenUses]. Tokens given by [Server.IssueToken]
// count too. 0 (the default) means no limit.
func WithTokenLimit(n int) Option {
	return func(c *config) { c.tokenLimit = n }
}

// ReplacedTokenUses returns how many requests carried a token that
// [WithTokenLimit] had logged out because newer ones were issued.
func (s *Server) ReplacedTokenUses() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.replacedUses
}

// limitTokens records tok as the newest live token and logs out the oldest
// ones beyond the limit; s.mu must be held.
func (s *Server) limitTokens(tok string) {
	if s.cfg.tokenLimit == 0 {
		return
	}
	s.liveOrder = slices.DeleteFunc(append(s.liveOrder, tok), func(t string) bool {
		_, live := s.tokens[t]
		return !live // expired with ExpireTokens
	})
	for len(s.liveOrder) > s.cfg.tokenLimit {
		old := s.liveOrder[0]
		delete(s.tokens, old)
		s.replaced[old] = true
		s.liveOrder = s.liveOrder[1:]
	}
}
