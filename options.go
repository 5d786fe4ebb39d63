package pan123

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Defaults of the client. Each can be changed with an [Option].
const (
	// DefaultBaseURL is the open platform's API host.
	DefaultBaseURL = "https://open-api.123pan.com"
	// DefaultMaxAttempts is how many times one request is tried before its error is returned.
	DefaultMaxAttempts = 5
	// DefaultRetryBase is the first backoff ceiling; it doubles per attempt (full jitter).
	DefaultRetryBase = 500 * time.Millisecond
	// DefaultRetryCap bounds one backoff wait, and any Retry-After the platform asks for.
	DefaultRetryCap = 10 * time.Second
	// DefaultTokenRefreshMargin: a cached token is renewed this long before its expiredAt.
	DefaultTokenRefreshMargin = 5 * time.Minute
	// DefaultUserAgent is sent unless WithUserAgent says otherwise.
	DefaultUserAgent = "pan123-go"
	// maxAPIBody caps the bytes read from one API answer.
	maxAPIBody = 1 << 20
)

// Option configures a [Client]. Options apply in order; the last one wins.
type Option func(*clientOptions)

type clientOptions struct {
	baseURL       string
	httpClient    *http.Client
	accessToken   string
	logger        *slog.Logger
	retry         retryPolicy
	limits        map[string]float64
	adaptive      bool // pacing adapts to 429s
	userAgent     string
	tokenStore    TokenStore
	refreshMargin time.Duration
	bandwidth     int64
	errs          []error
}

func defaultClientOptions() clientOptions {
	return clientOptions{
		baseURL:       DefaultBaseURL,
		retry:         retryPolicy{maxAttempts: DefaultMaxAttempts, base: DefaultRetryBase, cap: DefaultRetryCap},
		limits:        DefaultRateLimits(),
		adaptive:      true,
		userAgent:     DefaultUserAgent,
		refreshMargin: DefaultTokenRefreshMargin,
	}
}

func (o *clientOptions) fail(format string, args ...any) {
	o.errs = append(o.errs, fmt.Errorf(format, args...))
}

// WithBaseURL sets the API host, e.g. a pan123test server's URL.
// Default: [DefaultBaseURL]. It must be an absolute http or https URL.
func WithBaseURL(u string) Option {
	return func(o *clientOptions) {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			o.fail("WithBaseURL: %q is not an absolute http(s) URL", u)
			return
		}
		o.baseURL = u
	}
}

// WithHTTPClient sets the HTTP client (proxies, custom TLS, test transports).
// The client is copied, never mutated. Its Timeout applies to API calls only:
// slice uploads drop it and rely on a stall detector instead, so that a big
// slice on a slow link is not cut off. Default: a tuned clone of
// [http.DefaultTransport].
func WithHTTPClient(hc *http.Client) Option {
	return func(o *clientOptions) {
		if hc == nil {
			o.fail("WithHTTPClient: nil client")
			return
		}
		o.httpClient = hc
	}
}

// WithAccessToken uses a token obtained elsewhere. Without client credentials
// the client cannot renew it: once the platform refuses it, calls fail with
// [ErrUnauthorized].
func WithAccessToken(token string) Option {
	return func(o *clientOptions) {
		if token == "" {
			o.fail("WithAccessToken: empty token")
			return
		}
		o.accessToken = token
	}
}

// WithLogger sends debug and warning records (one per attempt and per retry) to l.
// Records never hold the client secret, tokens or presigned URL queries.
// Default: records are discarded.
func WithLogger(l *slog.Logger) Option {
	return func(o *clientOptions) {
		if l == nil {
			o.fail("WithLogger: nil logger")
			return
		}
		o.logger = l
	}
}

// WithRetry sets how API requests (create, get_upload_url, completion, ...)
// are retried: at most maxAttempts tries, waiting a random time in
// [0, min(cap, base·2^n)) between them (full jitter). A Retry-After from the
// platform is honoured up to cap. Slice sends are retried by the Uploader
// instead ([WithSliceRetry]). Defaults: [DefaultMaxAttempts],
// [DefaultRetryBase], [DefaultRetryCap].
func WithRetry(maxAttempts int, base, cap time.Duration) Option {
	return func(o *clientOptions) {
		if maxAttempts < 1 || base <= 0 || cap < base {
			o.fail("WithRetry: need maxAttempts >= 1 and 0 < base <= cap, got %d, %v, %v", maxAttempts, base, cap)
			return
		}
		o.retry = retryPolicy{maxAttempts: maxAttempts, base: base, cap: cap}
	}
}

// WithRateLimits overrides client-side request rates, in requests per second,
// keyed by endpoint path (for example "/upload/v1/file/get_upload_url").
// Paths not named keep their rate (from [DefaultRateLimits], or the tier set
// by an earlier [WithTier]); a rate of 0 removes that path's limit. A path
// the SDK never calls (a typo) or a negative rate makes [New] fail with
// ErrInvalidInput. The rates are ceilings: see [WithAdaptiveRateLimits].
func WithRateLimits(perSecond map[string]float64) Option {
	return func(o *clientOptions) {
		merged := maps.Clone(o.limits)
		if merged == nil {
			merged = make(map[string]float64, len(perSecond))
		}
		for _, p := range slices.Sorted(maps.Keys(perSecond)) {
			switch r := perSecond[p]; {
			case !knownPath(p):
				o.fail("WithRateLimits: unknown endpoint path %q (known: %s)", p, strings.Join(knownPaths(), ", "))
			case r < 0:
				o.fail("WithRateLimits: negative rate %v for %s", r, p)
			default:
				merged[p] = r
			}
		}
		o.limits = merged
	}
}

// WithTier paces requests by the published rates of the account's tier
// ([TierRateLimits]), replacing the rates set so far. Default: [DefaultTier]
// ([DefaultRateLimits]). With the default, a free account's creates meet
// 429s until pacing has adapted (a few calls); stating [FreeTier] avoids
// them, and [VIPTier] lets a VIP account go faster than the default allows.
func WithTier(t Tier) Option {
	return func(o *clientOptions) {
		if t < DefaultTier || t > VIPTier {
			o.fail("WithTier: unknown tier %d", int(t))
			return
		}
		o.limits = TierRateLimits(t)
	}
}

// WithAdaptiveRateLimits says whether the client-side rates adapt to the
// platform's 429 answers. When on (the default), each endpoint's rate is
// shared by everything the Client sends; a 429 sets it to 0.9 times the
// lesser of the rate and the calls the platform accepted in the second
// before (one at least), once per burst of 429s and never below 1/64 of
// its table rate, and the next call goes alone (the others wait for its
// answer, up to 2 s); each answered call without 429 raises it by 1/512 of
// its table rate, never above the table. Calls are always spaced evenly,
// never in bursts, as the platform may enforce strict spacing. Off,
// requests are paced at the table's rates whatever the platform answers
// (429s are still retried with backoff).
func WithAdaptiveRateLimits(on bool) Option {
	return func(o *clientOptions) { o.adaptive = on }
}

// WithoutRateLimits turns client-side rate limiting off. The platform's
// 429 answers are still retried with backoff.
func WithoutRateLimits() Option {
	return func(o *clientOptions) { o.limits = nil }
}

// WithUserAgent sets the User-Agent header of API calls. Default: [DefaultUserAgent].
func WithUserAgent(ua string) Option {
	return func(o *clientOptions) {
		if ua == "" {
			o.fail("WithUserAgent: empty user agent")
			return
		}
		o.userAgent = ua
	}
}

// WithTokenStore shares the access token through s, so that several processes
// of one client ID reuse one token: the platform allows only 3 live tokens
// per client ID, and minting more can log other instances out.
// When s is also a [TokenLeaser] (as [FileTokenStore] is), the processes take
// turns renewing it, and one of them mints when the shared token expires.
func WithTokenStore(s TokenStore) Option {
	return func(o *clientOptions) {
		if s == nil {
			o.fail("WithTokenStore: nil store")
			return
		}
		o.tokenStore = s
	}
}

// WithTokenRefreshMargin sets how long before expiredAt a cached token is
// renewed. Default: [DefaultTokenRefreshMargin].
func WithTokenRefreshMargin(d time.Duration) Option {
	return func(o *clientOptions) {
		if d < 0 {
			o.fail("WithTokenRefreshMargin: negative margin %v", d)
			return
		}
		o.refreshMargin = d
	}
}

// WithBandwidthLimit caps the bytes per second that all uploads through the
// Client send, together: ten files at once share one cap. It covers slice
// bodies (presigned PUTs, V2 slices, single-step uploads), not API calls.
// [Client.SetBandwidthLimit] changes it while uploads run. Default: 0, no cap.
func WithBandwidthLimit(bytesPerSec int64) Option {
	return func(o *clientOptions) {
		if bytesPerSec < 0 {
			o.fail("WithBandwidthLimit: negative rate %d", bytesPerSec)
			return
		}
		o.bandwidth = bytesPerSec
	}
}

func (o *clientOptions) validate(clientID, clientSecret string) error {
	errs := o.errs
	hasCreds := clientID != "" && clientSecret != ""
	if (clientID == "") != (clientSecret == "") {
		errs = append(errs, errors.New("client ID and client secret must be given together"))
	}
	if !hasCreds && o.accessToken == "" && o.tokenStore == nil {
		errs = append(errs, errors.New("no credentials: give a client ID and secret, WithAccessToken or WithTokenStore"))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidInput, errors.Join(errs...))
}

// Defaults of the Uploader. Each can be changed with an [UploadOption].
const (
	// DefaultConcurrency is the number of slices in flight per upload.
	DefaultConcurrency = 4
	// MaxConcurrency bounds WithConcurrency.
	MaxConcurrency = 64
	// DefaultSliceAttempts is the slice retry budget: a slice that fails this
	// many times in a row while no other slice succeeds fails the upload
	// (see [WithSliceRetry]).
	DefaultSliceAttempts = 5
	// DefaultPollInterval is the wait between completion polls; the platform
	// asks for at least one second.
	DefaultPollInterval = time.Second
	// DefaultStallTimeout: a slice transfer that moves no byte for this long
	// is cut and retried.
	DefaultStallTimeout = time.Minute
	// DefaultResponseTimeout: a slice attempt whose answer has not come this
	// long after its last byte was sent is cut and retried.
	DefaultResponseTimeout = 2 * time.Minute
)

// UploadOption configures an [Uploader], or one call of it.
type UploadOption func(*uploadConfig)

type uploadConfig struct {
	concurrency     int
	progress        func(Progress)
	sliceRetry      retryPolicy
	pollInterval    time.Duration
	completeTimeout time.Duration // 0 = scaled with size
	stallTimeout    time.Duration
	responseTimeout time.Duration
	tempDir         string
	protocol        Protocol
	checkpointDir   string
	storedName      bool       // WithStoredName
	bandwidth       int64      // WithUploadBandwidthLimit; 0 = none
	bw              *bandwidth // the cap of one upload call, made from bandwidth
	errs            []error
}

func defaultUploadConfig() uploadConfig {
	return uploadConfig{
		concurrency:     DefaultConcurrency,
		sliceRetry:      retryPolicy{maxAttempts: DefaultSliceAttempts, base: DefaultRetryBase, cap: DefaultRetryCap},
		pollInterval:    DefaultPollInterval,
		stallTimeout:    DefaultStallTimeout,
		responseTimeout: DefaultResponseTimeout,
		protocol:        V1,
	}
}

func (o *uploadConfig) fail(format string, args ...any) {
	o.errs = append(o.errs, fmt.Errorf(format, args...))
}

// WithConcurrency sets how many slices of one upload are in flight at once
// (1 to MaxConcurrency). Memory does not grow with it for file sources: slices
// are streamed from the file. Default: [DefaultConcurrency].
func WithConcurrency(n int) UploadOption {
	return func(o *uploadConfig) {
		if n < 1 || n > MaxConcurrency {
			o.fail("WithConcurrency: %d is outside 1..%d", n, MaxConcurrency)
			return
		}
		o.concurrency = n
	}
}

// WithProgress calls fn with byte-accurate progress: hashing, uploading (Done
// rolls back when a slice is retried), completing, done. Calls are serialised
// (never concurrent) but come from the upload's goroutines: fn must return
// quickly. Default: none.
func WithProgress(fn func(Progress)) UploadOption {
	return func(o *uploadConfig) { o.progress = fn }
}

// WithSliceRetry sets how failed slices are retried, with full-jitter
// backoff between base and cap. The budget follows the upload's progress: a
// slice that failed is sent again as long as other slices succeed, and the
// upload fails once one slice has failed attempts times in a row with no
// success of any slice in between. A platform that fails everything is so
// given up on as fast as with a fixed budget. A single-step upload (one
// request) gets attempts sends.
// Default: [DefaultSliceAttempts], [DefaultRetryBase] to [DefaultRetryCap].
func WithSliceRetry(attempts int, base, cap time.Duration) UploadOption {
	return func(o *uploadConfig) {
		if attempts < 1 || base <= 0 || cap < base {
			o.fail("WithSliceRetry: need attempts >= 1 and 0 < base <= cap, got %d, %v, %v", attempts, base, cap)
			return
		}
		o.sliceRetry = retryPolicy{maxAttempts: attempts, base: base, cap: cap}
	}
}

// WithPollInterval sets the wait between completion polls. The platform asks
// for at least a second; shorter values are for tests against pan123test.
// Default: [DefaultPollInterval].
func WithPollInterval(d time.Duration) UploadOption {
	return func(o *uploadConfig) {
		if d <= 0 {
			o.fail("WithPollInterval: %v is not positive", d)
			return
		}
		o.pollInterval = d
	}
}

// WithCompleteTimeout bounds the wait for the platform to finish a file after
// its last slice. Default: 2 minutes plus 1 minute per GiB.
func WithCompleteTimeout(d time.Duration) UploadOption {
	return func(o *uploadConfig) {
		if d <= 0 {
			o.fail("WithCompleteTimeout: %v is not positive", d)
			return
		}
		o.completeTimeout = d
	}
}

// WithStallTimeout sets how long a slice transfer may move no byte before it
// is cut and retried. It counts only while the slice is being sent: the wait
// for the answer after the last byte is bounded by [WithResponseTimeout].
// There is no whole-slice timeout, so slow links work.
// Default: [DefaultStallTimeout].
func WithStallTimeout(d time.Duration) UploadOption {
	return func(o *uploadConfig) {
		if d <= 0 {
			o.fail("WithStallTimeout: %v is not positive", d)
			return
		}
		o.stallTimeout = d
	}
}

// WithResponseTimeout sets how long a slice attempt waits for the
// platform's answer once its last byte is sent, before it is cut and
// retried. The platform may take a while to store a slice (or a whole file
// sent in one request), so this is longer than the stall timeout.
// Default: [DefaultResponseTimeout].
func WithResponseTimeout(d time.Duration) UploadOption {
	return func(o *uploadConfig) {
		if d <= 0 {
			o.fail("WithResponseTimeout: %v is not positive", d)
			return
		}
		o.responseTimeout = d
	}
}

// WithTempDir sets where streams that cannot seek (Upload with a plain
// io.Reader) are spooled while hashed; the file is removed when the upload
// returns. Default: [os.TempDir].
func WithTempDir(dir string) UploadOption {
	return func(o *uploadConfig) { o.tempDir = dir }
}

// Protocol selects how the drive's slices travel to the platform. The
// platform's docs label V1 "旧" (old) and V2 "推荐" (recommended); both are
// documented and served. The SDK keeps V1 as the default because it is the
// only protocol that resumes after a crash and the only one the image bed
// has. Pick by what the upload needs:
//
//   - V1: big files that must survive a crash ([WithCheckpointDir]), and
//     anything where one protocol for drive and image bed is simpler.
//   - V2: big files on a fast link where no resume is needed, or when
//     storage hosts fail often (failover).
//   - Auto: many small files: one request each up to [AutoSingleThreshold].
type Protocol int

const (
	// V1 (the default) gets a presigned URL per slice from the API host and
	// PUTs the raw bytes to storage. Costs: one get_upload_url call per
	// slice, paced at 20 per second (with 16 MiB slices that caps one
	// Client at 320 MiB/s); completion may be asynchronous (polled at most
	// once a second). Gains: the platform lists the slices it holds
	// (list_upload_parts), so an interrupted upload continues where it
	// stopped, even in another process; instant upload by MD5.
	V1 Protocol = iota
	// V2 posts each slice, with its MD5, as multipart/form-data to upload
	// servers the platform names. Costs: one more MD5 pass over each slice
	// (about 175 ms per 256 MiB); no resume after a crash, as the platform
	// lists no V2 slices (an interrupted upload starts over). Gains: no API
	// call per slice (slices are bounded by concurrency, not by the API's
	// rate); a failed slice moves to the next server; instant upload by MD5.
	V2
	// Auto sends files up to [AutoSingleThreshold] in one single-step
	// request (no create or complete call) and larger ones with V2. Costs
	// of single-step: the bytes are always sent (no instant upload by MD5),
	// a failure resends the whole file, and nothing resumes. Gains: the
	// fewest API calls per small file.
	Auto
)

// WithProtocol selects the upload protocol of the drive; the image bed only
// has V1. V2 does not resume after a crash (the platform lists no V2 slices),
// so with WithCheckpointDir an interrupted V2 upload starts over.
// Default: [V1].
func WithProtocol(p Protocol) UploadOption {
	return func(o *uploadConfig) {
		if p < V1 || p > Auto {
			o.fail("WithProtocol: unknown protocol %d", p)
			return
		}
		o.protocol = p
	}
}

// WithCheckpointDir makes UploadFile and UploadImageFile resumable across
// processes: while a file uploads, a small record of its session is kept in
// dir (created if missing), and a later upload of the same unchanged file to
// the same place continues that session, re-sending only slices the
// platform does not hold with the right MD5. The record is removed after
// success. Uploads from an io.Reader are not checkpointed. The dir also
// keeps the V2 slice size last answered, so that a new process computes the
// V2 slice MD5s in its hashing pass rather than hash each slice again.
// Default: off.
func WithCheckpointDir(dir string) UploadOption {
	return func(o *uploadConfig) {
		if dir == "" {
			o.fail("WithCheckpointDir: empty directory")
			return
		}
		o.checkpointDir = dir
	}
}

// WithUploadBandwidthLimit caps the bytes per second of one upload call,
// beside the Client's cap (WithBandwidthLimit): its slices wait for both.
// Given to NewUploader, each call of the Uploader gets a cap of its own.
// Default: 0, no cap of its own.
func WithUploadBandwidthLimit(bytesPerSec int64) UploadOption {
	return func(o *uploadConfig) {
		if bytesPerSec < 0 {
			o.fail("WithUploadBandwidthLimit: negative rate %d", bytesPerSec)
			return
		}
		o.bandwidth = bytesPerSec
	}
}

// withCallCap makes a call use bw, the cap of another call: the files of
// one UploadDir call share that call's WithUploadBandwidthLimit.
func withCallCap(bw *bandwidth) UploadOption {
	return func(o *uploadConfig) { o.bw = bw }
}
