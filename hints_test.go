package pan123_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

func TestAPIErrorHint(t *testing.T) {
	cases := []struct {
		code int
		msg  string
		want string // a word the hint must hold; "" for no hint
	}{
		{1, "该目录下已经有同名文件,无法进行创建", "name"},
		{1, "该目录下已经有同名文件夹,无法进行创建", "folder"},
		{1, "父级目录不存在", "parent folder"},
		{1, "文件上传失败", "MD5"},
		{1, "单文件大小超出限制", "10 GB"},
		{1, "preuploadID不存在或已过期", "session"},
		{1, "分片MD5校验失败", "MD5"},
		{401, "tokens number has exceeded the limit", "3"},
		{401, "Tokens Number Has Exceeded The Limit", "3"}, // matched as ErrTokenLimit is
		{1, "该任务已成功进入秒传队列,任务队列削峰中,未直接获取到文件ID,请慢一点", "busy"},
		{1, "任务队列削峰中", "busy"}, // every slow-down word of errors.go
		{401, "access_token无效", "token"},
		{429, "请求太频繁", "requests"},
		{20103, "文件正在校验中,请间隔1秒后再试", "verifying"},
		{5066, "文件不存在", "does not exist"},
		{1, "内部错误", ""},
		{0, "", ""},
	}
	for _, tc := range cases {
		got := (&pan123.APIError{Code: tc.code, Message: tc.msg}).Hint()
		if tc.want == "" {
			assert.Empty(t, got, "%d %s", tc.code, tc.msg)
			continue
		}
		assert.Contains(t, got, tc.want, "%d %s", tc.code, tc.msg)
	}
}

// The fake's same-name refusal reaches the caller with the platform's text
// and the hint.
func TestAPIErrorHintFromTheFake(t *testing.T) {
	e := newEnv(t)
	e.srv.SeedFile(pan123test.File{Name: "a.txt", Data: []byte("old")})
	path, _ := writeRandom(t, t.TempDir(), 10, 1)
	_, err := e.uploader().UploadFile(t.Context(), path, pan123.FileInput{Name: "a.txt"})
	var ae *pan123.APIError
	require.True(t, errors.As(err, &ae), "%v", err)
	assert.Contains(t, ae.Message, "同名文件")
	assert.Contains(t, ae.Hint(), "exists")
}
