package pan123test

import (
	"fmt"
	"time"
)

// Default values of the [Server] options.
const (
	DefaultClientID       = "test-client-id"
	DefaultClientSecret   = "test-client-secret"
	DefaultTokenTTL       = 90 * 24 * time.Hour
	DefaultSliceSize      = 16 << 20  // 16 MiB, as in the file-family examples
	DefaultImageSliceSize = 100 << 20 // 104857600, as in the image-bed example
	DefaultURLTTL         = 10 * time.Minute
	DefaultPreuploadTTL   = 24 * time.Hour
)

// StoreMode says what the fake keeps of uploaded bytes; see [WithStore].
type StoreMode int

const (
	// StoreBytes keeps every byte: [File.Data] is set, the whole-file MD5 is
	// checked at completion and [File.SHA1] is computed. This is the default.
	StoreBytes StoreMode = iota
	// StoreHashes keeps the size and MD5 of every slice only. The whole-file
	// MD5 check at completion is skipped (the declared etag is trusted),
	// [File.Data] is nil and [File.SHA1] is "".
	StoreHashes
	// StoreNothing only counts bytes: no hashing at all. Slice etags in
	// list_upload_parts and [Part.MD5] are "", V2 sliceMD5 and single-create
	// etags are not verified. Use it for very large uploads.
	StoreNothing
)

// Option configures a [Server]; pass options to [NewServer].
type Option func(*config)

type config struct {
	clientID, clientSecret string
	tokenTTL               time.Duration
	sliceSize              int64
	imageSliceSize         int64
	urlTTL                 time.Duration
	preuploadTTL           time.Duration
	async                  bool
	polls                  int
	store                  StoreMode
	bandwidth              int64
	latency                time.Duration
	apiLatency             time.Duration
	clock                  func() time.Time
	uploadServers          int
	addr                   string
	answeredServers        func(urls []string) []string
	expiredAt              func(expiry time.Time) any
	rates                  map[Op]rateLimit // WithRateLimit
	tokenLimit             int              // WithTokenLimit
}

func defaultConfig() config {
	return config{
		clientID:       DefaultClientID,
		clientSecret:   DefaultClientSecret,
		tokenTTL:       DefaultTokenTTL,
		sliceSize:      DefaultSliceSize,
		imageSliceSize: DefaultImageSliceSize,
		urlTTL:         DefaultURLTTL,
		preuploadTTL:   DefaultPreuploadTTL,
		store:          StoreBytes,
		clock:          time.Now,
		uploadServers:  1,
		addr:           "127.0.0.1:0",
	}
}

func (c *config) validate() error {
	switch {
	case c.clientID == "" || c.clientSecret == "":
		return fmt.Errorf("empty credentials")
	case c.tokenTTL <= 0 || c.urlTTL <= 0 || c.preuploadTTL <= 0:
		return fmt.Errorf("TTLs must be positive")
	case c.sliceSize <= 0 || c.imageSliceSize <= 0:
		return fmt.Errorf("slice sizes must be positive")
	case c.polls < 0:
		return fmt.Errorf("WithAsync polls must be >= 0")
	case c.store < StoreBytes || c.store > StoreNothing:
		return fmt.Errorf("unknown StoreMode %d", c.store)
	case c.bandwidth < 0 || c.latency < 0 || c.apiLatency < 0:
		return fmt.Errorf("bandwidth and latency must be >= 0")
	case c.clock == nil:
		return fmt.Errorf("nil clock")
	case c.tokenLimit < 0:
		return fmt.Errorf("WithTokenLimit must be >= 0")
	case c.uploadServers < 1:
		return fmt.Errorf("WithUploadServers needs at least 1")
	}
	return c.validateRates()
}

// WithCredentials sets the clientID and clientSecret that access_token
// accepts. Default: [DefaultClientID], [DefaultClientSecret].
func WithCredentials(clientID, clientSecret string) Option {
	return func(c *config) { c.clientID, c.clientSecret = clientID, clientSecret }
}

// WithTokenTTL sets the lifetime of issued access tokens; expiredAt is
// now+d rendered in RFC 3339 with a +08:00 offset. Default: 90 days (what
// the platform is observed to answer).
func WithTokenTTL(d time.Duration) Option {
	return func(c *config) { c.tokenTTL = d }
}

// WithExpiredAt sets what access_token answers as expiredAt, given the
// token's real expiry on the fake: a past date (as a client whose clock runs
// ahead of the platform's sees it), a Unix number, nil (JSON null) or any
// other JSON value. The token stays valid on the fake for the [WithTokenTTL]
// lifetime whatever is answered. Default: the expiry in RFC 3339 with a
// +08:00 offset.
func WithExpiredAt(f func(expiry time.Time) any) Option {
	return func(c *config) { c.expiredAt = f }
}

// WithSliceSize sets the sliceSize answered by the file-family create
// endpoints (V1 and V2), in bytes. Default: 16 MiB.
func WithSliceSize(n int64) Option {
	return func(c *config) { c.sliceSize = n }
}

// WithImageSliceSize sets the sliceSize answered by the image-bed create
// endpoint, in bytes. Default: 100 MiB (104857600).
func WithImageSliceSize(n int64) Option {
	return func(c *config) { c.imageSliceSize = n }
}

// WithURLTTL sets the lifetime of presigned PUT URLs, measured with the
// [WithClock] clock. Default: 10 minutes.
func WithURLTTL(d time.Duration) Option {
	return func(c *config) { c.urlTTL = d }
}

// WithPreuploadTTL makes upload sessions (and their parts) be forgotten d
// after their create call, measured with the [WithClock] clock.
// Default: 24 hours.
func WithPreuploadTTL(d time.Duration) Option {
	return func(c *config) { c.preuploadTTL = d }
}

// WithAsync makes completion asynchronous. V1 and image bed:
// upload_complete answers async=true, completed=false, then
// upload_async_result answers completed=false polls times before
// completed=true with the fileID. V2: upload_complete answers
// completed=false polls times (the first call included) before
// completed=true. Default: synchronous completion.
func WithAsync(polls int) Option {
	return func(c *config) { c.async, c.polls = true, polls }
}

// WithStore sets what the fake keeps of uploaded bytes. Default: [StoreBytes].
func WithStore(m StoreMode) Option {
	return func(c *config) { c.store = m }
}

// WithBandwidth throttles the reading of every slice body (presigned PUT,
// V2 slice and single-create requests) to bytesPerSecond per connection,
// in real time. 0 means unlimited (the default).
func WithBandwidth(bytesPerSecond int64) Option {
	return func(c *config) { c.bandwidth = bytesPerSecond }
}

// WithLatency delays every request (API and slices) by d of real time
// before it is handled. The delay ends early when the server closes.
// Default: 0.
func WithLatency(d time.Duration) Option {
	return func(c *config) { c.latency = d }
}

// WithAPILatency delays every request to the API host (not the PUTs to
// presigned URLs, nor the V2 upload servers) by d of real time, on top of
// [WithLatency]: an API host far away with storage close by. Default: 0.
func WithAPILatency(d time.Duration) Option {
	return func(c *config) { c.apiLatency = d }
}

// WithClock sets the time source for every expiry (tokens, presigned URLs,
// upload sessions) and for [Request.Time]. Latency, bandwidth and stalls
// always use real time. Default: time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.clock = now }
}

// WithUploadServers sets how many V2 upload servers (each its own loopback
// listener) the fake runs; their URLs are answered in create.servers and
// by domain. Default: 1.
func WithUploadServers(n int) Option {
	return func(c *config) { c.uploadServers = n }
}

// WithAddr sets the address the API host listens on, such as
// "127.0.0.1:8123" or ":8123"; the V2 upload servers listen on the same
// host, on free ports. URLs name 127.0.0.1 when the host is empty or
// unspecified. Default: "127.0.0.1:0", a free port on loopback.
func WithAddr(addr string) Option {
	return func(c *config) { c.addr = addr }
}

// WithAnsweredServers makes create.servers (V2) and domain answer
// f(urls) instead of urls, the base URLs of the fake's upload servers: a
// platform whose list holds a bad entry (another scheme, a bare host) or a
// stale host. Default: the URLs as they are.
func WithAnsweredServers(f func(urls []string) []string) Option {
	return func(c *config) { c.answeredServers = f }
}
