package pan123

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-resty/resty/v2"
)

// Endpoint paths on the platform's API host (V2 slices and single-step
// uploads go to the upload servers that create and domain name).
const (
	pathAccessToken        = "/api/v1/access_token"
	pathCreate             = "/upload/v1/file/create"
	pathGetUploadURL       = "/upload/v1/file/get_upload_url"
	pathListUploadParts    = "/upload/v1/file/list_upload_parts"
	pathComplete           = "/upload/v1/file/upload_complete"
	pathAsyncResult        = "/upload/v1/file/upload_async_result"
	pathMkdir              = "/upload/v1/file/mkdir"
	pathOSSCreate          = "/upload/v1/oss/file/create"
	pathOSSGetUploadURL    = "/upload/v1/oss/file/get_upload_url"
	pathOSSListUploadParts = "/upload/v1/oss/file/list_upload_parts"
	pathOSSComplete        = "/upload/v1/oss/file/upload_complete"
	pathOSSAsyncResult     = "/upload/v1/oss/file/upload_async_result"
	pathOSSMkdir           = "/upload/v1/oss/file/mkdir"
	pathV2Create           = "/upload/v2/file/create"
	pathV2Slice            = "/upload/v2/file/slice"
	pathV2Complete         = "/upload/v2/file/upload_complete"
	pathV2Domain           = "/upload/v2/file/domain"
	pathV2Single           = "/upload/v2/file/single/create"
	pathV2SHA1Reuse        = "/upload/v2/file/sha1_reuse"
)

// Client calls the 123pan open platform. It holds the access token, the
// per-endpoint rate limiters and the retry policy. A Client is safe for
// concurrent use and should be shared: every upload through it shares one
// token and one set of limiters, as the platform counts them per account.
//
// Uploads go through an [Uploader]. The platform's endpoints, for tools
// that drive the protocol by hand, are grouped by family: c.Drive (云盘)
// and c.Image (图床, the image bed).
type Client struct {
	Drive *DriveService // the drive's endpoints: create, slices, complete, folders, listing, V2
	Image *ImageService // the image bed's endpoints

	api     *resty.Client // API host: JSON envelope calls
	data    *http.Client  // presigned PUTs and V2 slice posts: no whole-request timeout
	baseURL string
	tokens  *tokenSource
	limits  limiters
	bw      *bandwidth // the cap on slice bodies: WithBandwidthLimit, SetBandwidthLimit
	domains domainCache
	retry   retryPolicy
	log     *slog.Logger
	ua      string
	now     func() time.Time
	// v2SliceSize is the slice size of the last V2 create answer: the
	// hashing pass of the next V2 upload prepares slice MD5s of that size.
	v2SliceSize atomic.Int64
}

// DefaultAPITimeout bounds one API call (not a slice upload) when the HTTP
// client given with WithHTTPClient has no Timeout of its own.
const DefaultAPITimeout = 30 * time.Second

// New returns a Client for the given developer credentials. With
// WithAccessToken or WithTokenStore the credentials may be empty. New checks
// every option and returns all problems at once, wrapped in ErrInvalidInput;
// it sends no request (the first token is fetched on first use).
func New(clientID, clientSecret string, opts ...Option) (*Client, error) {
	o := defaultClientOptions()
	for _, opt := range opts {
		if opt == nil {
			o.fail("nil Option")
			continue
		}
		opt(&o)
	}
	if err := o.validate(clientID, clientSecret); err != nil {
		return nil, err
	}
	var base http.Client
	if o.httpClient != nil {
		base = *o.httpClient
	}
	if base.Transport == nil {
		base.Transport = newTransport()
	}
	base.Transport = noRedirects{base.Transport}
	apiHC, dataHC := base, base
	if apiHC.Timeout == 0 {
		apiHC.Timeout = DefaultAPITimeout
	}
	dataHC.Timeout = 0

	logger := o.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		data:    &dataHC,
		baseURL: strings.TrimRight(o.baseURL, "/"),
		limits:  newLimiters(o.limits, o.adaptive),
		bw:      newBandwidth(o.bandwidth),
		retry:   o.retry,
		log:     logger,
		ua:      o.userAgent,
		now:     time.Now,
	}
	c.Drive, c.Image = &DriveService{c}, &ImageService{c}
	c.api = resty.NewWithClient(&apiHC).
		SetBaseURL(c.baseURL).
		SetRetryCount(0). // retries are ours (retry.go): resty would not refresh tokens or classify codes
		SetResponseBodyLimit(maxAPIBody).
		SetLogger(discardRestyLogger{})
	c.tokens = &tokenSource{
		canFetch: clientID != "",
		fetch: func(ctx context.Context) (Token, error) {
			return c.fetchToken(ctx, clientID, clientSecret)
		},
		store:    o.tokenStore,
		margin:   o.refreshMargin,
		cooldown: DefaultTokenCooldown,
		now:      func() time.Time { return c.now() },
		log:      logger,
	}
	if o.accessToken != "" {
		c.tokens.set(Token{AccessToken: o.accessToken})
	}
	return c, nil
}

// newTransport is a clone of http.DefaultTransport sized for parallel slices.
//
// The connection buffers keep their 4 KiB defaults: net/http hands a request
// body with a Content-Length to the connection's ReadFrom once the headers
// are flushed, so slice bytes bypass the write buffer (a bigger one only
// held the first chunk and cost its size in memory per connection), and
// answers of the platform and of storage are small.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	// No ResponseHeaderTimeout: it would cut every slice whose answer takes
	// longer, whatever WithResponseTimeout says. The Uploader's watchdog
	// bounds slice answers; API calls have DefaultAPITimeout; the low-level
	// PutSlice, UploadSliceV2 and SingleUpload are bounded by their ctx.
	return t
}

// noRedirects makes both HTTP clients refuse every redirect: it drops the
// Location header of a 3xx answer, so that net/http hands the answer back
// instead of following it (or failing to parse it into an error text that
// would carry its query). The API documents no redirect, and following one
// would send the body and the Authorization header, or a slice, to a host
// the request was not built for. The caller turns the 3xx into an *APIError.
type noRedirects struct{ next http.RoundTripper }

func (t noRedirects) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err == nil && resp.StatusCode/100 == 3 {
		resp.Header.Del("Location")
	}
	return resp, err
}

// CloseIdleConnections reaches the wrapped transport.
func (t noRedirects) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// redirectRefused is the message of the *APIError for a 3xx answer.
const redirectRefused = "redirect refused: requests are never sent on to another location"

// fetchToken calls access_token. It goes through do without auth, so a 401
// here is an error, never another refresh (the recursion of OpenList #1854).
// It is sent again only after answers that prove no token was minted (a
// refused connection, 429, an envelope with an error code). After an
// ambiguous failure (a lost or garbled answer, a gateway page) it is not:
// that request may have minted a token, and it counts against the token
// budget; the next caller may fetch once more if the budget allows.
func (c *Client) fetchToken(ctx context.Context, clientID, clientSecret string) (Token, error) {
	var data struct {
		AccessToken string          `json:"accessToken"`
		ExpiredAt   json.RawMessage `json:"expiredAt"`
	}
	err := c.do(ctx, &call{
		path:              pathAccessToken,
		body:              map[string]string{"clientID": clientID, "clientSecret": clientSecret},
		out:               &data,
		noAuth:            true,
		refusedByEnvelope: true,
	})
	if err != nil {
		return Token{}, err
	}
	if data.AccessToken == "" {
		return Token{}, protocolError("access_token answered no token")
	}
	exp, ok := parseExpiry(data.ExpiredAt)
	if !ok {
		// Unknown expiry: use the token until the platform refuses it.
		c.tokens.warnExpiry("missing or unreadable expiredAt; token kept until refused", "expiredAt", string(data.ExpiredAt))
	}
	return Token{AccessToken: data.AccessToken, ExpiresAt: exp}, nil
}

// parseExpiry reads expiredAt: an RFC 3339 string (what the platform
// documents), or a Unix time as a JSON number or numeric string. A Unix
// time above 1e11 is taken as milliseconds (1e11 seconds is the year 5138;
// 1e11 milliseconds is 1973), anything else as seconds. ok is false for a
// missing, null, zero or unreadable value.
func parseExpiry(raw json.RawMessage) (t time.Time, ok bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw) // a number, or something unreadable
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	if n > 1e11 {
		return time.UnixMilli(n), true
	}
	return time.Unix(n, 0), true
}

// call is one API request for do.
type call struct {
	method string // default POST
	path   string
	// query is sent as the URL query. Logs, errors and rate limiters see
	// only path, so the query never reaches them.
	query  url.Values
	body   any // JSON-encoded; nil sends no body
	out    any // decoded from the envelope's data; nil ignores it
	noAuth bool
	// replay allows another attempt after an ambiguous failure (the request
	// may have been acted on). Calls that are not idempotent leave it false
	// and are replayed only when the failure proves the platform did not act.
	replay bool
	// verifyingIsFinal returns code 20103 at once instead of retrying it, for
	// callers that poll on their own schedule.
	verifyingIsFinal bool
	// refusedByEnvelope counts an answer with an envelope error code as
	// proof that the platform did not act (access_token: no token was
	// handed out), so a call that is not replayed may still be sent again.
	refusedByEnvelope bool
}

// envelope is the wrapper of every API answer: {code, message, data,
// x-traceID}; code 0 is success, whatever the HTTP status.
type envelope struct {
	Code    *flexInt        `json:"code"` // nil: no code key (or null), so not an envelope
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
	TraceID string          `json:"x-traceID"`
}

// do sends one API call with rate limiting, auth, retries and a single
// token refresh on 401, and decodes the envelope into cl.out.
func (c *Client) do(ctx context.Context, cl *call) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if cl.method == "" {
		cl.method = http.MethodPost
	}
	refreshed := false
	for attempt := 1; ; attempt++ {
		token, err := c.attempt(ctx, cl)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if refreshable(err) && !cl.noAuth && token != "" {
			// The token is dropped on every 401, so that later calls do not
			// send it again; the token source decides whether a new one may
			// be minted. One replay per call: a 401 means it was refused.
			c.tokens.invalidate(token, err)
			if !refreshed {
				refreshed = true
				c.log.DebugContext(ctx, "pan123: token refused, refreshing once", "path", cl.path)
				attempt--
				continue
			}
		}
		if token == "" && !cl.noAuth {
			// No token could be had: access_token went through this loop
			// already; retrying here would multiply its attempts.
			return err
		}
		if !retryable(ctx, err) || attempt >= c.retry.maxAttempts ||
			(cl.verifyingIsFinal && errors.Is(err, ErrVerifying)) ||
			(!cl.replay && !notSent(err) && !(cl.refusedByEnvelope && envelopeRefusal(err))) {
			return err
		}
		if err := c.retry.backoff(ctx, attempt, err, 0, func(d time.Duration) {
			c.log.WarnContext(ctx, "pan123: retrying", "path", cl.path, "attempt", attempt, "wait", d, "err", err)
		}); err != nil {
			return err
		}
	}
}

// attempt sends cl once. It returns the token it used, so that a 401 can
// invalidate exactly that token.
func (c *Client) attempt(ctx context.Context, cl *call) (token string, err error) {
	slot, err := c.limits.wait(ctx, cl.path)
	if err != nil {
		return "", err
	}
	// Content-Type is one of the platform's common headers of every call,
	// GETs without a body included.
	req := c.api.R().SetContext(ctx).
		SetHeader("Platform", "open_platform").
		SetHeader("Content-Type", "application/json").
		SetHeader("User-Agent", c.ua)
	if !cl.noAuth {
		if token, err = c.tokens.token(ctx); err != nil {
			c.limits.release(cl.path, slot) // never sent: ends a probe
			return "", err
		}
		req.SetHeader("Authorization", "Bearer "+token)
	}
	if cl.body != nil {
		req.SetBody(cl.body)
	}
	if cl.query != nil {
		req.SetQueryParamsFromValues(cl.query)
	}
	start := time.Now()
	resp, err := req.Execute(cl.method, cl.path)
	if err != nil {
		c.limits.observe(cl.path, slot, err) // says nothing about the rate, but ends a probe
		c.log.DebugContext(ctx, "pan123: request failed", "method", cl.method, "path", cl.path, "err", redact(err))
		return token, requestError(cl.method, cl.path, err)
	}
	err = decodeEnvelope(cl.method, cl.path, resp.StatusCode(), resp.Header(), resp.Body(), cl.out, c.now())
	c.limits.observe(cl.path, slot, err) // adaptive pacing: a 429 slows this path down
	if c.log.Enabled(ctx, slog.LevelDebug) {
		attrs := []any{"method", cl.method, "path", cl.path, "status", resp.StatusCode(), "duration", time.Since(start)}
		var ae *APIError
		if errors.As(err, &ae) {
			attrs = append(attrs, "code", ae.Code, "trace_id", ae.TraceID)
		}
		c.log.DebugContext(ctx, "pan123: request", attrs...)
	}
	return token, err
}

// decodeEnvelope turns an answer into out, or into an *APIError.
//
// Any JSON object with a code key is an envelope, whatever else it holds:
// the documented {code, message, data, x-traceID}, and also a bare
// {"code":0}, which other clients met live (a success with nothing to say
// is harmless). A non-zero code is an *APIError with that code. Code 0 with
// an HTTP 2xx is success: data, when present and not null, is decoded into
// out (fields it lacks stay zero and the caller judges them). A body
// without a code key (a gateway page, truncated JSON, a proxy's own JSON)
// is not the platform's answer: an *APIError with Code 0, which retryable
// judges by HTTP status.
func decodeEnvelope(method, path string, status int, h http.Header, body []byte, out any, now time.Time) error {
	mkErr := func(code int, msg, trace string) *APIError {
		return &APIError{HTTPStatus: status, Code: code, Message: msg, TraceID: trace,
			Method: method, Path: path, RetryAfter: parseRetryAfter(h, now)}
	}
	if status/100 == 3 {
		return mkErr(0, redirectRefused, "")
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil || env.Code == nil {
		return mkErr(0, describeBody(status, body), "")
	}
	if *env.Code != 0 {
		return mkErr(int(*env.Code), env.Message, env.TraceID)
	}
	if status/100 != 2 {
		return mkErr(0, env.Message, env.TraceID)
	}
	if out == nil || len(env.Data) == 0 || bytes.Equal(env.Data, []byte("null")) {
		return nil
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		e := mkErr(0, "unreadable data: "+err.Error(), env.TraceID)
		e.HTTPStatus = status
		return mark(ErrProtocol, e)
	}
	return nil
}

// describeBody summarises a body that is not an envelope, without echoing
// much of it (a gateway page is noise; a proxy could echo headers).
func describeBody(status int, body []byte) string {
	if len(body) == 0 {
		return "empty body"
	}
	kind := "non-JSON body"
	if json.Valid(body) {
		kind = "JSON body without envelope"
	} else if body[0] == '{' || body[0] == '[' {
		kind = "truncated JSON body"
	}
	return fmt.Sprintf("%s (%d bytes, http %d)", kind, len(body), status)
}

// flexInt decodes a JSON number or a numeric string (the platform documents
// numbers but its examples sometimes send strings, e.g. partNumber "1").
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		fl, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || fl != float64(int64(fl)) {
			return fmt.Errorf("not an integer: %s", b)
		}
		n = int64(fl)
	}
	*f = flexInt(n)
	return nil
}

// flexString decodes a JSON string or number as a string (image-bed IDs are
// documented as strings; a number is accepted defensively).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if string(b) == "null" {
		*f = ""
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexString(n.String())
	return nil
}

type discardRestyLogger struct{}

func (discardRestyLogger) Errorf(string, ...any) {}
func (discardRestyLogger) Warnf(string, ...any)  {}
func (discardRestyLogger) Debugf(string, ...any) {}

// CloseIdleConnections closes the idle keep-alive connections of the
// client's transport, e.g. before a program checks for leaked goroutines.
func (c *Client) CloseIdleConnections() { c.data.CloseIdleConnections() }
