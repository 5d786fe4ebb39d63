package pan123_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// rSlice is the fake's slice size in newEnv: files of a few MiB have many.
const rSlice = testSlice

// recordingHandler keeps the slog records at Info and above, for asserting
// warnings.
type recordingHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *recordingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler                { return h }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}

// warnings returns the Warn records whose message is msg, each rendered as
// its message followed by its attributes.
func (h *recordingHandler) warnings(msg string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.recs {
		if r.Level != slog.LevelWarn || r.Message != msg {
			continue
		}
		var b strings.Builder
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
		out = append(out, b.String())
	}
	return out
}

// cpRecord mirrors the checkpoint's JSON, as far as the tests look at it.
type cpRecord struct {
	Version     int       `json:"version"`
	Source      string    `json:"source"`
	Size        int64     `json:"size"`
	ModTime     time.Time `json:"modTime"`
	MD5         string    `json:"md5"`
	Dest        string    `json:"dest"`
	PreuploadID string    `json:"preuploadID"`
	SliceSize   int64     `json:"sliceSize"`
	Done        []int     `json:"done"`
}

// checkpoints reads every record in dir. Any other entry (a temp file left
// behind) or a record that does not parse fails the test; the V2 slice size
// the dir remembers is not a record.
func checkpoints(t *testing.T, dir string) map[string]cpRecord {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	out := map[string]cpRecord{}
	for _, de := range ents {
		if de.Name() == "v2-slice-size" {
			continue
		}
		require.True(t, strings.HasPrefix(de.Name(), "pan123-") && strings.HasSuffix(de.Name(), ".json"),
			"stray entry %q in the checkpoint dir", de.Name())
		b, err := os.ReadFile(filepath.Join(dir, de.Name()))
		require.NoError(t, err)
		var r cpRecord
		require.NoError(t, json.Unmarshal(b, &r), "record %s: %q", de.Name(), b)
		out[de.Name()] = r
	}
	return out
}

// onlyCheckpoint returns the path and content of the single record in dir.
func onlyCheckpoint(t *testing.T, dir string) (string, cpRecord) {
	t.Helper()
	recs := checkpoints(t, dir)
	require.Len(t, recs, 1, "want exactly one checkpoint record")
	for name, r := range recs {
		return filepath.Join(dir, name), r
	}
	panic("unreachable")
}

// progressLog collects progress reports; it is safe for the upload's goroutines.
// uploadExpectingRestart uploads path through cpDir and checks that the run
// started over exactly once, for a reason containing why (an EventRestart
// and one warning), and stored data. hook, if any, sees every report.
func uploadExpectingRestart(t *testing.T, e *env, logs *recordingHandler, cpDir, path, name string, data []byte, why string, hook func(pan123.Progress)) *progressLog {
	t.Helper()
	log := &progressLog{hook: hook}
	res, err := e.uploader(pan123.WithCheckpointDir(cpDir), pan123.WithProgress(log.fn)).
		UploadFile(t.Context(), path, pan123.FileInput{Name: name})
	require.NoError(t, err)
	f, ok := e.srv.File(res.FileID)
	require.True(t, ok)
	require.True(t, bytes.Equal(data, f.Data), "stored bytes differ from the source")
	restarts := log.of(pan123.EventRestart)
	require.Len(t, restarts, 1)
	assert.ErrorContains(t, restarts[0].Err, why)
	assert.Len(t, logs.warnings("pan123: not resuming"), 1)
	return log
}

type progressLog struct {
	mu   sync.Mutex
	all  []pan123.Progress
	hook func(pan123.Progress) // optional, called for every report
}

func (l *progressLog) fn(p pan123.Progress) {
	l.mu.Lock()
	l.all = append(l.all, p)
	hook := l.hook
	l.mu.Unlock()
	if hook != nil {
		hook(p)
	}
}

func (l *progressLog) of(ev pan123.Event) []pan123.Progress {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []pan123.Progress
	for _, p := range l.all {
		if p.Event == ev {
			out = append(out, p)
		}
	}
	return out
}

func (l *progressLog) sliceNos(ev pan123.Event) []int {
	var out []int
	for _, p := range l.of(ev) {
		out = append(out, p.SliceNo)
	}
	slices.Sort(out)
	return out
}

// putStats sums the slice PUTs the fake recorded: body bytes read, and the
// number of PUTs that reached each slice.
func putStats(reqs []pan123test.Request) (bytes int64, perSlice map[int]int) {
	perSlice = map[int]int{}
	for _, r := range reqs {
		if r.Op == pan123test.OpPut {
			bytes += r.Bytes
			perSlice[r.SliceNo]++
		}
	}
	return bytes, perSlice
}

func count(reqs []pan123test.Request, op pan123test.Op) int {
	n := 0
	for _, r := range reqs {
		if r.Op == op {
			n++
		}
	}
	return n
}

// overwrite replaces the bytes of path at off, keeping its size, and sets
// its modification time back to mtime: a change that size and mtime cannot
// see. It may run on any goroutine.
func overwrite(path string, off int64, b []byte, mtime time.Time) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(b, off)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chtimes(path, mtime, mtime)
	}
	return err
}

func mtimeOf(t *testing.T, path string) time.Time {
	t.Helper()
	st, err := os.Stat(path)
	require.NoError(t, err)
	return st.ModTime()
}

// failAtSlice3 makes a first attempt of upload fail for good on slice 3:
// with one slice in flight, slices 1 and 2 are on the platform, 3.. are not.
func failAtSlice3(t *testing.T, e *env, upload func(opts ...pan123.UploadOption) error) *pan123.UploadError {
	t.Helper()
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpPut, SliceNo: 3, Times: -1, Status: 500})
	err := upload(pan123.WithConcurrency(1), pan123.WithSliceRetry(1, time.Millisecond, time.Millisecond))
	e.srv.ClearFaults()
	var ue *pan123.UploadError
	require.ErrorAs(t, err, &ue)
	require.Equal(t, 3, ue.SliceNo)
	require.NotEmpty(t, ue.PreuploadID)
	parts := e.srv.Parts(ue.PreuploadID)
	require.Len(t, parts, 2, "slices 1 and 2 on the platform")
	return ue
}

// interruptCheckpointed runs UploadFile of path through cpDir until it fails
// at slice 3, leaving slices 1 and 2 on the platform and a record in cpDir.
func interruptCheckpointed(t *testing.T, e *env, cpDir, path, name string) *pan123.UploadError {
	t.Helper()
	return failAtSlice3(t, e, func(opts ...pan123.UploadOption) error {
		_, err := e.uploader(append(opts, pan123.WithCheckpointDir(cpDir))...).
			UploadFile(t.Context(), path, pan123.FileInput{Name: name})
		return err
	})
}

// ---------------------------------------------------------------------------
// Kill -9 mid-way, resume in the parent.

const helperEnv = "PAN123_RESUME_HELPER"

// TestResumeHelperProcess is the child of TestResumeAfterSIGKILL: it uploads
// a file with a checkpoint until it is killed. It does nothing unless run
// by that test.
func TestResumeHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	conc, _ := strconv.Atoi(os.Getenv("PAN123_CONCURRENCY"))
	c, err := pan123.New(os.Getenv("PAN123_CLIENT_ID"), os.Getenv("PAN123_CLIENT_SECRET"),
		pan123.WithBaseURL(os.Getenv("PAN123_URL")),
		pan123.WithRetry(5, time.Millisecond, 5*time.Millisecond),
		pan123.WithoutRateLimits())
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	up := pan123.NewUploader(c, pan123.WithConcurrency(conc),
		pan123.WithSliceRetry(5, time.Millisecond, 5*time.Millisecond),
		pan123.WithPollInterval(2*time.Millisecond),
		pan123.WithCheckpointDir(os.Getenv("PAN123_CHECKPOINT_DIR")))
	_, err = up.UploadFile(context.Background(), os.Getenv("PAN123_FILE"), pan123.FileInput{Name: "big.bin"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(3)
	}
	fmt.Fprintln(os.Stderr, "helper: finished before it was killed")
	os.Exit(4)
}

func TestResumeAfterSIGKILL(t *testing.T) {
	t.Parallel()
	const (
		slice   = 256 << 10
		size    = 8 << 20 // 32 slices
		nSlices = size / slice
		conc    = 4
	)
	// 2 MiB/s per connection: a slice takes ~125 ms, the file ~1 s at 4 in flight.
	e := newEnv(t, pan123test.WithBandwidth(2<<20), pan123test.WithSliceSize(slice))
	dir := t.TempDir()
	cpDir := filepath.Join(dir, "checkpoints")
	path, data := writeRandom(t, dir, size, 42)

	cmd := exec.Command(os.Args[0], "-test.run=^TestResumeHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		helperEnv+"=1",
		"PAN123_URL="+e.srv.URL,
		"PAN123_CLIENT_ID="+e.srv.ClientID,
		"PAN123_CLIENT_SECRET="+e.srv.ClientSecret,
		"PAN123_FILE="+path,
		"PAN123_CHECKPOINT_DIR="+cpDir,
		"PAN123_CONCURRENCY="+strconv.Itoa(conc))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// Poll the record (every read must parse: it is replaced atomically)
	// until about half of the slices are done, then kill -9.
	var killedAt cpRecord
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	guard := time.After(60 * time.Second) // a hang guard, not a wait
poll:
	for {
		select {
		case err := <-exited:
			t.Fatalf("the helper ended before it was killed: %v\n%s", err, stderr.String())
		case <-guard:
			_ = cmd.Process.Signal(syscall.SIGQUIT) // the child prints its goroutines
			<-exited
			t.Fatalf("the upload never reached half way; the helper's stderr:\n%s", stderr.String())
		case <-tick.C:
		}
		ents, err := os.ReadDir(cpDir)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		require.NoError(t, err)
		for _, de := range ents {
			if !strings.HasSuffix(de.Name(), ".json") {
				continue // the temp file of a save in progress
			}
			b, err := os.ReadFile(filepath.Join(cpDir, de.Name()))
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			require.NoError(t, err)
			var r cpRecord
			require.NoError(t, json.Unmarshal(b, &r), "a partial record was observable: %q", b)
			if len(r.Done) >= nSlices/2 {
				killedAt = r
				break poll
			}
		}
	}
	require.NoError(t, cmd.Process.Signal(os.Kill))
	err := <-exited
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "stderr: %s", stderr.String())
	require.False(t, ee.Exited(), "the helper was killed by a signal, not exited: %s", stderr.String())
	// The killed process's last slices may still be in the fake's socket
	// buffers, and land after the kill. Closing the fake waits for all its
	// handlers (it aborts throttled reads): only then is the set of slices
	// it holds final. The resume runs against the fake restarted from its
	// saved state, as a platform outlives a client.
	e.srv.Close()
	firstRun := e.srv.Requests()
	firstBytes, _ := putStats(firstRun)
	held := len(e.srv.Parts(killedAt.PreuploadID))
	t.Logf("killed with %d slices in the record, %d on the platform, %d bytes sent", len(killedAt.Done), held, firstBytes)
	require.Less(t, held, nSlices, "the first run finished before the kill")
	state := t.TempDir()
	require.NoError(t, e.srv.SaveState(state))
	e = newEnv(t, pan123test.WithCredentials(e.srv.ClientID, e.srv.ClientSecret))
	require.NoError(t, e.srv.LoadState(state))

	// Resume in this process: same session, only the missing slices.
	var log progressLog
	up := e.uploader(pan123.WithConcurrency(conc), pan123.WithCheckpointDir(cpDir), pan123.WithProgress(log.fn))
	res, err := up.UploadFile(t.Context(), path, pan123.FileInput{Name: "big.bin"})
	require.NoError(t, err)
	f, ok := e.srv.File(res.FileID)
	require.True(t, ok)
	require.True(t, bytes.Equal(data, f.Data), "stored bytes differ from the source")
	assert.Empty(t, log.of(pan123.EventRestart), "the saved session was usable")
	assert.Len(t, log.of(pan123.EventSliceSkipped), held, "every slice the platform held was skipped")

	e.srv.Close() // waits for every handler, so the log is complete
	all := append(firstRun, e.srv.Requests()...)
	assert.Equal(t, 1, count(all, pan123test.OpCreate), "one session across both processes")
	total, _ := putStats(all)
	resent := total - size
	t.Logf("bytes sent across both runs: %d; sent again: %d (%.2f slices; bound %d)", total, resent, float64(resent)/slice, conc+1)
	assert.GreaterOrEqual(t, resent, int64(0))
	assert.LessOrEqual(t, resent, int64((conc+1)*slice), "too much sent again")
	assert.Empty(t, checkpoints(t, cpDir), "record or temp file left after success")
}

// ---------------------------------------------------------------------------
// Verification of the slices the platform holds.

// TestResumeResendsPartWithWrongEtag: the platform holds a slice whose MD5
// is not the local slice's (as if stored corrupt); the local file is
// unchanged. The resume skips the good slices and sends that one again.
func TestResumeResendsPartWithWrongEtag(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir, cpDir := t.TempDir(), t.TempDir()
	path, data := writeRandom(t, dir, 6*rSlice+100, 21)
	mtime := mtimeOf(t, path)
	orig2 := bytes.Clone(data[rSlice : 2*rSlice])
	bad2 := bytes.Repeat([]byte{0xEE}, rSlice)

	// First run: slice 2 is read while the file holds other bytes there (the
	// MD5 of the whole was taken before), then the file is put back exactly
	// as it was, mtime included. The platform now holds a wrong slice 2.
	var log1 progressLog
	log1.hook = func(p pan123.Progress) {
		switch {
		case p.Event == pan123.EventPhase && p.Phase == pan123.PhaseUploading:
			assert.NoError(t, overwrite(path, rSlice, bad2, mtime))
		case p.Event == pan123.EventSliceDone && p.SliceNo == 2:
			assert.NoError(t, overwrite(path, rSlice, orig2, mtime))
		}
	}
	ue := failAtSlice3(t, e, func(opts ...pan123.UploadOption) error {
		opts = append(opts, pan123.WithCheckpointDir(cpDir), pan123.WithProgress(log1.fn))
		_, err := e.uploader(opts...).UploadFile(t.Context(), path, pan123.FileInput{Name: "w.bin"})
		return err
	})
	parts := e.srv.Parts(ue.PreuploadID)
	require.Equal(t, md5hex(data[:rSlice]), parts[0].MD5)
	require.Equal(t, md5hex(bad2), parts[1].MD5, "the platform holds the wrong slice 2")
	require.Equal(t, mtime, mtimeOf(t, path))

	e.srv.ResetRequests()
	var log progressLog
	res, err := e.uploader(pan123.WithCheckpointDir(cpDir), pan123.WithProgress(log.fn)).
		UploadFile(t.Context(), path, pan123.FileInput{Name: "w.bin"})
	require.NoError(t, err)
	f, ok := e.srv.File(res.FileID)
	require.True(t, ok)
	require.True(t, bytes.Equal(data, f.Data), "stored bytes differ from the source")
	assert.Empty(t, log.of(pan123.EventRestart))
	assert.Equal(t, []int{1}, log.sliceNos(pan123.EventSliceSkipped), "only the good slice is skipped")
	reqs := e.srv.Requests()
	assert.Zero(t, count(reqs, pan123test.OpCreate), "same session")
	_, per := putStats(reqs)
	assert.Equal(t, map[int]int{2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1}, per, "slice 2 sent again, 1 not")
	assert.Empty(t, checkpoints(t, cpDir))
}

// TestResumeContentChangedUnderSameMtime: the file's bytes changed but its
// size and mtime did not. A resume reads only the slices the platform holds:
// a changed held slice fails its MD5 check and is sent again; a changed
// missing slice is simply sent. Either way the session was created for the
// old MD5, so the platform refuses to complete it: the error says so, the
// record is dropped, and the next run starts over and stores the new bytes —
// never a silent old, new or mixed file, never a failure loop.
func TestResumeContentChangedUnderSameMtime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		slice int // which slice changes: 1 is on the platform, 5 is not
	}{{"held slice", 1}, {"missing slice", 5}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			dir, cpDir := t.TempDir(), t.TempDir()
			path, data := writeRandom(t, dir, 6*rSlice+100, 22)
			mtime := mtimeOf(t, path)
			ue := interruptCheckpointed(t, e, cpDir, path, "c.bin")

			changed := bytes.Clone(data)
			off := int64(tc.slice-1) * rSlice
			for i := off; i < off+1000; i++ {
				changed[i] ^= 0xFF
			}
			require.NoError(t, overwrite(path, off, changed[off:off+1000], mtime))
			require.Equal(t, mtime, mtimeOf(t, path))

			// ResumeFile: the changed content cannot complete the old session.
			e.srv.ResetRequests()
			_, err := e.uploader().ResumeFile(t.Context(), ue)
			var ae *pan123.APIError
			require.ErrorAs(t, err, &ae, "the platform's refusal at completion is returned")
			assert.ErrorIs(t, err, pan123.ErrCompleteRefused)
			_, per := putStats(e.srv.Requests())
			assert.NotContains(t, per, 2, "slice 2 is unchanged and held: verified, not sent")

			// Through the checkpoint: the refusal drops the record...
			_, err = e.uploader(pan123.WithCheckpointDir(cpDir)).UploadFile(t.Context(), path, pan123.FileInput{Name: "c.bin"})
			require.ErrorAs(t, err, &ae)
			assert.Empty(t, checkpoints(t, cpDir), "a session that cannot complete is forgotten")

			// ...so the next run starts over and stores the new content.
			e.srv.ResetRequests()
			res, err := e.uploader(pan123.WithCheckpointDir(cpDir)).UploadFile(t.Context(), path, pan123.FileInput{Name: "c.bin"})
			require.NoError(t, err)
			f, ok := e.srv.File(res.FileID)
			require.True(t, ok)
			require.True(t, bytes.Equal(changed, f.Data), "the platform must hold the new content")
			assert.Equal(t, md5hex(changed), res.MD5)
			assert.Equal(t, 1, e.srv.Count(pan123test.OpCreate), "a new session")
			assert.Empty(t, checkpoints(t, cpDir))
		})
	}
}

// ---------------------------------------------------------------------------
// Restarts.

// TestResumeSourceModifiedRestarts: a size or mtime change is seen without
// reading the file; the upload starts over in a new session.
func TestResumeSourceModifiedRestarts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		modify func(t *testing.T, path string, data []byte) []byte
	}{
		{"size", func(t *testing.T, path string, data []byte) []byte {
			data = append(bytes.Clone(data), "more bytes"...)
			require.NoError(t, os.WriteFile(path, data, 0o600))
			return data
		}},
		{"mtime only", func(t *testing.T, path string, data []byte) []byte {
			later := mtimeOf(t, path).Add(time.Hour)
			require.NoError(t, os.Chtimes(path, later, later))
			return data
		}},
		{"content and mtime", func(t *testing.T, path string, data []byte) []byte {
			data = bytes.Clone(data)
			copy(data[10:], "changed")
			require.NoError(t, os.WriteFile(path, data, 0o600))
			later := mtimeOf(t, path).Add(time.Hour)
			require.NoError(t, os.Chtimes(path, later, later))
			return data
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			logs := e.logs
			dir, cpDir := t.TempDir(), t.TempDir()
			path, data := writeRandom(t, dir, 5*rSlice+7, 23)
			ue := interruptCheckpointed(t, e, cpDir, path, "m.bin")
			data = tc.modify(t, path, data)

			e.srv.ResetRequests()
			var newID string
			log := uploadExpectingRestart(t, e, logs, cpDir, path, "m.bin", data, "changed", func(p pan123.Progress) {
				if p.Event == pan123.EventPhase && p.Phase == pan123.PhaseCompleting {
					_, r := onlyCheckpoint(t, cpDir) // the new session's record, while it runs
					newID = r.PreuploadID
				}
			})
			assert.NotEmpty(t, newID)
			assert.NotEqual(t, ue.PreuploadID, newID, "a new session")
			reqs := e.srv.Requests()
			assert.Equal(t, 1, count(reqs, pan123test.OpCreate))
			assert.Zero(t, count(reqs, pan123test.OpListUploadParts), "a stale record is not even looked up")
			assert.Empty(t, log.of(pan123.EventSliceSkipped))
			assert.Empty(t, checkpoints(t, cpDir))
		})
	}
}

// TestResumeExpiredSessionRestarts: the platform forgot the session; the
// upload starts over cleanly.
func TestResumeExpiredSessionRestarts(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	for _, tc := range []struct {
		name   string
		fake   []pan123test.Option
		expire func(e *env)
	}{
		{"ExpirePreuploads", nil, func(e *env) { e.srv.ExpirePreuploads() }},
		{"TTL", []pan123test.Option{pan123test.WithPreuploadTTL(time.Hour), pan123test.WithClock(clock)},
			func(*env) { mu.Lock(); now = now.Add(2 * time.Hour); mu.Unlock() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.fake...)
			logs := e.logs
			dir, cpDir := t.TempDir(), t.TempDir()
			path, data := writeRandom(t, dir, 5*rSlice+7, 24)
			ue := interruptCheckpointed(t, e, cpDir, path, "x.bin")
			tc.expire(e)
			require.Nil(t, e.srv.Parts(ue.PreuploadID))

			e.srv.ResetRequests()
			uploadExpectingRestart(t, e, logs, cpDir, path, "x.bin", data, "no longer knows", nil)
			reqs := e.srv.Requests()
			assert.Equal(t, 1, count(reqs, pan123test.OpListUploadParts), "the saved session was asked for once")
			assert.Equal(t, 1, count(reqs, pan123test.OpCreate), "then a new one")
			_, per := putStats(reqs)
			assert.Len(t, per, 6, "every slice sent in the new session")
			assert.Empty(t, checkpoints(t, cpDir))
		})
	}
}

// TestResumeCorruptCheckpointIgnored: whatever the record holds, the upload
// warns, says why in an EventRestart, and starts over.
func TestResumeCorruptCheckpointIgnored(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		corrupt func(b []byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"empty", func([]byte) []byte { return nil }},
		{"garbage", func([]byte) []byte { return []byte("\x00\xff not json at all") }},
		{"null", func([]byte) []byte { return []byte("null") }},
		{"array", func([]byte) []byte { return []byte("[1,2,3]") }},
		{"wrong version", func(b []byte) []byte { return bytes.Replace(b, []byte(`"version":1`), []byte(`"version":99`), 1) }},
		{"bad md5", func(b []byte) []byte {
			var m map[string]any
			if json.Unmarshal(b, &m) != nil {
				return nil
			}
			m["md5"] = "zz"
			b, _ = json.Marshal(m)
			return b
		}},
		{"bad types", func([]byte) []byte { return []byte(`{"version":"1","sliceSize":"x","done":{}}`) }},
		{"absurd slice size", func(b []byte) []byte {
			var m map[string]any
			if json.Unmarshal(b, &m) != nil {
				return nil
			}
			m["sliceSize"] = 1
			b, _ = json.Marshal(m)
			return b
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			logs := e.logs
			dir, cpDir := t.TempDir(), t.TempDir()
			path, data := writeRandom(t, dir, 4*rSlice+1, 25)
			interruptCheckpointed(t, e, cpDir, path, "k.bin")
			file, _ := onlyCheckpoint(t, cpDir)
			b, err := os.ReadFile(file)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(file, tc.corrupt(b), 0o600))

			uploadExpectingRestart(t, e, logs, cpDir, path, "k.bin", data, "checkpoint", nil)
			assert.Empty(t, checkpoints(t, cpDir))
		})
	}
}

// ---------------------------------------------------------------------------
// The checkpoint directory.

// TestResumeTwoFilesSameDir: two uploads share a checkpoint dir at the same
// time, are interrupted, then resumed at the same time; nothing mixes.
func TestResumeTwoFilesSameDir(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir, cpDir := t.TempDir(), t.TempDir()
	pathA, dataA := writeRandom(t, dir, 6*rSlice+1, 31)
	pathB, dataB := writeRandom(t, dir, 7*rSlice+2, 32)
	type job struct {
		path string
		data []byte
		name string
	}
	jobs := []job{{pathA, dataA, "a.bin"}, {pathB, dataB, "b.bin"}}

	// First runs, concurrently: each is cancelled after its third slice.
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		wg.Go(func() {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var done atomic.Int32
			up := e.uploader(pan123.WithConcurrency(1), pan123.WithCheckpointDir(cpDir), pan123.WithProgress(func(p pan123.Progress) {
				if p.Event == pan123.EventSliceDone && done.Add(1) == 3 {
					cancel()
				}
			}))
			_, errs[i] = up.UploadFile(ctx, j.path, pan123.FileInput{Name: j.name})
		})
	}
	wg.Wait()
	ids := map[string]bool{}
	for _, err := range errs {
		require.ErrorIs(t, err, context.Canceled)
		var ue *pan123.UploadError
		require.ErrorAs(t, err, &ue)
		ids[ue.PreuploadID] = true
	}
	require.Len(t, ids, 2)
	recs := checkpoints(t, cpDir)
	require.Len(t, recs, 2, "one record per upload")
	sources := map[string]cpRecord{}
	for _, r := range recs {
		sources[r.Source] = r
	}
	for _, j := range jobs {
		abs, err := filepath.Abs(j.path)
		require.NoError(t, err)
		r, ok := sources[abs]
		require.True(t, ok, "no record for %s", abs)
		assert.Equal(t, int64(len(j.data)), r.Size)
		assert.Equal(t, md5hex(j.data), r.MD5)
		assert.True(t, ids[r.PreuploadID])
		assert.Contains(t, r.Dest, j.name)
		assert.Equal(t, []int{1, 2, 3}, r.Done)
	}

	// Resumes, concurrently: each continues its own session.
	logs := make([]*progressLog, len(jobs))
	results := make([]*pan123.FileResult, len(jobs))
	for i, j := range jobs {
		logs[i] = &progressLog{}
		wg.Go(func() {
			up := e.uploader(pan123.WithCheckpointDir(cpDir), pan123.WithProgress(logs[i].fn))
			results[i], errs[i] = up.UploadFile(t.Context(), j.path, pan123.FileInput{Name: j.name})
		})
	}
	wg.Wait()
	for i, j := range jobs {
		require.NoError(t, errs[i])
		f, ok := e.srv.File(results[i].FileID)
		require.True(t, ok)
		assert.Equal(t, j.name, f.Name)
		assert.True(t, bytes.Equal(j.data, f.Data), "%s: stored bytes differ", j.name)
		assert.Empty(t, logs[i].of(pan123.EventRestart))
		assert.Equal(t, []int{1, 2, 3}, logs[i].sliceNos(pan123.EventSliceSkipped))
	}
	assert.Equal(t, 2, e.srv.Count(pan123test.OpCreate), "no session created by a resume")
	assert.Empty(t, checkpoints(t, cpDir), "both records removed after success")
}

// TestResumeCheckpointFileLifecycle: the record appears once the session
// exists, is never observable half-written, leaves no temp file after a
// failure or a success, and is gone after success.
func TestResumeCheckpointFileLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir, cpDir := t.TempDir(), filepath.Join(t.TempDir(), "nested", "cp")
	path, data := writeRandom(t, dir, 12*rSlice+3, 33)

	// A reader hammers the record while the upload runs: every read finds
	// either no file or a whole, parseable record.
	stop := make(chan struct{})
	var reads, parsed atomic.Int64
	var bad atomic.Value
	var rwg sync.WaitGroup
	rwg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			ents, _ := os.ReadDir(cpDir)
			for _, de := range ents {
				if !strings.HasSuffix(de.Name(), ".json") {
					continue
				}
				b, err := os.ReadFile(filepath.Join(cpDir, de.Name()))
				if err != nil {
					continue // removed or replaced between ReadDir and ReadFile
				}
				reads.Add(1)
				var r cpRecord
				if json.Unmarshal(b, &r) != nil || r.PreuploadID == "" {
					bad.Store(string(b))
				} else {
					parsed.Add(1)
				}
			}
		}
	})
	defer func() { close(stop); rwg.Wait() }()

	up := e.uploader(pan123.WithCheckpointDir(cpDir), pan123.WithConcurrency(2))
	failAtSlice3(t, e, func(opts ...pan123.UploadOption) error {
		_, err := up.UploadFile(t.Context(), path, pan123.FileInput{Name: "l.bin"}, opts...)
		return err
	})
	file, r := onlyCheckpoint(t, cpDir) // fails on a stray temp file
	assert.Equal(t, []int{1, 2}, r.Done)
	assert.Equal(t, int64(rSlice), r.SliceSize)
	st, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the record is private")

	res, err := up.UploadFile(t.Context(), path, pan123.FileInput{Name: "l.bin"})
	require.NoError(t, err)
	f, ok := e.srv.File(res.FileID)
	require.True(t, ok)
	require.True(t, bytes.Equal(data, f.Data))
	ents, err := os.ReadDir(cpDir)
	require.NoError(t, err)
	assert.Empty(t, ents, "record or temp file left after success")
	if v := bad.Load(); v != nil {
		t.Fatalf("a partial record was observable: %q", v)
	}
	t.Logf("%d concurrent reads of the record, %d parsed", reads.Load(), parsed.Load())
}

// TestResumeLeftoverTempFileRemoved: a process killed in the middle of a
// save leaves its temp file; the next upload of that file cleans it up.
func TestResumeLeftoverTempFileRemoved(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir, cpDir := t.TempDir(), t.TempDir()
	path, data := writeRandom(t, dir, 4*rSlice, 34)
	interruptCheckpointed(t, e, cpDir, path, "t.bin")
	file, _ := onlyCheckpoint(t, cpDir)
	// What a save interrupted by kill -9 leaves: a temp file of this record
	// next to it, with part of a record inside.
	require.NoError(t, os.WriteFile(file+".tmp-123456", []byte(`{"version":1,"sou`), 0o600))
	other := filepath.Join(cpDir, "unrelated.txt")
	require.NoError(t, os.WriteFile(other, []byte("not ours"), 0o600))

	res, err := e.uploader(pan123.WithCheckpointDir(cpDir)).UploadFile(t.Context(), path, pan123.FileInput{Name: "t.bin"})
	require.NoError(t, err)
	f, ok := e.srv.File(res.FileID)
	require.True(t, ok)
	require.True(t, bytes.Equal(data, f.Data))
	ents, err := os.ReadDir(cpDir)
	require.NoError(t, err)
	var names []string
	for _, de := range ents {
		names = append(names, de.Name())
	}
	assert.Equal(t, []string{"unrelated.txt"}, names, "leftover temp files of the record removed; nothing else touched")
}

// ---------------------------------------------------------------------------
// ResumeFile / ResumeImageFile.

func TestResumeFileFromUploadError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path, data := writeRandom(t, t.TempDir(), 5*rSlice+9, 41)
	ue := failAtSlice3(t, e, func(opts ...pan123.UploadOption) error {
		_, err := e.uploader(opts...).UploadFile(t.Context(), path, pan123.FileInput{Name: "r.bin"})
		return err
	})

	e.srv.ResetRequests()
	var log progressLog
	res, err := e.uploader(pan123.WithProgress(log.fn)).ResumeFile(t.Context(), ue)
	require.NoError(t, err)
	assert.Equal(t, "r.bin", res.Name)
	assert.Equal(t, md5hex(data), res.MD5)
	f, ok := e.srv.File(res.FileID)
	require.True(t, ok)
	require.True(t, bytes.Equal(data, f.Data))
	reqs := e.srv.Requests()
	assert.Zero(t, count(reqs, pan123test.OpCreate), "the same session continues")
	assert.Equal(t, 1, count(reqs, pan123test.OpListUploadParts))
	for _, r := range reqs {
		if r.Op == pan123test.OpListUploadParts || r.Op == pan123test.OpGetUploadURL || r.Op == pan123test.OpComplete {
			var body struct {
				PreuploadID string `json:"preuploadID"`
			}
			require.NoError(t, json.Unmarshal(r.Body, &body))
			assert.Equal(t, ue.PreuploadID, body.PreuploadID, "%s in another session", r.Op)
		}
	}
	_, per := putStats(reqs)
	assert.Equal(t, map[int]int{3: 1, 4: 1, 5: 1, 6: 1}, per, "only the missing slices")
	assert.Equal(t, []int{1, 2}, log.sliceNos(pan123.EventSliceSkipped))
	var hashed int64
	for _, p := range log.of(pan123.EventBytes) {
		if p.Phase == pan123.PhaseHashing {
			hashed = p.Done
			assert.Equal(t, int64(2*rSlice), p.Total, "the check covers the held slices")
		}
	}
	assert.Equal(t, int64(2*rSlice), hashed, "only the slices the platform holds are read to verify them")
}

// TestResumeFileFailsAgain: a resume that fails again returns an
// UploadError that can itself be resumed, in the same session.
func TestResumeFileFailsAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path, data := writeRandom(t, t.TempDir(), 6*rSlice, 42)
	ue := failAtSlice3(t, e, func(opts ...pan123.UploadOption) error {
		_, err := e.uploader(opts...).UploadFile(t.Context(), path, pan123.FileInput{Name: "r2.bin"})
		return err
	})
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpPut, SliceNo: 5, Times: -1, Status: 500})
	_, err := e.uploader(pan123.WithConcurrency(1), pan123.WithSliceRetry(1, time.Millisecond, time.Millisecond)).ResumeFile(t.Context(), ue)
	var ue2 *pan123.UploadError
	require.ErrorAs(t, err, &ue2)
	assert.Equal(t, 5, ue2.SliceNo)
	assert.Equal(t, ue.PreuploadID, ue2.PreuploadID)
	e.srv.ClearFaults()
	e.srv.ResetRequests()
	res, err := e.uploader().ResumeFile(t.Context(), ue2)
	require.NoError(t, err)
	f, ok := e.srv.File(res.FileID)
	require.True(t, ok)
	require.True(t, bytes.Equal(data, f.Data))
	_, per := putStats(e.srv.Requests())
	assert.Equal(t, map[int]int{5: 1, 6: 1}, per)
}

func TestResumeImageFromUploadError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path, data := writeRandom(t, t.TempDir(), 4*rSlice+5, 43)
	ue := failAtSlice3(t, e, func(opts ...pan123.UploadOption) error {
		_, err := e.uploader(opts...).UploadImageFile(t.Context(), path, pan123.ImageInput{Name: "i.png"})
		return err
	})

	// The drive cannot take over an image-bed session, nor the reverse.
	_, err := e.uploader().ResumeFile(t.Context(), ue)
	require.ErrorIs(t, err, pan123.ErrInvalidInput)

	e.srv.ResetRequests()
	var log progressLog
	res, err := e.uploader(pan123.WithProgress(log.fn)).ResumeImageFile(t.Context(), ue)
	require.NoError(t, err)
	img, ok := e.srv.Image(res.FileID)
	require.True(t, ok)
	require.True(t, bytes.Equal(data, img.Data))
	reqs := e.srv.Requests()
	assert.Zero(t, count(reqs, pan123test.OpOSSCreate))
	assert.Equal(t, 1, count(reqs, pan123test.OpOSSListUploadParts))
	_, per := putStats(reqs)
	assert.Equal(t, map[int]int{3: 1, 4: 1, 5: 1}, per)
	assert.Equal(t, []int{1, 2}, log.sliceNos(pan123.EventSliceSkipped))
}

func TestResumeRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := t.TempDir()

	t.Run("nil", func(t *testing.T) {
		_, err := e.uploader().ResumeFile(t.Context(), nil)
		require.ErrorIs(t, err, pan123.ErrInvalidInput)
		_, err = e.uploader().ResumeImageFile(t.Context(), &pan123.UploadError{PreuploadID: "made-up"})
		require.ErrorIs(t, err, pan123.ErrInvalidInput, "an UploadError not made by an upload")
	})
	t.Run("stream", func(t *testing.T) {
		_, data := writeRandom(t, dir, 4*rSlice, 51)
		ue := failAtSlice3(t, e, func(opts ...pan123.UploadOption) error {
			_, err := e.uploader(opts...).Upload(t.Context(), io.MultiReader(bytes.NewReader(data)), pan123.FileInput{Name: "s.bin"})
			return err
		})
		// Counted where the client sends: a get_upload_url the failed upload
		// fetched ahead and abandoned may still reach the fake after it returned.
		sent := e.tr.requests.Load()
		_, err := e.uploader().ResumeFile(t.Context(), ue)
		require.ErrorIs(t, err, pan123.ErrInvalidInput)
		assert.Equal(t, sent, e.tr.requests.Load(), "nothing sent for a stream")
	})
	t.Run("seekable reader", func(t *testing.T) {
		_, data := writeRandom(t, dir, 4*rSlice, 52)
		ue := failAtSlice3(t, e, func(opts ...pan123.UploadOption) error {
			_, err := e.uploader(opts...).Upload(t.Context(), bytes.NewReader(data), pan123.FileInput{Name: "b.bin"})
			return err
		})
		_, err := e.uploader().ResumeFile(t.Context(), ue)
		require.ErrorIs(t, err, pan123.ErrInvalidInput)
	})
	for _, tc := range []struct {
		name   string
		modify func(t *testing.T, path string)
	}{
		{"mtime changed", func(t *testing.T, path string) {
			later := mtimeOf(t, path).Add(time.Minute)
			require.NoError(t, os.Chtimes(path, later, later))
		}},
		{"size changed", func(t *testing.T, path string) {
			mtime := mtimeOf(t, path)
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.WriteString("tail")
			require.NoError(t, err)
			require.NoError(t, f.Close())
			require.NoError(t, os.Chtimes(path, mtime, mtime))
		}},
		{"removed", func(t *testing.T, path string) { require.NoError(t, os.Remove(path)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, _ := writeRandom(t, t.TempDir(), 4*rSlice, 53)
			ue := failAtSlice3(t, e, func(opts ...pan123.UploadOption) error {
				_, err := e.uploader(opts...).UploadFile(t.Context(), path, pan123.FileInput{Name: "c.bin"})
				return err
			})
			tc.modify(t, path)
			sent := e.tr.requests.Load() // counted where the client sends, as above
			_, err := e.uploader().ResumeFile(t.Context(), ue)
			require.ErrorIs(t, err, pan123.ErrInvalidInput)
			assert.Equal(t, sent, e.tr.requests.Load(), "nothing sent for a changed file")
		})
	}
	t.Run("bad option", func(t *testing.T) {
		path, _ := writeRandom(t, t.TempDir(), 4*rSlice, 54)
		ue := failAtSlice3(t, e, func(opts ...pan123.UploadOption) error {
			_, err := e.uploader(opts...).UploadFile(t.Context(), path, pan123.FileInput{Name: "o.bin"})
			return err
		})
		_, err := e.uploader().ResumeFile(t.Context(), ue, pan123.WithConcurrency(-1))
		require.ErrorIs(t, err, pan123.ErrInvalidInput)
	})
}

// TestResumeImageBedCheckpoint: UploadImageFile with WithCheckpointDir
// continues its session in a later call.
func TestResumeImageBedCheckpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir, cpDir := t.TempDir(), t.TempDir()
	path, data := writeRandom(t, dir, 5*rSlice+11, 61)
	ue := failAtSlice3(t, e, func(opts ...pan123.UploadOption) error {
		_, err := e.uploader(append(opts, pan123.WithCheckpointDir(cpDir))...).
			UploadImageFile(t.Context(), path, pan123.ImageInput{Name: "pic.jpg"})
		return err
	})
	_, r := onlyCheckpoint(t, cpDir)
	assert.Equal(t, ue.PreuploadID, r.PreuploadID)
	assert.True(t, strings.HasPrefix(r.Dest, "image/"), r.Dest)

	// The same file to the drive is another upload: its own record.
	e.srv.ResetRequests()
	var log progressLog
	res, err := e.uploader(pan123.WithCheckpointDir(cpDir), pan123.WithProgress(log.fn)).
		UploadImageFile(t.Context(), path, pan123.ImageInput{Name: "pic.jpg"})
	require.NoError(t, err)
	img, ok := e.srv.Image(res.FileID)
	require.True(t, ok)
	require.True(t, bytes.Equal(data, img.Data))
	assert.Empty(t, log.of(pan123.EventRestart))
	assert.Equal(t, []int{1, 2}, log.sliceNos(pan123.EventSliceSkipped))
	reqs := e.srv.Requests()
	assert.Zero(t, count(reqs, pan123test.OpOSSCreate))
	_, per := putStats(reqs)
	assert.Equal(t, map[int]int{3: 1, 4: 1, 5: 1, 6: 1}, per)
	assert.Empty(t, checkpoints(t, cpDir))
}

// TestResumeDestinationIsPartOfTheKey: the same file to another name or
// family is another upload and does not pick up the interrupted session.
func TestResumeDestinationIsPartOfTheKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir, cpDir := t.TempDir(), t.TempDir()
	path, _ := writeRandom(t, dir, 4*rSlice, 62)
	ue := interruptCheckpointed(t, e, cpDir, path, "one.bin")
	var log progressLog
	_, err := e.uploader(pan123.WithCheckpointDir(cpDir), pan123.WithProgress(log.fn)).
		UploadImageFile(t.Context(), path, pan123.ImageInput{Name: "one.bin"})
	require.NoError(t, err)
	_, err = e.uploader(pan123.WithCheckpointDir(cpDir), pan123.WithProgress(log.fn)).
		UploadFile(t.Context(), path, pan123.FileInput{Name: "two.bin"})
	require.NoError(t, err)
	assert.Empty(t, log.of(pan123.EventRestart))
	assert.Empty(t, log.of(pan123.EventSliceSkipped))
	_, r := onlyCheckpoint(t, cpDir)
	assert.Equal(t, ue.PreuploadID, r.PreuploadID, "the interrupted upload's record is untouched")
}

// TestResumeV2StartsOver: V2 lists no slices, so a checkpointed V2 upload
// starts over after an interruption, saying so.
func TestResumeV2StartsOver(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	logs := e.logs
	dir, cpDir := t.TempDir(), t.TempDir()
	path, data := writeRandom(t, dir, 4*rSlice+3, 63)
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpV2Slice, SliceNo: 3, Times: -1, Status: 500})
	_, err := e.uploader(pan123.WithProtocol(pan123.V2), pan123.WithConcurrency(1), pan123.WithCheckpointDir(cpDir),
		pan123.WithSliceRetry(1, time.Millisecond, time.Millisecond)).
		UploadFile(t.Context(), path, pan123.FileInput{Name: "v2.bin"})
	var ue *pan123.UploadError
	require.ErrorAs(t, err, &ue)
	e.srv.ClearFaults()
	onlyCheckpoint(t, cpDir)

	var log progressLog
	res, err := e.uploader(pan123.WithProtocol(pan123.V2), pan123.WithCheckpointDir(cpDir), pan123.WithProgress(log.fn)).
		UploadFile(t.Context(), path, pan123.FileInput{Name: "v2.bin"})
	require.NoError(t, err)
	f, ok := e.srv.File(res.FileID)
	require.True(t, ok)
	require.True(t, bytes.Equal(data, f.Data))
	require.Len(t, log.of(pan123.EventRestart), 1)
	assert.Len(t, logs.warnings("pan123: not resuming"), 1)
	assert.Equal(t, 2, e.srv.Count(pan123test.OpV2Create))
	assert.Empty(t, checkpoints(t, cpDir))
}

// TestResumeCancelledWhileVerifying: cancelling during the verification
// pass returns the context's error and keeps the record for a later try.
func TestResumeCancelledWhileVerifying(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir, cpDir := t.TempDir(), t.TempDir()
	path, data := writeRandom(t, dir, 5*rSlice, 64)
	interruptCheckpointed(t, e, cpDir, path, "v.bin")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err := e.uploader(pan123.WithCheckpointDir(cpDir), pan123.WithProgress(func(p pan123.Progress) {
		if p.Phase == pan123.PhaseHashing && p.Done > 0 {
			cancel()
		}
	})).UploadFile(ctx, path, pan123.FileInput{Name: "v.bin"})
	require.ErrorIs(t, err, context.Canceled)
	onlyCheckpoint(t, cpDir)

	e.srv.ResetRequests()
	res, err := e.uploader(pan123.WithCheckpointDir(cpDir)).UploadFile(t.Context(), path, pan123.FileInput{Name: "v.bin"})
	require.NoError(t, err)
	f, ok := e.srv.File(res.FileID)
	require.True(t, ok)
	require.True(t, bytes.Equal(data, f.Data))
	assert.Zero(t, e.srv.Count(pan123test.OpCreate))
}
