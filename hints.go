package pan123

import "strings"

// hints are short English explanations of platform answers the SDK knows.
// The platform answers in Chinese, often under the catch-all code 1, so a
// hint is found by code and a fragment of the message; the first match wins
// (an empty fragment matches any message of that code).
var hints = []struct {
	code     int
	fragment string
	hint     string
}{
	{1, "同名文件夹", "a folder with this name already exists in the parent folder"},
	{1, "同名文件", "a file with this name already exists in the folder; upload with Duplicate KeepBoth or Overwrite"},
	{1, "父级目录不存在", "the parent folder does not exist"},
	{1, "文件上传失败", "the platform refused the file: its content does not match the MD5 it was declared with"},
	{1, "分片MD5校验失败", "a slice did not match its MD5; it was damaged on the way"},
	{1, "大小超出限制", "the file is larger than the platform allows (10 GB)"},
	{1, "preuploadID不存在或已过期", "the upload session is unknown or expired; start the upload over"},
	{codeUnauthorized, "clientID", "the client ID or secret is wrong"},
	{codeUnauthorized, "", "the access token is invalid or expired"},
	{codeRateLimited, "", "too many requests; slow down"},
	{codeVerifying, "", "the platform is still verifying the upload; try again in a second"},
	{codeNotFound, "", "the file does not exist"},
	{5113, "", "today's download traffic quota is used up"},
}

// Hint returns a short English explanation of the platform's answer, for
// the codes and messages the SDK knows, or "". Show it beside Message, the
// platform's own (often Chinese) text.
func (e *APIError) Hint() string {
	switch {
	case e.Is(ErrTokenLimit):
		return "too many live access tokens for this client ID (about 3); share one token between processes"
	case e.slowDown():
		return "the platform is busy; retry later"
	}
	for _, h := range hints {
		if e.Code == h.code && strings.Contains(e.Message, h.fragment) {
			return h.hint
		}
	}
	return ""
}
