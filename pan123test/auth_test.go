package pan123test_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-pan123/pan123/pan123test"
)

func TestAccessToken(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := newServer(t, pan123test.WithClock(clk.Now), pan123test.WithCredentials("id", "secret"), pan123test.WithTokenTTL(time.Hour))
	c := &client{t: t, s: s, hc: http.DefaultClient}

	var tok struct{ AccessToken, ExpiredAt string }
	c.data(pan123test.OpAccessToken, map[string]any{"clientID": "id", "clientSecret": "secret"}, &tok)
	if parts := strings.Split(tok.AccessToken, "."); len(parts) != 3 || !strings.HasPrefix(tok.AccessToken, "eyJ") {
		t.Errorf("accessToken %q does not look like a JWT", tok.AccessToken)
	} else if _, err := base64.RawURLEncoding.DecodeString(parts[1]); err != nil {
		t.Errorf("JWT payload: %v", err)
	}
	if want := "2026-03-01T21:00:00+08:00"; tok.ExpiredAt != want {
		t.Errorf("expiredAt = %q, want %q", tok.ExpiredAt, want)
	}
	if got := s.TokensIssued(); got != 1 {
		t.Errorf("TokensIssued = %d", got)
	}

	c.wantCode(pan123test.OpAccessToken, map[string]any{"clientID": "id", "clientSecret": "nope"}, 401, "")
	c.wantCode(pan123test.OpAccessToken, `{"clientId":"id","clientSecret":"secret"}`, 400, "clientID")
	if got := s.TokensIssued(); got != 1 {
		t.Errorf("TokensIssued after failures = %d", got)
	}

	mkdir := map[string]any{"name": "d", "parentID": 0}
	c.wantCode(pan123test.OpMkdir, mkdir, 401, "access_token无效") // no token yet
	c.token = tok.AccessToken
	c.wantCode(pan123test.OpMkdir, mkdir, 0, "ok")

	clk.Add(time.Hour) // natural expiry
	c.wantCode(pan123test.OpMkdir, map[string]any{"name": "e", "parentID": 0}, 401, "access_token无效")

	c.token = s.IssueToken()
	c.wantCode(pan123test.OpMkdir, map[string]any{"name": "e", "parentID": 0}, 0, "ok")
	s.ExpireTokens()
	c.wantCode(pan123test.OpMkdir, map[string]any{"name": "f", "parentID": 0}, 401, "access_token无效")
	if got := s.TokensIssued(); got != 1 {
		t.Errorf("IssueToken counted: TokensIssued = %d", got)
	}

	req := c.apiRequest(pan123test.OpMkdir, mkdir)
	c.token = s.IssueToken()
	req.Header.Set("Authorization", c.token) // no "Bearer "
	if e := c.envelope(req); e.Code != 401 {
		t.Errorf("token without Bearer: code %d", e.Code)
	}
}

func TestStrictRequests(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	data := payload(100, 1)
	good := families[0].createBody("a.bin", data)

	t.Run("headers", func(t *testing.T) {
		req := c.apiRequest(pan123test.OpCreate, good)
		req.Header.Del("Platform")
		if e := c.envelope(req); e.Code != pan123test.CodeBadRequest || !strings.Contains(e.Message, "Platform") {
			t.Errorf("no Platform: %d %s", e.Code, e.Message)
		}
		req = c.apiRequest(pan123test.OpAccessToken, map[string]any{"clientID": s.ClientID, "clientSecret": s.ClientSecret})
		req.Header.Set("Platform", "web")
		if e := c.envelope(req); e.Code != pan123test.CodeBadRequest {
			t.Errorf("wrong Platform at access_token: %d %s", e.Code, e.Message)
		}
		req = c.apiRequest(pan123test.OpCreate, good)
		req.Header.Set("Content-Type", "text/plain")
		if e := c.envelope(req); e.Code != pan123test.CodeBadRequest || !strings.Contains(e.Message, "Content-Type") {
			t.Errorf("text/plain: %d %s", e.Code, e.Message)
		}
		req, _ = http.NewRequest(http.MethodGet, s.URL+string(pan123test.OpCreate), nil)
		if status, _ := c.send(req); status != http.StatusMethodNotAllowed {
			t.Errorf("GET create: HTTP %d", status)
		}
		req, _ = http.NewRequest(http.MethodPost, s.URL+"/upload/v1/file/nope", nil)
		if status, _ := c.send(req); status != http.StatusNotFound {
			t.Errorf("unknown path: HTTP %d", status)
		}
	})

	tests := []struct {
		name string
		op   pan123test.Op
		body any
		msg  string
	}{
		{"key case", pan123test.OpCreate, `{"parentFileId":0,"filename":"a","etag":"` + md5hex(data) + `","size":100}`, `"parentFileId"`},
		{"unknown key", pan123test.OpCreate, with(good, "extra", 1), `"extra"`},
		{"duplicate key", pan123test.OpCreate, `{"parentFileID":0,"parentFileID":0,"filename":"a","etag":"` + md5hex(data) + `","size":100}`, "duplicate key"},
		{"missing key", pan123test.OpCreate, without(good, "etag"), `"etag"`},
		{"parentFileID string", pan123test.OpCreate, with(good, "parentFileID", "0"), "parentFileID"},
		{"size float", pan123test.OpCreate, with(good, "size", 100.5), "size"},
		{"containDir string", pan123test.OpCreate, with(good, "containDir", "true"), "containDir"},
		{"duplicate 3", pan123test.OpCreate, with(good, "duplicate", 3), "duplicate"},
		{"null", pan123test.OpCreate, with(good, "duplicate", nil), "duplicate"},
		{"not an object", pan123test.OpCreate, `[1]`, "object"},
		{"truncated", pan123test.OpCreate, `{"parentFileID":0,`, "JSON"},
		{"trailing", pan123test.OpCreate, `{"preuploadID":"x"} {}`, "trailing"},
		{"etag upper", pan123test.OpCreate, with(good, "etag", strings.ToUpper(md5hex(data))), "etag"},
		{"etag short", pan123test.OpCreate, with(good, "etag", "abc"), "etag"},
		{"size 0", pan123test.OpCreate, with(with(good, "size", 0), "etag", md5hex(nil)), "size"},
		{"name slash", pan123test.OpCreate, with(good, "filename", "a/b"), "file name"},
		{"name star", pan123test.OpCreate, with(good, "filename", "a*b"), "file name"},
		{"name spaces", pan123test.OpCreate, with(good, "filename", "   "), "spaces"},
		{"name long", pan123test.OpCreate, with(good, "filename", strings.Repeat("名", 255)), "254"},
		{"oss parent number", pan123test.OpOSSCreate, with(families[1].createBody("a.png", data), "parentFileID", 0), "parentFileID"},
		{"oss type 2", pan123test.OpOSSCreate, with(families[1].createBody("a.png", data), "type", 2), "type"},
		{"oss no type", pan123test.OpOSSCreate, without(families[1].createBody("a.png", data), "type"), `"type"`},
		{"oss duplicate", pan123test.OpOSSCreate, with(families[1].createBody("a.png", data), "duplicate", 1), `"duplicate"`},
		{"sliceNo string", pan123test.OpGetUploadURL, `{"preuploadID":"x","sliceNo":"1"}`, "sliceNo"},
		{"mkdir parentID string", pan123test.OpMkdir, `{"name":"d","parentID":"0"}`, "parentID"},
		{"mkdir parentId", pan123test.OpMkdir, `{"name":"d","parentId":0}`, `"parentId"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.wantCode(tt.op, tt.body, pan123test.CodeBadRequest, tt.msg)
		})
	}

	t.Run("limits", func(t *testing.T) {
		c.wantCode(pan123test.OpCreate, with(good, "size", int64(10<<30)+1), pan123test.CodeInternal, "单文件大小超出限制")
		c.wantCode(pan123test.OpCreate, with(good, "parentFileID", 999), pan123test.CodeInternal, "父级目录不存在")
		c.wantCode(pan123test.OpCreate, with(good, "filename", strings.Repeat("名", 254)), 0, "ok")
		c.wantCode(pan123test.OpCreate, with(good, "size", int64(10<<30)), 0, "ok")
	})
	if len(s.Files()) != 0 {
		t.Errorf("rejected requests stored files: %+v", s.Files())
	}
}

func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{k: v}
	for k2, v2 := range m {
		if k2 != k {
			out[k2] = v2
		}
	}
	return out
}

func without(m map[string]any, k string) map[string]any {
	out := map[string]any{}
	for k2, v2 := range m {
		if k2 != k {
			out[k2] = v2
		}
	}
	return out
}
