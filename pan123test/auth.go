package pan123test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// cst is the +08:00 zone expiredAt is rendered in.
var cst = time.FixedZone("CST", 8*60*60)

var tokenFields = []field{
	{"clientID", tString, true},
	{"clientSecret", tString, true},
}

// accessToken serves POST /api/v1/access_token.
func (s *Server) accessToken(a args) (any, error) {
	if a.str("clientID") != s.ClientID || a.str("clientSecret") != s.ClientSecret {
		return nil, errCredentials
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issued++
	tok, exp := s.newToken()
	var expiredAt any = exp.In(cst).Format(time.RFC3339)
	if s.cfg.expiredAt != nil {
		expiredAt = s.cfg.expiredAt(exp)
	}
	return struct {
		AccessToken string `json:"accessToken"`
		ExpiredAt   any    `json:"expiredAt"`
	}{tok, expiredAt}, nil
}

// newToken mints a JWT-looking random token; s.mu must be held.
func (s *Server) newToken() (string, time.Time) {
	now := s.now()
	exp := now.Add(s.cfg.tokenTTL).Truncate(time.Second)
	payload := fmt.Sprintf(`{"exp":%d,"iat":%d,"id":%q,"jti":%q}`, exp.Unix(), now.Unix(), s.ClientID, randHex(8))
	tok := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + // {"alg":"HS256","typ":"JWT"}
		base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(randHex(16)))
	s.tokens[tok] = exp
	s.limitTokens(tok)
	return tok, exp
}

// tokenValid reports whether an Authorization header value is
// "Bearer <live token>".
func (s *Server) tokenValid(header string) bool {
	tok, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	if !ok && s.replaced[tok] {
		s.replacedUses++
	}
	return ok && s.now().Before(exp)
}

// IssueToken returns a fresh valid token, as if obtained elsewhere (e.g. for
// a client configured with a ready-made token). It is not counted by
// [Server.TokensIssued].
func (s *Server) IssueToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, _ := s.newToken()
	return tok
}

// ExpireTokens makes every token issued so far invalid: requests carrying
// one answer code 401 "access_token无效". Tokens issued later are valid.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// TokensIssued returns how many successful access_token answers the fake has given.
func (s *Server) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}
