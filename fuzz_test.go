package pan123

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// Fuzz targets. Their seed corpora live in testdata/fuzz/<FuzzName>/ and run
// with every `go test`; .ci/run fuzzes each target for a few seconds.

// FuzzPlanSlices: for any size and slice size, the plan covers [0, size)
// exactly with contiguous slices numbered 1..N, each sliceSize bytes but
// the last; it errors only for a non-positive input or more than
// maxSlices slices.
func FuzzPlanSlices(f *testing.F) {
	for _, s := range [][2]int64{
		{1, 1}, {1, 16 << 20}, {16 << 20, 16 << 20}, {16<<20 + 1, 16 << 20}, {10 << 30, 16 << 20},
		{10000, 1}, {10001, 1}, {0, 1}, {1, 0}, {-1, 5}, {5, -1}, {1 << 62, 1 << 62},
		{9223372036854775807, 922337203685477}, {9223372036854775807, 9223372036854775807},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, size, sliceSize int64) {
		plan, err := planSlices(size, sliceSize)
		if size <= 0 || sliceSize <= 0 {
			require.ErrorIs(t, err, ErrProtocol, "planSlices(%d, %d)", size, sliceSize)
			return
		}
		n := (size-1)/sliceSize + 1 // cannot overflow for positive inputs
		if n > maxSlices {
			require.ErrorIs(t, err, ErrProtocol, "planSlices(%d, %d) needs %d slices", size, sliceSize, n)
			return
		}
		require.NoError(t, err, "planSlices(%d, %d)", size, sliceSize)
		require.Len(t, plan, int(n), "planSlices(%d, %d)", size, sliceSize)
		var next int64
		for i, s := range plan {
			// One check a slice, not four assertions: plans have up to
			// maxSlices slices, and the fuzzer runs this many times.
			switch {
			case s.No != i+1:
				require.FailNowf(t, "misnumbered", "slice %d numbered %d", i+1, s.No)
			case s.Off != next:
				require.FailNowf(t, "not contiguous", "slice %d starts at %d, want %d", s.No, s.Off, next)
			case s.Size <= 0 || s.Size > sliceSize:
				require.FailNowf(t, "bad size", "slice %d has size %d (slice size %d)", s.No, s.Size, sliceSize)
			case i < len(plan)-1 && s.Size != sliceSize:
				require.FailNowf(t, "short slice", "slice %d of %d has size %d, want exactly %d", s.No, len(plan), s.Size, sliceSize)
			}
			next = s.Off + s.Size // <= size: no overflow
		}
		require.Equal(t, size, next, "the slices cover [0, next)")
	})
}

// envelopeTargets returns a fresh value of every data type the client
// decodes an envelope into (one per endpoint), by name.
func envelopeTargets() map[string]any {
	return map[string]any{
		"access_token": &struct {
			AccessToken string `json:"accessToken"`
			ExpiredAt   string `json:"expiredAt"`
		}{},
		"create":            &createFileData{},
		"get_upload_url":    &uploadURLData{},
		"list_upload_parts": &uploadPartsData{},
		"upload_complete":   &completeData{},
		"mkdir": &struct {
			DirID flexInt `json:"dirID"`
		}{},
		"oss_create": &struct {
			FileID      flexString `json:"fileID"`
			PreuploadID string     `json:"preuploadID"`
			Reuse       bool       `json:"reuse"`
			SliceSize   flexInt    `json:"sliceSize"`
		}{},
		"oss_complete": &imageCompleteData{},
		"oss_mkdir": &struct {
			List []struct {
				Filename string     `json:"filename"`
				DirID    flexString `json:"dirID"`
			} `json:"list"`
		}{},
		"v2_domain": &[]string{},
		"sha1_reuse": &struct {
			FileID flexInt `json:"fileID"`
			Reuse  bool    `json:"reuse"`
		}{},
		"none": nil,
	}
}

// FuzzDecodeEnvelope: any answer (body, status, Retry-After) decoded into
// any endpoint's data never panics; a failure is always an *APIError, a
// non-2xx status is never a success, and RetryAfter is never negative.
func FuzzDecodeEnvelope(f *testing.F) {
	seeds := []struct {
		body       string
		status     int
		retryAfter string
	}{
		{`{"code":0,"message":"ok","data":{"fileID":0,"preuploadID":"a/b+c","reuse":false,"sliceSize":16777216},"x-traceID":"t"}`, 200, ""},
		{`{"code":0,"message":"ok","data":{"presignedURL":"https://s.example/x?X-Amz-Signature=ab","isMultipart":true}}`, 200, ""},
		{`{"code":0,"message":"ok","data":{"parts":[{"partNumber":"1","size":16777216,"etag":"0123456789abcdef0123456789abcdef"}]}}`, 200, ""},
		{`{"code":0,"message":"ok","data":{"async":true,"completed":false,"fileID":0}}`, 200, ""},
		{`{"code":0,"message":"ok","data":{"fileID":"abc","completed":true}}`, 200, ""},
		{`{"code":0,"message":"ok","data":["http://u1","http://u2"]}`, 200, ""},
		{`{"code":0,"message":"ok","data":{"accessToken":"eyJ","expiredAt":"2030-01-01T00:00:00+08:00"}}`, 200, ""},
		{`{"code":429,"message":"请求太频繁","data":null,"x-traceID":"t"}`, 200, "2"},
		{`{"code":"20103","message":"文件正在校验中","data":null}`, 200, "Wed, 21 Oct 2015 07:28:00 GMT"},
		{`{"code":401,"message":"access_token无效","data":null}`, 401, ""},
		{`{"code":0,"message":"ok","data":{"sliceSize":"abc"}}`, 200, ""},
		{`{"code":0,"message":"ok","data":{"sliceSize":1e400}}`, 200, ""},
		{`{"code":0,"message":"ok","data":{"sliceSize":9.3e18}}`, 200, ""},
		{`{"code":0,"message":"ok","data":"oops"}`, 200, ""},
		{`{"code":0,"message":"ok","data":{"presign`, 200, ""},
		{`<html><body>502 Bad Gateway</body></html>`, 502, "99999999999999999"},
		{``, 200, "-1"},
		{`null`, 200, ""},
		{`[]`, 500, ""},
		{`{}`, 200, "9223372036"},
	}
	for _, s := range seeds {
		f.Add([]byte(s.body), s.status, s.retryAfter)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte, status int, retryAfter string) {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		require.GreaterOrEqual(t, parseRetryAfter(h, now), time.Duration(0), "Retry-After %q", retryAfter)
		for name, out := range envelopeTargets() {
			err := decodeEnvelope(http.MethodPost, "/p", status, h, body, out, now)
			if err == nil {
				require.Equal(t, 2, status/100, "%s: http %d decoded as a success", name, status)
				require.True(t, json.Valid(body), "%s: invalid JSON %q decoded as a success", name, body)
				continue
			}
			var ae *APIError
			require.ErrorAs(t, err, &ae, name)
			require.GreaterOrEqual(t, ae.RetryAfter, time.Duration(0), "%s: RetryAfter", name)
			require.NotContains(t, ae.Path, "?", "%s: the path has a query", name)
			_ = err.Error()
			_ = retryable(t.Context(), err)
		}
	})
}

// FuzzValidateName: validateName and validatePath never panic; an
// accepted name follows the platform's rules (api.md §7.3): 1..255
// characters of valid UTF-8, not only spaces, none of "\/:*?|><, no
// control characters.
func FuzzValidateName(f *testing.F) {
	for _, s := range []string{
		"a.txt", "", " ", "   ", "\u3000", "名字.bin", strings.Repeat("名", 255), strings.Repeat("名", 256),
		"a/b", `a\b`, "a:b", "a*b", "a?b", `a"b`, "a<b", "a>b", "a|b", "a\x00b", "a\nb", "a\x7fb",
		"\xff\xfe", "a\u0085", " leading", "trailing ", "dir/sub/file.txt", "/abs/", "a//b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if err := validateName(name); err != nil {
			require.ErrorIs(t, err, ErrInvalidInput, "validateName(%q)", name)
		} else {
			require.NotEmpty(t, name, "empty name accepted")
			require.True(t, utf8.ValidString(name), "invalid UTF-8 %q accepted", name)
			require.LessOrEqual(t, utf8.RuneCountInString(name), 255, "name %q accepted", name)
			require.NotEmpty(t, strings.Trim(name, " "), "all-space name %q accepted", name)
			require.NotEmpty(t, strings.TrimSpace(name), "all-space name %q accepted", name)
			require.False(t, strings.ContainsAny(name, `"\/:*?|><`), "name %q with a forbidden character accepted", name)
			require.False(t, strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }),
				"name %q with a control character accepted", name)
		}
		// A containDir path is accepted only when every part is a valid name.
		if err := validatePath(name); err == nil {
			for _, part := range strings.Split(strings.Trim(name, "/"), "/") {
				require.NoError(t, validateName(part), "validatePath(%q) accepted the invalid part %q", name, part)
			}
		} else {
			require.ErrorIs(t, err, ErrInvalidInput, "validatePath(%q)", name)
		}
	})
}
