package pan123_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// The fault matrix: every fault of the fake alone, and all of them at once,
// against uploads of several sizes in the three upload flows (drive V1,
// image bed, drive V2) at concurrency 1, 4 and 16 (every size and every
// concurrency for each fault, every pair of them for all faults at once). Every run must store the
// exact bytes, within a bounded number of extra requests, leaving no
// goroutine and no temp file behind.

// rigSlice is the slice size of the fake in the matrix tests: small, so
// that a few hundred KiB make several slices (under -race, the bytes sent
// are most of the matrix's time).
const rigSlice = 64 << 10

// flow is one upload flow of the SDK and the ops the fake logs for it.
type flow struct {
	name  string
	image bool // image bed (V1 only)
	v2    bool // drive over V2: slices are multipart POSTs to an upload server
	// ops of this flow; getURL is "" for V2 (no presigned URLs), async is
	// upload_complete again for V2 (no separate endpoint).
	create, getURL, slice, complete, async pan123test.Op
}

var flows = []flow{
	{name: "drive-v1", create: pan123test.OpCreate, getURL: pan123test.OpGetUploadURL, slice: pan123test.OpPut,
		complete: pan123test.OpComplete, async: pan123test.OpAsyncResult},
	{name: "image", image: true, create: pan123test.OpOSSCreate, getURL: pan123test.OpOSSGetUploadURL, slice: pan123test.OpPut,
		complete: pan123test.OpOSSComplete, async: pan123test.OpOSSAsyncResult},
	{name: "drive-v2", v2: true, create: pan123test.OpV2Create, slice: pan123test.OpV2Slice,
		complete: pan123test.OpV2Complete, async: pan123test.OpV2Complete},
}

// perSlice is how many requests one failed slice attempt costs: a fresh
// URL and the PUT in V1, the POST alone in V2.
func (f flow) perSlice() int {
	if f.v2 {
		return 1
	}
	return 2
}

// clean is how many requests a fault-free upload of n slices makes.
func (f flow) clean(n int) int {
	return 1 /* token */ + 1 /* create */ + f.perSlice()*n + 1 /* complete */
}

// source is how the bytes reach the Uploader.
type source int

const (
	fromFile   source = iota // UploadFile / UploadImageFile
	fromStream               // a plain io.Reader: spooled to WithTempDir
	fromSeeker               // a *bytes.Reader: read in place
)

func (s source) String() string { return [...]string{"file", "stream", "seeker"}[s] }

// upload sends data (also at path) through f as name and returns what the
// fake stored.
func (f flow) upload(ctx context.Context, r *rig, up *pan123.Uploader, src source, name, path string, data []byte, opts ...pan123.UploadOption) ([]byte, error) {
	if f.v2 {
		opts = append(opts, pan123.WithProtocol(pan123.V2))
	}
	var rd io.Reader = bytes.NewReader(data)
	if src == fromStream {
		rd = io.MultiReader(bytes.NewReader(data)) // hides ReadAt and Seek
	}
	if f.image {
		var res *pan123.ImageResult
		var err error
		if src == fromFile {
			res, err = up.UploadImageFile(ctx, path, pan123.ImageInput{Name: name}, opts...)
		} else {
			res, err = up.UploadImage(ctx, rd, pan123.ImageInput{Name: name}, opts...)
		}
		if err != nil {
			return nil, err
		}
		img, ok := r.srv.Image(res.FileID)
		if !ok {
			return nil, fmt.Errorf("image %q not on the fake", res.FileID)
		}
		return img.Data, nil
	}
	var res *pan123.FileResult
	var err error
	if src == fromFile {
		res, err = up.UploadFile(ctx, path, pan123.FileInput{Name: name}, opts...)
	} else {
		res, err = up.Upload(ctx, rd, pan123.FileInput{Name: name}, opts...)
	}
	if err != nil {
		return nil, err
	}
	file, ok := r.srv.File(res.FileID)
	if !ok {
		return nil, fmt.Errorf("file %d not on the fake", res.FileID)
	}
	return file.Data, nil
}

// rigContent caches random contents by size and seed: generating bytes
// one at a time under the race detector costs more than uploading them.
var rigContent sync.Map // [2]uint64{size, seed} -> []byte

// rigFile writes size random bytes (fixed by seed) to a new file and
// returns its path and content; the content is shared: do not modify it.
func rigFile(t *testing.T, size int64, seed uint64) (string, []byte) {
	t.Helper()
	key := [2]uint64{uint64(size), seed}
	v, ok := rigContent.Load(key)
	if !ok {
		var s [32]byte
		binary.LittleEndian.PutUint64(s[:], seed)
		binary.LittleEndian.PutUint64(s[8:], uint64(size))
		data := make([]byte, size)
		_, _ = rand.NewChaCha8(s).Read(data)
		v, _ = rigContent.LoadOrStore(key, data)
	}
	data := v.([]byte)
	path := filepath.Join(t.TempDir(), fmt.Sprintf("src-%d-%d.bin", size, seed))
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path, data
}

// bytesLost counts the bytes of want that got is missing or has wrong.
func bytesLost(want, got []byte) int {
	if bytes.Equal(want, got) {
		return 0
	}
	lost := max(len(want)-len(got), 0)
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			lost++
		}
	}
	return lost
}

// failedRequests counts requests the fake failed: an error status or
// code, a raw (non-envelope) body on an API call, or a connection dropped
// without an answer. Stalled requests whose client went away are logged
// only when the fake closes, so they are counted by the client-side total
// instead.
func failedRequests(reqs []pan123test.Request) int {
	n := 0
	for _, q := range reqs {
		rawBody := q.Code < 0 && q.Op != pan123test.OpPut
		if q.Status == 0 || q.Status/100 != 2 || q.Code > 0 || rawBody {
			n++
		}
	}
	return n
}

// scenario is one row of the matrix: faults to inject and hooks that
// inject faults mid-upload.
type scenario struct {
	name    string
	v1Only  bool // needs presigned URLs
	faults  func(f flow) []pan123test.Fault
	srvOpts []pan123test.Option
	upOpts  []pan123.UploadOption
	// hook wires mid-upload faults into the run (n slices); it may return
	// upload options (a progress callback).
	hook func(r *rig, n int) []pan123.UploadOption
	// extra bounds the requests above a clean upload; tokens, if set, is
	// the exact number of access tokens the fake must have issued (every
	// row is held to the mint budget, matrixTokenBudget, anyway).
	extra  func(f flow, n, conc int) int
	tokens int
	// stalls: its runs wait out a stalled answer (a second each).
	stalls bool
}

// waits ranks a row by how long its runs wait: all faults at once (27
// runs that each wait out a stall), then the stall row, then the others.
func (s scenario) waits() int {
	switch {
	case s.name == allTogetherName:
		return 2
	case s.stalls:
		return 1
	}
	return 0
}

// matrixTokenBudget is what a Client may mint within one cool-down: the
// first token and one forced refresh, whatever fails.
const matrixTokenBudget = 2

const gatewayPage = "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"

// expireTokensOnFirstSlice expires every token when the first slice is accepted.
func expireTokensOnFirstSlice(r *rig, _ int) []pan123.UploadOption {
	var once sync.Once
	return []pan123.UploadOption{pan123.WithProgress(func(p pan123.Progress) {
		if p.Event == pan123.EventSliceDone {
			once.Do(r.srv.ExpireTokens)
		}
	})}
}

func scenarios() []scenario {
	perSlice := func(times int) func(f flow, n, conc int) int {
		return func(f flow, _, _ int) int { return times * f.perSlice() }
	}
	fixed := func(k int) func(flow, int, int) int { return func(flow, int, int) int { return k } }
	putStatus := func(status, times int) func(f flow) []pan123test.Fault {
		return func(f flow) []pan123test.Fault {
			return []pan123test.Fault{{Op: f.slice, Times: times, Status: status}}
		}
	}
	tokenExtra := func(_ flow, _, conc int) int { return conc + 1 } // each worker's 401 replayed once, one new token
	list := []scenario{
		{name: "none", faults: func(flow) []pan123test.Fault { return nil }, extra: fixed(0), tokens: 1},
		{name: "slice 500 x2", faults: putStatus(500, 2), extra: perSlice(2)},
		{name: "slice 502", faults: putStatus(502, 1), extra: perSlice(1)},
		{name: "slice 503", faults: putStatus(503, 1), extra: perSlice(1)},
		{name: "slice reset mid-body x2", faults: func(f flow) []pan123test.Fault {
			return []pan123test.Fault{{Op: f.slice, Times: 2, Drop: true}}
		}, extra: perSlice(2)},
		{name: "put 403 (fault)", v1Only: true, faults: putStatus(403, 1), extra: perSlice(1)},
		{name: "put 403 (ExpireURLs mid-upload)", v1Only: true, faults: func(flow) []pan123test.Fault { return nil },
			hook: func(r *rig, n int) []pan123.UploadOption {
				mid := int64(n+1) / 2
				r.tr.beforePut = func(k int64) {
					if k == mid {
						r.srv.ExpireURLs() // this PUT's URL, and any other fetched but unused, now answer 403
					}
				}
				return nil
			},
			// Every URL fetched but not yet used is expired: at most two per
			// worker (the one its PUT uses and the one fetched ahead), each
			// costing a 403 and a fresh URL.
			extra: func(f flow, _, conc int) int { return 2 * conc * f.perSlice() }},
		{name: "slow slice (stall)", faults: func(f flow) []pan123test.Fault {
			return []pan123test.Fault{{Op: f.slice, Stall: 2 * time.Second}}
		}, upOpts: []pan123.UploadOption{pan123.WithStallTimeout(300 * time.Millisecond), pan123.WithResponseTimeout(time.Second)}, stalls: true,
			// The stall (a slice in the socket buffers waits for its answer,
			// hence the short response timeout), and room for one spurious
			// cut per slice: on a starved CI machine a slice can sit 300 ms
			// without a byte moving.
			extra: func(f flow, n, _ int) int { return (1 + n) * f.perSlice() }},
		{name: "body 429 on API calls", faults: func(f flow) []pan123test.Fault {
			fs := []pan123test.Fault{
				{Op: f.create, Code: 429, Header: http.Header{"Retry-After": {"1"}}}, // capped by the retry cap
				{Op: f.complete, Code: 429},
			}
			if f.getURL != "" {
				return append(fs, pan123test.Fault{Op: f.getURL, Times: 2, Code: 429})
			}
			return append(fs, pan123test.Fault{Op: f.slice, Times: 2, Code: 429})
		}, extra: fixed(4)},
		{name: "token expiry mid-upload", faults: func(flow) []pan123test.Fault { return nil },
			hook: expireTokensOnFirstSlice, extra: tokenExtra, tokens: 2},
		{name: "token expiry, refresh 502 once", faults: func(flow) []pan123test.Fault {
			return []pan123test.Fault{{Op: pan123test.OpAccessToken, After: 1, Status: 502}}
		}, hook: expireTokensOnFirstSlice, extra: func(f flow, n, conc int) int { return tokenExtra(f, n, conc) + 1 }, tokens: 2},
		{name: "token expiry, refresh 429 once", faults: func(flow) []pan123test.Fault {
			return []pan123test.Fault{{Op: pan123test.OpAccessToken, After: 1, Code: 429}}
		}, hook: expireTokensOnFirstSlice, extra: func(f flow, n, conc int) int { return tokenExtra(f, n, conc) + 1 }, tokens: 2},
		{name: "20103 on complete x3", faults: func(f flow) []pan123test.Fault {
			return []pan123test.Fault{{Op: f.complete, Times: 3, Code: 20103}}
		}, extra: fixed(3)},
		{name: "async completion, 20103 x2 while polling", srvOpts: []pan123test.Option{pan123test.WithAsync(2)},
			faults: func(f flow) []pan123test.Fault {
				return []pan123test.Fault{{Op: f.async, Times: 2, Code: 20103}}
			},
			// V1: complete answers async, then 2×20103, 2×not yet, done; V2 has no async call
			extra: func(f flow, _, _ int) int { return map[bool]int{false: 5, true: 4}[f.v2] }},
		{name: "gateway html 502 on API calls", faults: func(f flow) []pan123test.Fault {
			return []pan123test.Fault{{Op: f.create, Status: 502, Body: gatewayPage}, {Op: f.complete, Status: 502, Body: gatewayPage}}
		}, extra: fixed(2)},
		{name: "truncated json", faults: func(f flow) []pan123test.Fault {
			fs := []pan123test.Fault{{Op: f.complete, Body: `{"code":0,"message":"ok","data":{"completed":tr`}}
			if f.getURL != "" {
				return append(fs, pan123test.Fault{Op: f.getURL, Body: `{"code":0,"message":"ok","data":{"presign`})
			}
			return append(fs, pan123test.Fault{Op: f.slice, Body: `{"code":0,"message":"o`})
		}, extra: fixed(2)},
	}
	return append(list, allTogether(list))
}

const allTogetherName = "ALL TOGETHER"

// allTogether combines every scenario but "none" into one. A 1-byte file
// has one slice, which then takes every slice fault: the slice budget is
// raised to 16 sends so that the combination can succeed at all.
func allTogether(list []scenario) scenario {
	parts := slices.DeleteFunc(slices.Clone(list), func(s scenario) bool { return s.name == "none" })
	all := scenario{
		name:   allTogetherName,
		upOpts: []pan123.UploadOption{pan123.WithSliceRetry(16, time.Millisecond, 5*time.Millisecond)},
		tokens: 2,
	}
	for _, s := range parts {
		all.srvOpts = append(all.srvOpts, s.srvOpts...)
		all.upOpts = append(all.upOpts, s.upOpts...)
	}
	all.faults = func(f flow) []pan123test.Fault {
		var fs []pan123test.Fault
		for _, s := range parts {
			if !s.v1Only || !f.v2 {
				fs = append(fs, s.faults(f)...)
			}
		}
		return fs
	}
	all.hook = func(r *rig, n int) []pan123.UploadOption {
		var opts []pan123.UploadOption
		seen := map[string]bool{}
		for _, s := range parts {
			// one token expiry for the three token rows
			if s.hook != nil && (s.tokens == 0 || !seen["token"]) {
				if s.tokens != 0 {
					seen["token"] = true
				}
				opts = append(opts, s.hook(r, n)...)
			}
		}
		return opts
	}
	all.extra = func(f flow, n, conc int) int {
		sum := 0
		for _, s := range parts {
			if !s.v1Only || !f.v2 {
				sum += s.extra(f, n, conc)
			}
		}
		return sum
	}
	return all
}

// matrixWorkers is how many matrix runs are in flight at once. Runs spend
// most of their time waiting (backoffs, polls, stalls, loopback round
// trips), so more of them than cores keeps the matrix short; t.Parallel
// would cap them at -parallel (GOMAXPROCS, 2 in CI). 32 lets the 36 runs
// that wait out a stall (a second each) wait at about the same time; the
// requests above a clean upload stay what they are with 8.
const matrixWorkers = 32

// subtest is a named subtest for a pool.
type subtest struct {
	name string
	fn   func(t *testing.T)
}

// pool runs subtests, of one parent or of several, on a fixed number of
// workers in the order they are queued. t.Run may be called from several
// goroutines; each subtest runs in its own goroutine, so require and
// t.FailNow work in it as usual.
type pool struct {
	jobs    chan poolJob
	workers sync.WaitGroup
}

type poolJob struct {
	t    *testing.T
	c    subtest
	done func()
}

func newPool(workers int) *pool {
	p := &pool{jobs: make(chan poolJob)}
	for range workers {
		p.workers.Go(func() {
			for j := range p.jobs {
				j.t.Run(j.c.name, j.c.fn)
				j.done()
			}
		})
	}
	return p
}

// run runs cases as subtests of t and returns when they have; queued is
// called once every case has been taken by a worker.
func (p *pool) run(t *testing.T, cases []subtest, queued func()) {
	t.Helper()
	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Add(1)
		p.jobs <- poolJob{t, c, wg.Done}
	}
	queued()
	wg.Wait()
}

// close ends the workers once the queued subtests are done.
func (p *pool) close() {
	close(p.jobs)
	p.workers.Wait()
}

// matrixRow sums the runs of one scenario for the summary table.
type matrixRow struct {
	uploads, lost, leakedFiles int
	extra, maxExtra, failed    int
	slowest                    time.Duration
}

func TestFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("fault matrix: skipped in -short mode")
	}
	baseline := goleak.IgnoreCurrent()
	sizes := []int64{1, 3*rigSlice + 7, 5*rigSlice + 123} // 1, 4 and 6 slices: fewer and more than 4 workers
	concs := []int{1, 4, 16}
	list := scenarios()
	var mu sync.Mutex
	rows := map[string]*matrixRow{}
	start := time.Now()
	// All rows share one pool of workers, the rows whose runs wait out a
	// stall (a second each) queued first, so that the runs that only
	// compute fill the time those wait.
	order := make([]int, len(list))
	for k := range order {
		order[k] = k
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(list[b].waits(), list[a].waits()) })
	p := newPool(matrixWorkers)
	var running sync.WaitGroup
	for _, k := range order {
		sc := list[k]
		row := &matrixRow{}
		rows[sc.name] = row
		full := sc.name == "none" || sc.name == allTogetherName
		queued := make(chan struct{})
		running.Go(func() {
			var once sync.Once
			signal := func() { once.Do(func() { close(queued) }) }
			defer signal()
			t.Run(sc.name, func(t *testing.T) {
				var cases []subtest
				for fi, f := range flows {
					if sc.v1Only && f.v2 {
						continue
					}
					for si, size := range sizes {
						for ci, conc := range concs {
							// A single fault meets every size and every
							// concurrency in every flow, but only three of
							// the nine pairs (a Latin square, turned by one
							// from row to row, so that every three rows
							// cover all nine); the clean row and all faults
							// at once get every pair.
							if !full && (si+k+fi)%len(concs) != ci {
								continue
							}
							src := source(ci) // conc 1: file, 4: stream, 16: seeker
							name := fmt.Sprintf("%s/size=%d/conc=%d/%s", f.name, size, conc, src)
							cases = append(cases, subtest{name, func(t *testing.T) {
								res := runMatrixCase(t, sc, f, size, conc, src, uint64(si*10+ci+1))
								mu.Lock()
								defer mu.Unlock()
								row.uploads++
								row.lost += res.lost
								row.leakedFiles += res.leftovers
								row.extra += res.extra
								row.maxExtra = max(row.maxExtra, res.extra)
								row.failed += res.failed
								row.slowest = max(row.slowest, res.took)
							}})
						}
					}
				}
				p.run(t, cases, signal)
			})
		})
		<-queued // the next row's runs queue behind this one's
	}
	running.Wait()
	p.close()
	// Every run has returned and closed its fake and its connections:
	// nothing of theirs may still run.
	leakedGoroutines := 0
	if err := goleak.Find(baseline); err != nil {
		leakedGoroutines = max(strings.Count(err.Error(), "Goroutine "), 1)
		t.Errorf("leaked goroutines: %v", err)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "fault matrix: %d scenarios in %v\n", len(list), time.Since(start).Round(time.Millisecond))
	// extra req: requests above clean uploads (retries, refreshes, polls);
	// failed: answers the fake failed (stalls cut by the client not counted);
	// leaks: temp files left (goroutines left by any row: the total).
	fmt.Fprintf(&b, "%-42s %7s %10s %6s %9s %11s %7s %8s\n", "fault", "uploads", "bytes lost", "leaks", "extra req", "max per run", "failed", "slowest")
	total := matrixRow{leakedFiles: leakedGoroutines}
	for _, sc := range list {
		r := rows[sc.name]
		fmt.Fprintf(&b, "%-42s %7d %10d %6d %9d %11d %7d %8v\n", sc.name, r.uploads, r.lost, r.leakedFiles,
			r.extra, r.maxExtra, r.failed, r.slowest.Round(time.Millisecond))
		total.uploads += r.uploads
		total.lost += r.lost
		total.leakedFiles += r.leakedFiles
		total.extra += r.extra
		total.failed += r.failed
	}
	fmt.Fprintf(&b, "%-42s %7d %10d %6d %9d %11s %7d\n", fmt.Sprintf("TOTAL (%d faults tried)", len(list)-1), total.uploads, total.lost, total.leakedFiles, total.extra, "", total.failed)
	t.Log("\n" + b.String())
	assert.Zero(t, total.lost, "bytes lost")
	assert.Zero(t, total.leakedFiles, "leaks")
}

type caseResult struct {
	lost, leftovers, extra, failed int
	took                           time.Duration
}

// runMatrixCase runs one upload of the matrix and checks it.
func runMatrixCase(t *testing.T, sc scenario, f flow, size int64, conc int, src source, seed uint64) caseResult {
	t.Helper()
	r := newRig(t, sc.srvOpts)
	for _, flt := range sc.faults(f) {
		r.srv.Inject(flt)
	}
	path, data := rigFile(t, size, seed)
	tmp := t.TempDir()
	n := int((size-1)/rigSlice + 1)
	opts := append([]pan123.UploadOption{pan123.WithConcurrency(conc), pan123.WithTempDir(tmp)}, sc.upOpts...)
	if sc.hook != nil {
		opts = append(opts, sc.hook(r, n)...)
	}
	// A hang guard, not a wait: a run takes milliseconds.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := time.Now()
	stored, err := f.upload(ctx, r, r.uploader(opts...), src, "matrix.bin", path, data)
	took := time.Since(start)
	require.NoError(t, err)

	res := caseResult{lost: bytesLost(data, stored), took: took}
	assert.Zero(t, res.lost, "bytes lost")
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	res.leftovers = len(left)
	assert.Empty(t, left, "temp files left behind")

	res.extra = int(r.tr.requests.Load()) - f.clean(n)
	res.failed = failedRequests(r.srv.Requests())
	limit := sc.extra(f, n, conc)
	assert.LessOrEqual(t, res.extra, limit, "requests above a clean upload not bounded")
	if sc.name == "none" {
		assert.Zero(t, res.extra, "a clean upload makes exactly the expected requests")
	} else {
		assert.Positive(t, res.extra, "the fault never fired")
	}
	if sc.tokens != 0 {
		assert.Equal(t, sc.tokens, r.srv.TokensIssued(), "access tokens issued")
	}
	assert.LessOrEqual(t, r.srv.TokensIssued(), matrixTokenBudget, "access tokens minted above the budget")
	t.Logf("%-40s %-8s size=%-8d conc=%-2d %-6s slices=%-2d extra=%-3d (limit %3d) failed=%-3d lost=%d took=%v",
		sc.name, f.name, size, conc, src, n, res.extra, limit, res.failed, res.lost, took.Round(time.Millisecond))
	return res
}

// TestFaultMatrixPermanent: when every send of one slice fails, the upload
// ends once that slice failed its retry budget in a row after the others
// were done, with an *UploadError naming the slice.
func TestFaultMatrixPermanent(t *testing.T) {
	baseline := goleak.IgnoreCurrent()
	const attempts = 8
	kinds := []struct {
		name  string
		fault pan123test.Fault
	}{
		{"status 500", pan123test.Fault{Status: 500}},
		{"connection reset", pan123test.Fault{Drop: true}},
	}
	t.Run("runs", func(t *testing.T) {
		for _, f := range flows {
			for _, k := range kinds {
				for _, size := range []int64{1, 4*rigSlice + 1} {
					t.Run(fmt.Sprintf("%s/%s/size=%d", f.name, k.name, size), func(t *testing.T) {
						t.Parallel()
						r := newRig(t, nil)
						bad := 1
						if size > rigSlice {
							bad = 3
						}
						flt := k.fault
						flt.Op, flt.SliceNo, flt.Times = f.slice, bad, -1
						r.srv.Inject(flt)
						path, data := rigFile(t, size, 5)
						tmp := t.TempDir()
						ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second) // hang guard
						defer cancel()
						start := time.Now()
						_, err := f.upload(ctx, r, r.uploader(pan123.WithConcurrency(4), pan123.WithTempDir(tmp)), fromStream, "matrix.bin", path, data)
						took := time.Since(start)

						var ue *pan123.UploadError
						require.ErrorAs(t, err, &ue)
						assert.Equal(t, bad, ue.SliceNo, "the error names the failing slice")
						assert.NotEmpty(t, ue.PreuploadID)
						assert.NotErrorIs(t, err, context.DeadlineExceeded, "ended by the budget, not the hang guard")
						// The budget, in a row after the last success of another slice.
						limit := attempts
						sends, after := failedStreak(r.srv.Requests(), f.slice, bad)
						assert.GreaterOrEqual(t, sends, limit, "retried up to the budget")
						assert.LessOrEqual(t, after, 2*limit, "bounded after the last success")
						assert.Zero(t, r.srv.Count(f.complete), "no completion after a failed slice")
						left, _ := os.ReadDir(tmp)
						assert.Empty(t, left, "temp files left behind")
						assert.Less(t, took, 10*time.Second)
						t.Logf("%-8s %-16s size=%-7d slice %d: %d sends, %v: %v", f.name, k.name, size, bad, sends, took.Round(time.Millisecond), err)
					})
				}
			}
		}
	})
	goleak.VerifyNone(t, baseline)
}
