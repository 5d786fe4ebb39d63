package pan123_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// flowSlice is the fake's slice size in these tests: small, so that slices
// fit in the socket buffers and a file of a few slices is quick.
const flowSlice = 64 << 10

// TestSlowAnswerIsNotAStall: a platform that answers every send 300 ms after
// its last byte, with a stall timeout of 100 ms, gets each slice (or the
// single-step file) exactly once. Under Auto with Duplicate unset, a replay
// of the single-step upload would be refused as a same-name file.
func TestSlowAnswerIsNotAStall(t *testing.T) {
	t.Parallel()
	const size = 3*flowSlice + 5
	for _, p := range driveProtocols {
		t.Run(protocolName(p), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, pan123test.WithSliceSize(flowSlice))
			op := bytesOp(p, size)
			e.srv.Inject(pan123test.Fault{Op: op, Times: -1, Delay: 300 * time.Millisecond})
			path, data := writeRandom(t, t.TempDir(), size, 11)
			res, err := e.uploader(pan123.WithProtocol(p), pan123.WithStallTimeout(100*time.Millisecond)).
				UploadFile(t.Context(), path, pan123.FileInput{Name: "slow.bin"})
			require.NoError(t, err)
			f, ok := e.srv.File(res.FileID)
			require.True(t, ok)
			assert.True(t, bytes.Equal(data, f.Data))
			want := 4
			if singleStep(p, size) {
				want = 1
			}
			assert.Equal(t, want, e.srv.Count(op), "each slice sent once")
		})
	}
}

// TestCompletionSurvivesInternalError: one code 1 "内部错误" on
// upload_complete (or while polling) does not end the upload nor drop its
// checkpoint: completion asks again and the file is stored with each slice
// sent once. A persistent one ends at the completion deadline with
// ErrCompleteTimeout, keeping the record for a later run.
func TestCompletionSurvivesInternalError(t *testing.T) {
	t.Parallel()
	const size = 3*flowSlice + 5
	cases := []struct {
		name  string
		p     pan123.Protocol
		fake  []pan123test.Option
		fault pan123test.Op
	}{
		{"V1 complete", pan123.V1, nil, pan123test.OpComplete},
		{"V1 async result", pan123.V1, []pan123test.Option{pan123test.WithAsync(1)}, pan123test.OpAsyncResult},
		{"V2 complete", pan123.V2, nil, pan123test.OpV2Complete},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, append([]pan123test.Option{pan123test.WithSliceSize(flowSlice)}, tc.fake...)...)
			cpDir := t.TempDir()
			path, data := writeRandom(t, t.TempDir(), size, 12)
			e.srv.Inject(pan123test.Fault{Op: tc.fault, Code: pan123test.CodeInternal})
			res, err := e.uploader(pan123.WithProtocol(tc.p), pan123.WithCheckpointDir(cpDir)).
				UploadFile(t.Context(), path, pan123.FileInput{Name: "c.bin"})
			require.NoError(t, err)
			f, ok := e.srv.File(res.FileID)
			require.True(t, ok)
			assert.True(t, bytes.Equal(data, f.Data))
			assert.Equal(t, 4, e.srv.Count(bytesOp(tc.p, size)), "each slice sent once")
			assert.Empty(t, checkpoints(t, cpDir))

			// Persistent: the deadline ends it, the record stays.
			path, _ = writeRandom(t, t.TempDir(), size, 13)
			e.srv.Inject(pan123test.Fault{Op: tc.fault, Code: pan123test.CodeInternal, Times: -1})
			_, err = e.uploader(pan123.WithProtocol(tc.p), pan123.WithCheckpointDir(cpDir), pan123.WithCompleteTimeout(50*time.Millisecond)).
				UploadFile(t.Context(), path, pan123.FileInput{Name: "c2.bin"})
			require.ErrorIs(t, err, pan123.ErrCompleteTimeout)
			assert.NotErrorIs(t, err, pan123.ErrCompleteRefused)
			assert.Len(t, checkpoints(t, cpDir), 1, "the session may still finish: its record is kept")
		})
	}
}

// alternating lets the PUTs of slice 1 and of the other slices take turns:
// after a send of slice 1, one of another slice; after that, slice 1 again;
// once slice 1 got through, the others run freely. So each retry of slice 1
// follows a success of another slice.
type alternating struct {
	next         http.RoundTripper
	one, others  chan struct{}
	oneDone      chan struct{}
	mu           sync.Mutex
	first, freed bool
}

func newAlternating(next http.RoundTripper) *alternating {
	return &alternating{next: next, one: make(chan struct{}, 64), others: make(chan struct{}, 64), oneDone: make(chan struct{}), first: true}
}

func (a *alternating) wait(r *http.Request, c chan struct{}) error {
	select {
	case <-c:
		return nil
	case <-a.oneDone:
		return nil
	case <-r.Context().Done():
		return r.Context().Err()
	}
}

func (a *alternating) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPut {
		return a.next.RoundTrip(r)
	}
	isOne := strings.HasSuffix(r.URL.Path, "/1")
	a.mu.Lock()
	first := isOne && a.first
	if isOne {
		a.first = false
	}
	a.mu.Unlock()
	wait := a.others
	if isOne {
		wait = a.one
	}
	if !first {
		if err := a.wait(r, wait); err != nil {
			return nil, err
		}
	}
	resp, err := a.next.RoundTrip(r)
	if isOne && err == nil && resp.StatusCode == http.StatusOK {
		a.mu.Lock()
		if !a.freed {
			a.freed = true
			close(a.oneDone)
		}
		a.mu.Unlock()
	}
	if isOne {
		a.others <- struct{}{}
	} else {
		a.one <- struct{}{}
	}
	return resp, err
}

// flowClient is a client of srv through tr, with fast retries.
func flowClient(t *testing.T, srv *pan123test.Server, tr http.RoundTripper) *pan123.Client {
	t.Helper()
	c, err := pan123.New(srv.ClientID, srv.ClientSecret, pan123.WithBaseURL(srv.URL),
		pan123.WithHTTPClient(&http.Client{Transport: tr}), pan123.WithRetry(3, time.Millisecond, time.Millisecond), pan123.WithoutRateLimits())
	require.NoError(t, err)
	return c
}

// TestSliceRetriesWhileUploadMoves: a slice that fails more often than the
// slice budget keeps being retried while other slices succeed between its
// failures, and the upload finishes. A slice that never succeeds still ends
// the upload, after its budget in a row once the others are done.
func TestSliceRetriesWhileUploadMoves(t *testing.T) {
	t.Parallel()
	const n, attempts = 8, 3
	const size = n*flowSlice - 9
	srv := pan123test.NewServer(pan123test.WithSliceSize(flowSlice))
	t.Cleanup(srv.Close)
	c := flowClient(t, srv, newAlternating(http.DefaultTransport.(*http.Transport).Clone()))
	// Slice 1 fails 5 times: more than its budget of 3 sends.
	srv.Inject(pan123test.Fault{Op: pan123test.OpPut, SliceNo: 1, Times: attempts + 2, Status: 500})
	path, data := writeRandom(t, t.TempDir(), size, 14)
	up := pan123.NewUploader(c, pan123.WithConcurrency(2), pan123.WithSliceRetry(attempts, time.Millisecond, 2*time.Millisecond))
	res, err := up.UploadFile(t.Context(), path, pan123.FileInput{Name: "moves.bin"})
	require.NoError(t, err)
	f, ok := srv.File(res.FileID)
	require.True(t, ok)
	assert.True(t, bytes.Equal(data, f.Data))
	assert.Equal(t, n+attempts+2, srv.Count(pan123test.OpPut))

	// Forever: the upload ends once the failing slice failed its budget in
	// a row after the last success of the others.
	srv.ResetRequests()
	srv.Inject(pan123test.Fault{Op: pan123test.OpPut, SliceNo: 2, Times: -1, Status: 500})
	path, _ = writeRandom(t, t.TempDir(), size, 15)
	_, err = pan123.NewUploader(flowClient(t, srv, http.DefaultTransport.(*http.Transport).Clone()), pan123.WithConcurrency(2),
		pan123.WithSliceRetry(attempts, time.Millisecond, 2*time.Millisecond)).UploadFile(t.Context(), path, pan123.FileInput{Name: "never.bin"})
	var ue *pan123.UploadError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, 2, ue.SliceNo)
	sends, after := failedStreak(srv.Requests(), pan123test.OpPut, 2)
	assert.GreaterOrEqual(t, sends, attempts)
	assert.LessOrEqual(t, after, 2*attempts)
}

// failedStreak counts the sends of one slice (op, sliceNo; 0 = any) that the
// fake logged, and those logged after the last successful send of any slice.
// An upload that failed on a slice with the retry budget attempts has sent
// it at least attempts times, and about that many after the last success:
// the fake logs a send before the client sees its answer, so sends around
// the last success may fall on either side of it (a loose bound of twice
// the budget is checked).
func failedStreak(reqs []pan123test.Request, op pan123test.Op, sliceNo int) (total, afterSuccess int) {
	for _, q := range reqs {
		if q.Op != op {
			continue
		}
		if q.Status/100 == 2 && q.Code <= 0 {
			afterSuccess = 0
			continue
		}
		if sliceNo == 0 || q.SliceNo == sliceNo {
			total++
			afterSuccess++
		}
	}
	return total, afterSuccess
}

// TestFaultMixFailureRate measures how often uploads fail when every slice
// send fails with probability p (a 500, a 503 or a dropped connection, at
// random): per slice, the number of failed sends before its success is
// drawn from the geometric law and injected in the fake. It runs only when
// PAN123_FAULT_RUNS is set (the number of uploads; PAN123_FAULT_P, default
// 0.3), and logs the failure rate: it is a measurement, not a check.
//
//	PAN123_FAULT_RUNS=300 go test -run TestFaultMixFailureRate -v .
func TestFaultMixFailureRate(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("PAN123_FAULT_RUNS"))
	if runs <= 0 {
		t.Skip("a measurement: set PAN123_FAULT_RUNS")
	}
	p := 0.3
	if v, err := strconv.ParseFloat(os.Getenv("PAN123_FAULT_P"), 64); err == nil {
		p = v
	}
	const n, slice = 40, 16 << 10
	rng := rand.New(rand.NewPCG(1, 2))
	failed, sends := 0, 0
	for i := range runs {
		proto := []pan123.Protocol{pan123.V1, pan123.V2}[i%2]
		e := newEnv(t, pan123test.WithSliceSize(slice))
		op := bytesOp(proto, n*slice)
		for s := 1; s <= n; s++ {
			for rng.Float64() < p {
				f := pan123test.Fault{Op: op, SliceNo: s}
				switch rng.IntN(3) {
				case 0:
					f.Status = 500
				case 1:
					f.Status = 503
				default:
					f.Drop = true
				}
				e.srv.Inject(f)
			}
		}
		path, _ := writeRandom(t, t.TempDir(), n*slice, uint64(i))
		_, err := e.uploader(pan123.WithProtocol(proto), pan123.WithSliceRetry(pan123.DefaultSliceAttempts, time.Millisecond, 2*time.Millisecond)).
			UploadFile(t.Context(), path, pan123.FileInput{Name: "mix.bin"})
		if err != nil {
			failed++
			t.Logf("run %d (%s): %v", i, protocolName(proto), err)
		}
		sends += e.srv.Count(op)
		e.srv.Close()
	}
	t.Logf("fault mix p=%.2f, %d slices, concurrency %d, slice budget %d: %d of %d uploads failed (%.1f%%), %.1f sends per slice",
		p, n, pan123.DefaultConcurrency, pan123.DefaultSliceAttempts, failed, runs, 100*float64(failed)/float64(runs), float64(sends)/float64(runs*n))
}

// TestLocalReadErrorIsNotHeldByTheToken: a read error while hashing is
// returned at once, not after the access-token fetch started meanwhile
// (here one the fake never answers).
func TestLocalReadErrorIsNotHeldByTheToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpAccessToken, Stall: time.Hour})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second) // hang guard
	defer cancel()
	_, err := e.uploader().Upload(ctx, &failingReaderAt{size: 1000}, pan123.FileInput{Name: "x.bin"})
	require.ErrorIs(t, err, errMustNotRead)
	assert.NoError(t, ctx.Err(), "returned before the hang guard, without waiting for the token")
}

// TestUploadFromPipe: an *os.File that cannot seek (a pipe, as in
// `tar c dir | prog`) is spooled like any stream.
func TestUploadFromPipe(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pan123test.WithSliceSize(flowSlice))
	_, data := writeRandom(t, t.TempDir(), 3*flowSlice+1, 16)
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	defer pr.Close()
	go func() {
		_, _ = pw.Write(data)
		pw.Close()
	}()
	res, err := e.uploader().Upload(t.Context(), pr, pan123.FileInput{Name: "piped.tar"})
	require.NoError(t, err)
	f, ok := e.srv.File(res.FileID)
	require.True(t, ok)
	assert.True(t, bytes.Equal(data, f.Data))
}

// deadTransport fails every request once dead is set.
type deadTransport struct {
	next http.RoundTripper
	dead atomic.Bool
}

func (d *deadTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if d.dead.Load() {
		return nil, errors.New("this client is gone")
	}
	return d.next.RoundTrip(r)
}

// TestResumeUsesReceiversClient: ResumeFile sends through the Client of the
// Uploader it is called on, not the one of the failed upload. A failed
// upload of a stream cannot be resumed and does not say "(resumable)".
func TestResumeUsesReceiversClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pan123test.WithSliceSize(flowSlice))
	tr := &deadTransport{next: http.DefaultTransport.(*http.Transport).Clone()}
	old, err := pan123.New(e.srv.ClientID, e.srv.ClientSecret, pan123.WithBaseURL(e.srv.URL),
		pan123.WithHTTPClient(&http.Client{Transport: tr}), pan123.WithRetry(2, time.Millisecond, time.Millisecond), pan123.WithoutRateLimits())
	require.NoError(t, err)
	path, data := writeRandom(t, t.TempDir(), 4*flowSlice, 17)
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpPut, SliceNo: 3, Times: -1, Status: 500})
	failing := pan123.NewUploader(old, pan123.WithConcurrency(1), pan123.WithSliceRetry(1, time.Millisecond, time.Millisecond))
	_, err = failing.UploadFile(t.Context(), path, pan123.FileInput{Name: "r.bin"})
	var ue *pan123.UploadError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, ue.Error(), "(resumable)")

	_, err = failing.Upload(t.Context(), bytes.NewBuffer(data), pan123.FileInput{Name: "s.bin"})
	var se *pan123.UploadError
	require.ErrorAs(t, err, &se)
	assert.NotEmpty(t, se.PreuploadID)
	assert.NotContains(t, se.Error(), "(resumable)", "a stream cannot be resumed")
	_, err = e.uploader().ResumeFile(t.Context(), se)
	assert.ErrorIs(t, err, pan123.ErrInvalidInput)

	e.srv.ClearFaults()
	tr.dead.Store(true)
	res, err := e.uploader().ResumeFile(t.Context(), ue)
	require.NoError(t, err)
	f, ok := e.srv.File(res.FileID)
	require.True(t, ok)
	assert.True(t, bytes.Equal(data, f.Data))
}

// tlsStandIn records where requests go and serves https:// requests over
// plain http (the fake has no TLS): a bare host the platform named is sent
// to as https.
type tlsStandIn struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string // scheme://host of every request with an Authorization header
}

func (s *tlsStandIn) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") != "" {
		s.mu.Lock()
		s.seen = append(s.seen, r.URL.Scheme+"://"+r.URL.Host)
		s.mu.Unlock()
	}
	if r.URL.Scheme == "https" {
		r = r.Clone(r.Context())
		r.URL.Scheme = "http"
	}
	return s.next.RoundTrip(r)
}

// TestUploadHostsFromThePlatform: entries of the upload-server list (V2
// create.servers, domain) that are not usable are skipped, a bare host is
// taken as https, and the token goes only to hosts the platform named.
func TestUploadHostsFromThePlatform(t *testing.T) {
	t.Parallel()
	const size = 2*flowSlice + 3
	for _, p := range []pan123.Protocol{pan123.V2, pan123.Auto} {
		t.Run(protocolName(p), func(t *testing.T) {
			t.Parallel()
			srv := pan123test.NewServer(pan123test.WithSliceSize(flowSlice), pan123test.WithAnsweredServers(func(urls []string) []string {
				bare := strings.TrimPrefix(urls[0], "http://")
				return []string{"ftp://bad.example", "http://", " ", bare}
			}))
			t.Cleanup(srv.Close)
			tr := &tlsStandIn{next: http.DefaultTransport.(*http.Transport).Clone()}
			c, err := pan123.New(srv.ClientID, srv.ClientSecret, pan123.WithBaseURL(srv.URL),
				pan123.WithHTTPClient(&http.Client{Transport: tr}), pan123.WithoutRateLimits())
			require.NoError(t, err)
			path, data := writeRandom(t, t.TempDir(), size, 18)
			res, err := pan123.NewUploader(c, pan123.WithProtocol(p)).UploadFile(t.Context(), path, pan123.FileInput{Name: "h.bin"})
			require.NoError(t, err)
			f, ok := srv.File(res.FileID)
			require.True(t, ok)
			assert.True(t, bytes.Equal(data, f.Data))
			want := map[string]bool{srv.URL: true, "https://" + strings.TrimPrefix(srv.UploadServers()[0], "http://"): true}
			tr.mu.Lock()
			defer tr.mu.Unlock()
			for _, h := range tr.seen {
				assert.True(t, want[h], "token sent to %s", h)
			}
		})
	}
}

// TestCheckpointThatCannotContinue: a record whose session cannot be
// continued (list_upload_parts answers a page without the envelope, or data
// that cannot be read; the record was written by another protocol) is
// dropped with EventRestart, and the upload starts over and finishes.
func TestCheckpointThatCannotContinue(t *testing.T) {
	t.Parallel()
	list := pan123test.OpListUploadParts
	cases := []struct {
		name  string
		v2    bool // the interrupted run was V2
		fault *pan123test.Fault
		why   string
	}{
		{name: "list 404 page", fault: &pan123test.Fault{Op: list, Times: -1, Status: 404, Body: "<html>404 Not Found</html>"}, why: "404"},
		{name: "list 400 without envelope", fault: &pan123test.Fault{Op: list, Times: -1, Status: 400, Body: "bad request"}, why: "400"},
		{name: "list data unreadable", fault: &pan123test.Fault{Op: list, Times: -1, Body: `{"code":0,"message":"ok","data":{"parts":"none"}}`}, why: "unexpected platform answer"},
		{name: "V2 record, V1 run", v2: true, why: "protocol"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			logs := e.logs
			cpDir := t.TempDir()
			path, data := writeRandom(t, t.TempDir(), 4*rSlice, 19)
			if tc.v2 {
				e.srv.Inject(pan123test.Fault{Op: pan123test.OpV2Slice, SliceNo: 3, Times: -1, Status: 500})
				_, err := e.uploader(pan123.WithCheckpointDir(cpDir), pan123.WithProtocol(pan123.V2), pan123.WithConcurrency(1),
					pan123.WithSliceRetry(1, time.Millisecond, time.Millisecond)).UploadFile(t.Context(), path, pan123.FileInput{Name: "k.bin"})
				require.Error(t, err)
				e.srv.ClearFaults()
			} else {
				interruptCheckpointed(t, e, cpDir, path, "k.bin")
			}
			require.Len(t, checkpoints(t, cpDir), 1)
			if tc.fault != nil {
				e.srv.Inject(*tc.fault)
			}
			uploadExpectingRestart(t, e, logs, cpDir, path, "k.bin", data, tc.why, nil)
			assert.Empty(t, checkpoints(t, cpDir))
		})
	}
}

// TestSingleStepAmbiguousFailure: a single-step upload whose answer is lost
// after the platform stored the file is found in the folder and adopted
// (one copy, one send); one that failed before storing anything (a 502
// page) is sent again, also under KeepBoth.
func TestSingleStepAmbiguousFailure(t *testing.T) {
	t.Parallel()
	const size = 2*flowSlice + 1
	single := pan123test.OpV2Single
	cases := []struct {
		name  string
		dup   pan123.Duplicate
		fault pan123test.Fault
		sends int
	}{
		{"answer lost, KeepBoth", pan123.KeepBoth, pan123test.Fault{Op: single, Lose: true}, 1},
		{"answer lost, no policy", pan123.DuplicateUnset, pan123test.Fault{Op: single, Lose: true}, 1},
		{"no answer in time, no policy", pan123.DuplicateUnset, pan123test.Fault{Op: single, Delay: time.Hour}, 1},
		{"502 page, KeepBoth", pan123.KeepBoth, pan123test.Fault{Op: single, Status: 502, Body: htmlError(502)}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, pan123test.WithSliceSize(flowSlice))
			// Already in the folder: another file, and the same content under another name.
			other, _ := writeRandom(t, t.TempDir(), size, 20)
			_, err := e.uploader().UploadFile(t.Context(), other, pan123.FileInput{Name: "other.bin"})
			require.NoError(t, err)
			path, data := writeRandom(t, t.TempDir(), size, 21)
			_, err = e.uploader().UploadFile(t.Context(), path, pan123.FileInput{Name: "elsewhere.bin"})
			require.NoError(t, err)

			e.srv.ResetRequests()
			e.srv.Inject(tc.fault)
			res, err := e.uploader(pan123.WithProtocol(pan123.Auto), pan123.WithResponseTimeout(200*time.Millisecond)).
				UploadFile(t.Context(), path, pan123.FileInput{Name: "a.bin", Duplicate: tc.dup})
			require.NoError(t, err)
			f, ok := e.srv.File(res.FileID)
			require.True(t, ok)
			assert.Equal(t, "a.bin", f.Name)
			assert.True(t, bytes.Equal(data, f.Data))
			if tc.fault.Delay > 0 {
				// The fake logs a request its client left once it notices.
				assert.LessOrEqual(t, e.srv.Count(single), tc.sends)
			} else {
				assert.Equal(t, tc.sends, e.srv.Count(single))
			}
			l, err := e.c.Drive.List(t.Context(), 0, 0, pan123.MaxListLimit)
			require.NoError(t, err)
			assert.Len(t, l.Files, 3, "no second copy")
		})
	}
}

// TestCreateAmbiguousFailureKeepBoth: under KeepBoth, create is not
// replayed blindly (an instant upload would add a second copy). When its
// answer is lost after an instant upload, the file is found in the folder
// and returned as reused; when it failed without acting (a 502 page), create
// is called again.
func TestCreateAmbiguousFailureKeepBoth(t *testing.T) {
	t.Parallel()
	const size = 2*flowSlice + 1
	for _, p := range []pan123.Protocol{pan123.V1, pan123.V2} {
		create := map[pan123.Protocol]pan123test.Op{pan123.V1: pan123test.OpCreate, pan123.V2: pan123test.OpV2Create}[p]
		t.Run(protocolName(p), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, pan123test.WithSliceSize(flowSlice))
			up := e.uploader(pan123.WithProtocol(p))
			path, data := writeRandom(t, t.TempDir(), size, 22)
			_, err := up.UploadFile(t.Context(), path, pan123.FileInput{Name: "elsewhere.bin"})
			require.NoError(t, err)

			// Instant upload, answer lost.
			e.srv.ResetRequests()
			e.srv.Inject(pan123test.Fault{Op: create, Lose: true})
			res, err := up.UploadFile(t.Context(), path, pan123.FileInput{Name: "a.bin", Duplicate: pan123.KeepBoth})
			require.NoError(t, err)
			assert.True(t, res.Reused)
			f, ok := e.srv.File(res.FileID)
			require.True(t, ok)
			assert.Equal(t, "a.bin", f.Name)
			assert.True(t, bytes.Equal(data, f.Data))
			assert.Equal(t, 1, e.srv.Count(create), "not created twice")
			l, err := e.c.Drive.List(t.Context(), 0, 0, pan123.MaxListLimit)
			require.NoError(t, err)
			assert.Len(t, l.Files, 2, "no second copy")

			// Not acted on: create again.
			e.srv.ResetRequests()
			e.srv.Inject(pan123test.Fault{Op: create, Status: 502, Body: htmlError(502)})
			path, data = writeRandom(t, t.TempDir(), size, 23)
			res, err = up.UploadFile(t.Context(), path, pan123.FileInput{Name: "b.bin", Duplicate: pan123.KeepBoth})
			require.NoError(t, err)
			f, ok = e.srv.File(res.FileID)
			require.True(t, ok)
			assert.True(t, bytes.Equal(data, f.Data))
			assert.Equal(t, 2, e.srv.Count(create))
		})
	}
}
