package pan123

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Sentinel errors for conditions a caller branches on. Use [errors.Is]:
//
//	if errors.Is(err, pan123.ErrRateLimited) { ... }
var (
	// ErrUnauthorized: the platform refused the access token or the credentials
	// (code 401), and one refresh did not help or the token budget allowed
	// none (see DefaultTokenCooldown).
	ErrUnauthorized = errors.New("pan123: unauthorized")
	// ErrTokenLimit: the platform answered code 401 "tokens number has
	// exceeded the limit": the account holds too many live access tokens
	// (about 3 per client ID). The SDK never answers it with a new token;
	// log out other sessions or share one token (WithTokenStore). It also
	// matches ErrUnauthorized.
	ErrTokenLimit = fmt.Errorf("%w: tokens number has exceeded the limit", ErrUnauthorized)
	// ErrRateLimited: the platform answered 429 ("请求太频繁"), or code 1 with
	// a message asking to slow down ("请慢一点"), after every retry.
	ErrRateLimited = errors.New("pan123: rate limited")
	// ErrInvalidInput: the input was rejected before any request was sent.
	ErrInvalidInput = errors.New("pan123: invalid input")
	// ErrVerifying: the platform is still verifying an upload (code 20103).
	ErrVerifying = errors.New("pan123: upload still verifying")
	// ErrNotFound: the platform says the file does not exist (code 5066).
	ErrNotFound = errors.New("pan123: not found")
	// ErrProtocol: the platform answered something the SDK cannot accept,
	// such as a zero slice size or an empty presigned URL.
	ErrProtocol = errors.New("pan123: unexpected platform answer")
)

// Platform codes with a meaning of their own: 401 token refused, 429 too
// many requests, 5066 no such file, 20103 still verifying.
const (
	codeUnauthorized = 401
	codeRateLimited  = 429
	codeNotFound     = 5066
	codeVerifying    = 20103
)

// msgTokenLimit is the platform's message (with code 401) when the account
// holds too many live tokens; it is matched in lower case.
const msgTokenLimit = "tokens number has exceeded the limit"

// APIError is a failed platform call: a non-zero envelope code (which the
// platform sends with HTTP 200), a non-2xx status, or a body that is not the
// JSON envelope (a gateway page, a truncated answer). Path never holds a query.
type APIError struct {
	HTTPStatus int           // HTTP status of the answer
	Code       int           // envelope code; 0 when the body was not an envelope
	Message    string        // envelope message, or a short note on the body
	TraceID    string        // x-traceID, to give to 123pan support
	Method     string        // HTTP method
	Path       string        // endpoint path, without query
	RetryAfter time.Duration // from a Retry-After header, if any
}

// Error gives the method, path, code (or HTTP status), message and trace ID.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pan123: %s %s: ", e.Method, e.Path)
	if e.Code != 0 {
		fmt.Fprintf(&b, "code %d", e.Code)
	} else {
		fmt.Fprintf(&b, "http %d", e.HTTPStatus)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.TraceID != "" {
		b.WriteString(" (trace " + e.TraceID + ")")
	}
	return b.String()
}

// Is maps the error to the sentinels by its code or HTTP status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Code == codeUnauthorized || e.HTTPStatus == 401
	case ErrTokenLimit:
		return (e.Code == codeUnauthorized || e.HTTPStatus == 401) &&
			strings.Contains(strings.ToLower(e.Message), msgTokenLimit)
	case ErrRateLimited:
		return e.Code == codeRateLimited || e.HTTPStatus == 429 || e.slowDown()
	case ErrVerifying:
		return e.Code == codeVerifying
	case ErrNotFound:
		return e.Code == codeNotFound
	}
	return false
}

// UploadError is a failed upload with what a caller needs to resume it:
// the upload session and, when one slice failed, its number. Unwrap gives the
// cause. Pass it to [Uploader.ResumeFile] or [Uploader.ResumeImageFile] to
// continue the same session.
type UploadError struct {
	FileName    string // remote name
	PreuploadID string // the platform's upload session; "" if create failed
	SliceNo     int    // 1-based failed slice; 0 when no single slice failed
	Err         error  // the cause

	resume *resumeState // what Resume needs; nil when the session cannot be resumed
}

// Error names the file, the failed slice if any, and the cause.
func (e *UploadError) Error() string {
	var b strings.Builder
	b.WriteString("pan123: upload " + e.FileName)
	if e.SliceNo > 0 {
		fmt.Fprintf(&b, ": slice %d", e.SliceNo)
	}
	if e.resume != nil {
		b.WriteString(" (resumable)") // by ResumeFile or ResumeImageFile
	}
	b.WriteString(": ")
	b.WriteString(causeText(e.Err))
	return b.String()
}

// Unwrap returns the cause.
func (e *UploadError) Unwrap() error { return e.Err }

// wrapError is an error of the SDK's around a cause. Its text is
// "pan123: <context>: <cause>" with the prefix once, however many layers
// of the SDK wrapped the cause; Unwrap gives the cause.
type wrapError struct {
	context string
	err     error
}

func (e *wrapError) Error() string { return "pan123: " + e.context + ": " + causeText(e.err) }
func (e *wrapError) Unwrap() error { return e.err }

// wrapf wraps err with a context (a format and its arguments).
func wrapf(err error, format string, args ...any) error {
	return &wrapError{context: fmt.Sprintf(format, args...), err: err}
}

// causeText is err's text as a cause inside another error of the SDK's:
// without the "pan123: " prefix, and for a *url.Error without its
// method and URL, which the wrapping context names already (once, and
// without the query).
func causeText(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return causeText(ue.Err)
	}
	return strings.TrimPrefix(err.Error(), "pan123: ")
}

// mark returns err marked with a sentinel (or any error of the SDK's):
// errors.Is matches both, and the text is the mark's then the cause's,
// with the "pan123: " prefix once.
func mark(sentinel, err error) error { return &markedError{sentinel, err} }

type markedError struct{ mark, err error }

func (e *markedError) Error() string   { return e.mark.Error() + ": " + causeText(e.err) }
func (e *markedError) Unwrap() []error { return []error{e.mark, e.err} }

// requestError is a request that got no answer: "pan123: METHOD target: cause",
// the target being the endpoint path (API calls) or the URL without its query
// (storage). The *url.Error inside, its query dropped, stays in the chain.
func requestError(method, target string, err error) error {
	return wrapf(redact(err), "%s %s", method, target)
}

// invalidInput wraps a validation problem so that errors.Is(err, ErrInvalidInput) holds.
func invalidInput(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidInput, fmt.Sprintf(format, args...))
}

// checkCtx refuses a nil context before anything starts (a nil context
// would panic in a goroutine, where the caller cannot recover it).
func checkCtx(ctx context.Context) error {
	if ctx == nil {
		return invalidInput("nil context")
	}
	return nil
}

// protocolError reports an answer the SDK refuses to act on.
func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// slowDownMessages are the words with which the platform asks, in a code-1
// answer (its catch-all), to slow down: "请慢一点" (met on sha1_reuse by
// other clients) and "削峰" (single-step create while the instant-upload
// queue is busy: "任务队列削峰中,...,请慢一点"). Such an answer is a rate
// limit in words: it matches ErrRateLimited and is retried with backoff
// where a replay is safe. This is the one list of them.
var slowDownMessages = []string{"请慢一点", "削峰"}

// slowDown reports a code-1 answer that asks to slow down.
func (e *APIError) slowDown() bool {
	if e.Code != codeBusiness {
		return false
	}
	for _, m := range slowDownMessages {
		if strings.Contains(e.Message, m) {
			return true
		}
	}
	return false
}

// transientCodes are envelope codes worth another attempt: 429 is the
// platform's throttle and 20103 means "verifying, try again in a second".
var transientCodes = map[int]bool{codeRateLimited: true, codeVerifying: true}

// retryable tells whether another attempt of the same request may succeed.
// Errors caused by the caller's context never are.
func retryable(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	// Before the *APIError check: an answer whose data cannot be read is
	// wrapped in ErrProtocol around an *APIError with HTTP 200.
	if errors.Is(err, ErrProtocol) || errors.Is(err, ErrInvalidInput) || errors.Is(err, errCooldown) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		if ae.Code != 0 {
			// An HTTP 5xx answer whose envelope code is a 5xx too is the
			// server's (or its gateway's) own failure, not a business answer.
			return transientCodes[ae.Code] || ae.slowDown() || (ae.HTTPStatus >= 500 && ae.Code >= 500 && ae.Code <= 599)
		}
		// No envelope: judge by status. 2xx here means a body we could not
		// read as an envelope (truncated or garbled), which is transient too.
		return ae.HTTPStatus == 429 || ae.HTTPStatus >= 500 || ae.HTTPStatus/100 == 2 || ae.HTTPStatus == 408
	}
	if badCertificate(err) {
		return false
	}
	return isTransportError(err)
}

// badCertificate reports a failed TLS verification, or a TLS handshake with
// a server that does not speak TLS: asking again meets the same certificate,
// so it is final.
func badCertificate(err error) bool {
	var verify *tls.CertificateVerificationError
	var authority x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var header tls.RecordHeaderError
	return errors.As(err, &verify) || errors.As(err, &authority) || errors.As(err, &host) ||
		errors.As(err, &invalid) || errors.As(err, &header)
}

// isTransportError reports a network failure: reset, refused, timeout, EOF mid-answer.
func isTransportError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// Our own per-attempt deadlines (stall detector) surface as these while
		// the caller's ctx is still alive; the caller checked ctx already.
		return true
	}
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

// notSent reports a failure that provably happened before the request left:
// the platform cannot have acted on it, so even a non-idempotent call may be replayed.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var ae *APIError
	if errors.As(err, &ae) {
		// 429 and 401 are refusals: the platform did not act on the request.
		// A code-1 "slow down" is not known to be one (the queue message
		// says the task entered the queue), so it is not counted here.
		return ae.Code == codeRateLimited || ae.HTTPStatus == 429 || ae.Code == codeUnauthorized
	}
	return false
}

// envelopeRefusal reports an answer of the platform itself with an error
// code (not a gateway page, not a lost or garbled answer).
func envelopeRefusal(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code != 0
}

// sanitizeURL drops the query (which carries presigned signatures) from a URL string.
func sanitizeURL(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		return raw[:i] + "?REDACTED"
	}
	return raw
}

// redact rewrites a *url.Error so that its URL carries no query; other errors pass through.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && strings.ContainsAny(ue.URL, "?#") {
		clean := &url.Error{Op: ue.Op, URL: sanitizeURL(ue.URL), Err: ue.Err}
		if ue == err {
			return clean
		}
		return fmt.Errorf("%s: %w", strings.ReplaceAll(err.Error(), ue.URL, clean.URL), clean)
	}
	return err
}
