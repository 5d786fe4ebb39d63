package pan123test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxJSONBody caps the JSON body of an API request.
const maxJSONBody = 1 << 20

// Server is an in-process fake of the 123pan open platform over real
// loopback HTTP. It is safe for concurrent use. Create it with [NewServer]
// and stop it with [Server.Close].
type Server struct {
	URL          string // base URL of the API host, e.g. "http://127.0.0.1:41234" (no trailing slash)
	ClientID     string // credentials it accepts (from WithCredentials, or defaults)
	ClientSecret string

	cfg       config
	api       *listener
	uploads   []*listener
	apiMux    map[string]route
	uploadMux map[string]route
	closeOnce sync.Once
	active    atomic.Int64 // handlers running (for tests)

	mu       sync.Mutex
	tokens   map[string]time.Time // live token -> expiry
	issued   int
	faults   []*activeFault
	log      []Request
	files    *tree
	images   *tree
	nextID   int64
	sessions map[string]*session
	finished map[string]finished
	urls     map[string]*presigned // by X-Amz-Signature
	windows  map[Op]window         // WithRateLimit state
	started  time.Time             // real time at start, for WithRateLimit windows

	// WithTokenLimit: live tokens oldest first, the ones it logged out,
	// and how many requests carried one of those.
	liveOrder    []string
	replaced     map[string]bool
	replacedUses int
}

// firstFileID is the first ID handed out to file-family entries.
const firstFileID = 10000001

// NewServer starts the API host and the V2 upload servers on 127.0.0.1
// (see [WithAddr]) and returns the running fake. The caller must
// [Server.Close] it, like an httptest.Server. NewServer panics if an option value is invalid (a
// negative size or TTL, zero upload servers) or if it cannot listen.
func NewServer(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		panic("pan123test: " + err.Error())
	}
	s := &Server{
		ClientID:     cfg.clientID,
		ClientSecret: cfg.clientSecret,
		cfg:          cfg,
		tokens:       map[string]time.Time{},
		replaced:     map[string]bool{},
		files:        newTree(false),
		images:       newTree(true),
		nextID:       firstFileID - 1,
		sessions:     map[string]*session{},
		finished:     map[string]finished{},
		urls:         map[string]*presigned{},
		windows:      map[Op]window{},
		started:      time.Now(),
	}
	s.apiMux = s.apiRoutes()
	s.uploadMux = s.uploadRoutes()
	s.api = s.listen(0)
	s.URL = s.api.url
	for i := 1; i <= cfg.uploadServers; i++ {
		s.uploads = append(s.uploads, s.listen(i))
	}
	return s
}

// Close stops every listener, aborts the requests in flight (stalls,
// latency and throttled reads end at once) and waits for all handlers and
// connections to finish. It is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		for _, l := range s.uploads {
			l.close()
		}
		s.api.close()
	})
}

// CloseUploadServer stops V2 upload server i (1-based) so that new
// connections to it are refused, e.g. for failover tests. Its URL is still
// answered by create and domain. Closing it twice is a no-op; an index out
// of range panics.
func (s *Server) CloseUploadServer(i int) {
	if i < 1 || i > len(s.uploads) {
		panic(fmt.Sprintf("pan123test: CloseUploadServer(%d): have %d upload servers", i, len(s.uploads)))
	}
	s.uploads[i-1].close()
}

// UploadServers returns the base URLs of the V2 upload servers, in index
// order (index 1 first), as answered by create.servers and domain (unless
// [WithAnsweredServers] says otherwise).
func (s *Server) UploadServers() []string {
	urls := make([]string, len(s.uploads))
	for i, l := range s.uploads {
		urls[i] = l.url
	}
	return urls
}

// answeredServers is what create.servers and domain answer.
func (s *Server) answeredServers() []string {
	if s.cfg.answeredServers != nil {
		return s.cfg.answeredServers(s.UploadServers())
	}
	return s.UploadServers()
}

func (s *Server) now() time.Time { return s.cfg.clock() }

// listener is one HTTP endpoint of the fake: the API host (index 0) or a V2
// upload server (index 1..n).
type listener struct {
	index  int
	url    string
	srv    *http.Server
	ctx    context.Context // cancelled by close; parent of every request context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the Serve goroutine and every connection
	once   sync.Once
}

func (s *Server) listen(index int) *listener {
	addr := s.cfg.addr
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		panic("pan123test: listen: " + err.Error())
	}
	if index > 0 {
		addr = net.JoinHostPort(host, "0") // upload servers: free ports
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		panic("pan123test: listen: " + err.Error())
	}
	tcp := ln.Addr().(*net.TCPAddr)
	if tcp.IP.IsUnspecified() {
		tcp = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: tcp.Port}
	}
	l := &listener{index: index, url: "http://" + tcp.String()}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.srv = &http.Server{
		Handler:     http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serveHTTP(l, w, r) }),
		BaseContext: func(net.Listener) context.Context { return l.ctx },
		ErrorLog:    log.New(io.Discard, "", 0),
		ConnState: func(c net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				l.wg.Add(1)
				if l.ctx.Err() != nil { // accepted while closing
					c.Close()
				}
			case http.StateHijacked, http.StateClosed:
				l.wg.Done()
			}
		},
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		_ = l.srv.Serve(ln)
	}()
	return l
}

// close cancels the requests in flight, closes the listener and every
// connection, and waits until all of them are gone.
func (l *listener) close() {
	l.once.Do(func() {
		l.cancel()
		_ = l.srv.Close()
		l.wg.Wait()
	})
}

// route is one endpoint: the op it logs as, its method and its handler.
type route struct {
	op     Op
	method string
	serve  func(*call)
}

func (s *Server) lookup(l *listener, path string) (route, bool) {
	if l.index > 0 {
		rt, ok := s.uploadMux[path]
		return rt, ok
	}
	if strings.HasPrefix(path, storagePrefix) {
		return route{op: OpPut, method: http.MethodPut, serve: s.servePut}, true
	}
	rt, ok := s.apiMux[path]
	return rt, ok
}

func (s *Server) serveHTTP(l *listener, w http.ResponseWriter, r *http.Request) {
	s.active.Add(1)
	defer s.active.Add(-1)
	b := &body{rc: r.Body, ctx: r.Context()}
	r.Body = b
	c := &call{s: s, w: w, r: r, body: b, rec: Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Server: l.index,
		Code:   -1,
		Header: r.Header.Clone(),
		Time:   s.now(),
	}}
	defer c.log() // for a handler that returned without answering
	rt, ok := s.lookup(l, r.URL.Path)
	c.rec.Op = rt.op
	if !ok {
		c.rec.Op = Op(r.URL.Path)
	}
	delay := s.cfg.latency
	if l.index == 0 && rt.op != OpPut {
		delay += s.cfg.apiLatency
	}
	if !c.sleep(delay) {
		c.abandon()
		return
	}
	switch {
	case !ok:
		c.envelope(http.StatusNotFound, http.StatusNotFound, "no such endpoint: "+r.URL.Path, nil)
	case r.Method != rt.method:
		c.w.Header().Set("Allow", rt.method)
		c.envelope(http.StatusMethodNotAllowed, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed, use "+rt.method, nil)
	default:
		rt.serve(c)
	}
}

// call is one request being handled.
type call struct {
	s     *Server
	w     http.ResponseWriter
	r     *http.Request
	body  *body
	rec   Request
	done  bool          // logged
	delay time.Duration // Fault.Delay: wait after the body, before answering
	lose  bool          // Fault.Lose: act, then close without answering
	// replace is a Fault with Handle: its Body is answered in place of
	// whatever the handler answers.
	replace *Fault
}

// log records the request once, just before its answer is sent or its
// connection closed, so that a client never sees an answer before the log
// shows the request.
func (c *call) log() {
	if !c.done {
		c.done = true
		c.s.record(c)
	}
}

// sleep waits d of real time; false if the server closed or the client went
// away meanwhile.
func (c *call) sleep(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	return sleepCtx(c.r.Context(), d)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// abandon closes the connection without an answer: the client went away or
// the server is closing (otherwise net/http would answer an empty 200).
func (c *call) abandon() { c.drop(0) }

// write answers the request. The unread rest of the request body is drained
// first so that the client always sees the answer rather than a reset.
// Nothing is answered once the client went away or the server is closing.
func (c *call) write(status int, contentType string, b []byte) {
	if f := c.replace; f != nil {
		c.replace = nil
		status, contentType, b = cmp(f.Status, http.StatusOK), bodyType(f.Body), []byte(f.Body)
	}
	_, _ = io.Copy(io.Discard, c.r.Body)
	if !c.sleep(c.delay) || c.r.Context().Err() != nil || c.lose {
		c.abandon() // client gone, server closing, or the answer is to be lost
		return
	}
	if contentType != "" {
		c.w.Header().Set("Content-Type", contentType)
	}
	c.rec.Status = status
	c.log()
	c.w.WriteHeader(status)
	_, _ = c.w.Write(b)
}

type envelope struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data"`
	TraceID string `json:"x-traceID"`
}

// envelope answers HTTP status with the JSON envelope {code, message, data, x-traceID}.
func (c *call) envelope(status, code int, msg string, data any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(envelope{Code: code, Message: msg, Data: data, TraceID: randHex(16)}); err != nil {
		panic("pan123test: encode answer: " + err.Error())
	}
	c.rec.Code = code
	c.write(status, "application/json; charset=utf-8", buf.Bytes())
}

func (c *call) ok(data any) { c.envelope(http.StatusOK, 0, "ok", data) }

// fail answers HTTP 200 with an error envelope (data null), like the platform.
func (c *call) fail(err error) {
	var e *apiError
	if !errors.As(err, &e) {
		e = &apiError{code: CodeInternal, msg: "内部错误: " + err.Error()}
	}
	c.envelope(http.StatusOK, e.code, e.msg, nil)
}

// s3Error answers like an S3-compatible storage node.
func (c *call) s3Error(status int, code, msg string) {
	b, err := xml.Marshal(struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		Resource  string
		RequestID string `xml:"RequestId"`
	}{Code: code, Message: msg, Resource: c.r.URL.Path, RequestID: strings.ToUpper(randHex(8))})
	if err != nil {
		panic("pan123test: encode answer: " + err.Error())
	}
	c.write(status, "application/xml", append([]byte(xml.Header), b...))
}

// checkHeaders enforces the Platform header and, if auth, a live bearer token.
func (c *call) checkHeaders(auth bool) bool {
	if p := c.r.Header.Get("Platform"); p != "open_platform" {
		c.fail(badRequest("header Platform must be %q, got %q", "open_platform", p))
		return false
	}
	if auth && !c.s.tokenValid(c.r.Header.Get("Authorization")) {
		c.fail(errToken)
		return false
	}
	return true
}

// body wraps a request body: it counts the bytes read and, when rate > 0,
// throttles reading to rate bytes per second.
type body struct {
	rc    io.ReadCloser
	ctx   context.Context
	n     int64
	rate  int64
	start time.Time
}

func (b *body) Read(p []byte) (int, error) {
	if b.rate > 0 {
		if b.start.IsZero() {
			b.start = time.Now()
		}
		chunk := min(max(b.rate/16, 512), 64<<10)
		if int64(len(p)) > chunk {
			p = p[:chunk]
		}
	}
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if b.rate > 0 && n > 0 {
		due := b.start.Add(time.Duration(float64(b.n) / float64(b.rate) * float64(time.Second)))
		if wait := time.Until(due); wait > 0 && !sleepCtx(b.ctx, wait) {
			return n, b.ctx.Err()
		}
	}
	return n, err
}

func (b *body) Close() error { return b.rc.Close() }

// throttle applies WithBandwidth to this request's body.
func (c *call) throttle() { c.body.rate = c.s.cfg.bandwidth }

// randHex returns 2n random hex digits.
func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randAlnum returns n random letters and digits.
func randAlnum(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}
