package pan123test

import (
	"io"
	"net/http"
	"strings"
	"time"
)

// Fault makes matching requests fail. Faults are consumed in the order
// injected: a request is matched against the live faults in injection order
// and the first match takes it (either letting it pass while After lasts,
// or failing it). A fault is checked before any validation of the request
// (headers, token, body), right after the fake has read what it needs to
// match: the JSON body of API calls, the text fields before the file part
// of V2 slice requests, nothing of presigned PUT bodies.
//
// Exactly one way of failing applies, in this order: Drop, Location, Body,
// Empty, Code, Status. A Stall runs first; a Stall alone delays the request and
// then lets it be handled normally. A Delay alone lets the request be
// handled normally and holds its answer back; Lose alone lets it be handled
// and drops the answer.
// Body with Handle is a raw answer over the fake's real state: the
// request is handled, then Body is answered.
type Fault struct {
	Op      Op            // which requests
	SliceNo int           // for OpPut / OpV2Slice / OpGetUploadURL / OpOSSGetUploadURL: only this slice; 0 = any
	Server  int           // for V2 upload servers: only this server index (1-based); 0 = any
	After   int           // let this many matching requests pass before the first failure
	Times   int           // how many matching requests fail; 0 means 1; -1 means forever
	Status  int           // answer with this HTTP status (API: with an error envelope whose code is Code, or else Status; PUT: empty body)
	Code    int           // answer HTTP 200 (or Status) with this envelope code and a realistic message; on OpPut, which has no envelope, answer HTTP 500 (or Status) with an S3 InternalError XML body
	Message string        // with Code: this message instead of the realistic one, e.g. [MsgTokenLimit]
	Body    string        // raw body to answer with, with Status (default 200); Content-Type text/html if it starts with "<", else application/json
	Drop    bool          // read about half of the request body, then close the connection without answering
	Stall   time.Duration // read nothing / answer nothing for this long (returns early if the client goes away or the server closes), then go on
	Header  http.Header   // extra response headers for the failure answer, e.g. Retry-After
	// Location answers a redirect to it: HTTP Status (default 307) with this
	// Location header (sent as given, even if it does not parse) and an empty body.
	Location string
	// Delay holds the answer back this long (real time) after the whole
	// request body was read: a platform slow to answer once the last byte is in.
	Delay time.Duration
	// Lose handles the request normally (the platform acts on it), then
	// closes the connection instead of answering: an answer lost on the way.
	Lose bool
	// Empty answers HTTP Status (default 200) with no body at all, as a
	// proxy in front of the platform may.
	Empty bool
	// Handle, with Body, lets the fake handle the request first, with all
	// its checks and effects (a slice is stored, a session completes), and
	// then answers Body in place of its own answer, whatever that was. It
	// replays an answer shape of the platform without losing the fake's
	// state: a later call sees what the handled one did. The request log
	// keeps the fake's own code.
	Handle bool
}

type activeFault struct {
	Fault
	after, left int // left < 0: forever
}

// Inject adds a fault; see [Fault].
func (s *Server) Inject(f Fault) {
	left := f.Times
	if left == 0 {
		left = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &activeFault{Fault: f, after: f.After, left: left})
}

// ClearFaults removes every fault not yet consumed.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the fault that fails this request, if any.
func (s *Server) takeFault(op Op, sliceNo, server int) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Op != op || (f.SliceNo != 0 && f.SliceNo != sliceNo) || (f.Server != 0 && f.Server != server) {
			continue
		}
		if f.after > 0 {
			f.after--
			return Fault{}, false
		}
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
		}
		return f.Fault, true
	}
	return Fault{}, false
}

// fault applies the matching fault, if any, and reports whether the
// request has been dealt with. half is how many body bytes a Drop reads.
func (c *call) fault(half int64) bool {
	f, ok := c.s.takeFault(c.rec.Op, c.rec.SliceNo, c.rec.Server)
	if !ok {
		return false
	}
	if f.Stall > 0 && !c.sleep(f.Stall) {
		c.abandon() // client gone or server closing
		return true
	}
	c.delay, c.lose = f.Delay, f.Lose
	for k, v := range f.Header {
		c.w.Header()[k] = v
	}
	isPut := c.rec.Op == OpPut
	switch {
	case f.Drop:
		c.drop(half)
	case f.Location != "":
		c.w.Header()["Location"] = []string{f.Location}
		c.write(cmp(f.Status, http.StatusTemporaryRedirect), "", nil)
	case f.Body != "" && f.Handle:
		c.replace = &f // write answers it once the handler has run
		return false
	case f.Body != "":
		c.write(cmp(f.Status, http.StatusOK), bodyType(f.Body), []byte(f.Body))
	case f.Empty:
		c.write(cmp(f.Status, http.StatusOK), "", nil)
	case f.Code != 0 && isPut:
		c.s3Error(cmp(f.Status, http.StatusInternalServerError), "InternalError", "We encountered an internal error. Please try again.")
	case f.Code != 0:
		msg := f.Message
		if msg == "" {
			msg = codeMessage(f.Code)
		}
		c.envelope(cmp(f.Status, http.StatusOK), f.Code, msg, nil)
	case f.Status != 0 && isPut:
		c.write(f.Status, "", nil)
	case f.Status != 0:
		c.envelope(f.Status, f.Status, codeMessage(f.Status), nil)
	default:
		return false // a stall, a delay or a lost answer only
	}
	return true
}

// bodyType is the Content-Type of a raw answer: HTML if it starts with "<".
func bodyType(body string) string {
	if strings.HasPrefix(strings.TrimSpace(body), "<") {
		return "text/html; charset=utf-8"
	}
	return "application/json; charset=utf-8"
}

// cmp returns v, or def if v is 0.
func cmp(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// drop reads n more bytes of the body, then closes the connection without
// answering (the client sees a reset or EOF).
func (c *call) drop(n int64) {
	if n > 0 {
		_, _ = io.CopyN(io.Discard, c.r.Body, n)
	}
	c.rec.Status, c.rec.Code = 0, -1
	c.log()
	conn, _, err := http.NewResponseController(c.w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // also closes the connection without an answer
	}
	_ = conn.Close()
}

// dropHalf is how much of the body a Drop reads: about half of what is left.
func (c *call) dropHalf() int64 {
	if c.r.ContentLength <= 0 {
		return 32 << 10
	}
	return max((c.r.ContentLength-c.body.n)/2, 1)
}
