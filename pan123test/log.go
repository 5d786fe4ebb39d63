package pan123test

import (
	"net/http"
	"slices"
	"time"
)

// Request is one request as the fake saw it. Every request is recorded,
// including rejected, faulted and dropped ones, just before its answer is
// sent (or its connection closed): a client that got an answer finds its
// request in the log.
type Request struct {
	Op      Op          // the endpoint; for an unknown path, the path itself
	Method  string      // HTTP method
	Path    string      // URL path without query
	SliceNo int         // for slice requests and get_upload_url (0 if unknown)
	Server  int         // V2 upload server index (1-based), 0 for the API host
	Status  int         // HTTP status answered (0 when dropped or abandoned)
	Code    int         // envelope code answered (0 = ok; -1 when there was no envelope)
	Bytes   int64       // request body bytes read
	Header  http.Header // copy of the request headers
	Body    []byte      // the JSON body for API calls (nil for slice bodies)
	Time    time.Time   // when the request arrived, by the WithClock clock
}

func (s *Server) record(c *call) {
	c.rec.Bytes = c.body.n
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, c.rec)
}

// Requests returns the requests recorded so far, in the order they were
// answered.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.log)
	for i := range out {
		out[i].Header = out[i].Header.Clone()
		out[i].Body = slices.Clone(out[i].Body)
	}
	return out
}

// Count returns how many requests of op have been recorded.
func (s *Server) Count(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.log {
		if r.Op == op {
			n++
		}
	}
	return n
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

// InFlight returns how many requests the fake is handling right now,
// stalled and delayed ones included: a test can wait for a request to have
// arrived before it acts (cancels the caller, say). A request leaves the
// count once it is answered, dropped or abandoned.
func (s *Server) InFlight() int { return int(s.active.Load()) }
