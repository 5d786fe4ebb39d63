package pan123test

import "fmt"

// Envelope codes the fake answers. Codes 1, 401, 429 and 20103 are the
// platform's own; CodeBadRequest is the fake's choice for requests that
// break the documented protocol (the platform's answer to those is
// unknown). See the package documentation for the full list of messages.
const (
	// CodeInternal (1, "内部错误") is the platform's catch-all business
	// error: same-name conflicts, 文件上传失败, size limits, unknown or
	// expired preuploadID, missing parent folder, V2 slice MD5 mismatch.
	CodeInternal = 1
	// CodeBadRequest (400) answers a request that breaks the documented
	// protocol: missing Platform header, wrong Content-Type, malformed JSON,
	// unknown, missing or mistyped keys, invalid filename, etag or size,
	// sliceNo out of range. Its message starts with "参数错误: ".
	CodeBadRequest = 400
	// CodeUnauthorized (401, "access_token无效") answers a missing, unknown
	// or expired token, and wrong credentials at access_token.
	CodeUnauthorized = 401
	// CodeTooManyRequests (429, "请求太频繁") is only answered through faults.
	CodeTooManyRequests = 429
	// CodeVerifying (20103, "文件正在校验中,请间隔1秒后再试") is only
	// answered through faults.
	CodeVerifying = 20103
)

// MsgTokenLimit is the message the platform sends with code 401 when the
// account holds too many live access tokens. The fake never sends it on
// its own; inject it with a [Fault] (Code 401, Message MsgTokenLimit).
const MsgTokenLimit = "tokens number has exceeded the limit"

// Messages the fake answers with CodeInternal / CodeUnauthorized.
const (
	msgToken        = "access_token无效"
	msgCredentials  = "clientID或clientSecret错误"
	msgUploadFailed = "文件上传失败"
	msgFileExists   = "该目录下已经有同名文件,无法进行创建"
	msgDirExists    = "该目录下已经有同名文件夹,无法进行创建"
	msgNoSession    = "preuploadID不存在或已过期"
	msgNoParent     = "父级目录不存在"
	msgTooLarge     = "单文件大小超出限制"
	msgSliceMD5     = "分片MD5校验失败"
)

// apiError is an error answered as an envelope.
type apiError struct {
	code int
	msg  string
}

func (e *apiError) Error() string { return fmt.Sprintf("code %d: %s", e.code, e.msg) }

var (
	errToken        = &apiError{CodeUnauthorized, msgToken}
	errCredentials  = &apiError{CodeUnauthorized, msgCredentials}
	errUploadFailed = &apiError{CodeInternal, msgUploadFailed}
	errFileExists   = &apiError{CodeInternal, msgFileExists}
	errDirExists    = &apiError{CodeInternal, msgDirExists}
	errNoSession    = &apiError{CodeInternal, msgNoSession}
	errNoParent     = &apiError{CodeInternal, msgNoParent}
	errTooLarge     = &apiError{CodeInternal, msgTooLarge}
	errSliceMD5     = &apiError{CodeInternal, msgSliceMD5}
)

func badRequest(format string, args ...any) error {
	return &apiError{CodeBadRequest, "参数错误: " + fmt.Sprintf(format, args...)}
}

// codeMessage is the realistic message for an envelope code injected by a fault.
func codeMessage(code int) string {
	switch code {
	case 0:
		return "ok"
	case CodeUnauthorized:
		return msgToken
	case CodeTooManyRequests:
		return "请求太频繁"
	case CodeVerifying:
		return "文件正在校验中,请间隔1秒后再试"
	default:
		return "内部错误"
	}
}
