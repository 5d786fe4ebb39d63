package pan123_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// The bandwidth tests assert upper bounds on rates (a cap is never
// exceeded, whatever the load) and lower bounds far below what loopback
// does, so that a loaded machine cannot make them fail.

// sentWatch follows the bytes an upload has sent (its progress) and tells
// when they reach a mark.
type sentWatch struct {
	mu    sync.Mutex
	done  int64
	marks []sentMark
}

type sentMark struct {
	at int64
	ch chan sentAt
}

// sentAt is when the sent bytes first reached a mark, and how many they were.
type sentAt struct {
	t    time.Time
	done int64
}

func (w *sentWatch) progress(p pan123.Progress) {
	if p.Phase != pan123.PhaseUploading {
		return
	}
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = p.Done
	kept := w.marks[:0]
	for _, m := range w.marks {
		if p.Done >= m.at {
			m.ch <- sentAt{now, p.Done}
			continue
		}
		kept = append(kept, m)
	}
	w.marks = kept
}

// now returns the bytes sent so far, with the time.
func (w *sentWatch) now() sentAt {
	w.mu.Lock()
	defer w.mu.Unlock()
	return sentAt{time.Now(), w.done}
}

// reach waits until n bytes are sent (or the upload ends with errc).
func (w *sentWatch) reach(t *testing.T, n int64, errc <-chan error) sentAt {
	t.Helper()
	ch := make(chan sentAt, 1)
	w.mu.Lock()
	if w.done >= n {
		w.mu.Unlock()
		return w.now()
	}
	w.marks = append(w.marks, sentMark{n, ch})
	w.mu.Unlock()
	select {
	case s := <-ch:
		return s
	case err := <-errc:
		t.Fatalf("upload ended before %d bytes were sent: %v", n, err)
		return sentAt{}
	}
}

func rateOf(a, b sentAt) float64 {
	return float64(b.done-a.done) / b.t.Sub(a.t).Seconds()
}

func TestBandwidthLimitFollowsChange(t *testing.T) {
	t.Parallel()
	const slow, fast = 256 << 10, 1 << 20
	r := newRig(t, []pan123test.Option{pan123test.WithSliceSize(1 << 20)}, pan123.WithBandwidthLimit(slow))
	require.Equal(t, int64(slow), r.c.BandwidthLimit())
	var w sentWatch
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, data := rigFile(t, 4<<20, 21)
		_, err := r.uploader(pan123.WithConcurrency(2), pan123.WithProgress(w.progress)).
			Upload(ctx, bytes.NewReader(data), pan123.FileInput{Name: "capped.bin"})
		errc <- err
	}()

	a := w.reach(t, 64<<10, errc)
	b := w.reach(t, a.done+192<<10, errc)
	assert.LessOrEqual(t, rateOf(a, b), 1.25*slow, "rate under the first cap")

	r.c.SetBandwidthLimit(fast)
	changed := w.now()
	c := w.reach(t, changed.done+256<<10, errc)
	d := w.reach(t, c.done+512<<10, errc)
	// The old cap needs at least 0.95 s for 256 KiB (less its burst); the
	// new one 0.25 s.
	assert.Less(t, c.t.Sub(changed.t), 800*time.Millisecond, "time to send 256 KiB after the change")
	assert.GreaterOrEqual(t, rateOf(c, d), 0.5*fast, "rate under the second cap")
	assert.LessOrEqual(t, rateOf(c, d), 1.25*fast, "rate under the second cap")

	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
}

// A capped slice waits on the cap for longer than the stall timeout between
// its reads; it must not be cut as stalled. The cap is the upload's own.
func TestBandwidthLimitIsNotAStall(t *testing.T) {
	t.Parallel()
	const limit, size = 32 << 10, 16 << 10
	r := newRig(t, []pan123test.Option{pan123test.WithSliceSize(2 << 10)})
	var retries []error
	up := r.uploader(pan123.WithConcurrency(8), pan123.WithStallTimeout(200*time.Millisecond),
		pan123.WithSliceRetry(1, time.Millisecond, time.Millisecond), pan123.WithUploadBandwidthLimit(limit),
		pan123.WithProgress(func(p pan123.Progress) {
			if p.Event == pan123.EventSliceRetry {
				retries = append(retries, p.Err)
			}
		}))
	_, data := rigFile(t, size, 22)
	start := time.Now()
	_, err := up.Upload(context.Background(), bytes.NewReader(data), pan123.FileInput{Name: "slow.bin"})
	require.NoError(t, err)
	assert.Empty(t, retries)
	// Eight slices share the cap: every read waits about 8 × 50 ms, twice
	// the stall timeout. The cap held: the upload took about size ÷ limit.
	assert.GreaterOrEqual(t, time.Since(start), 400*time.Millisecond)
}

// One Client cap is shared by concurrent uploads.
func TestBandwidthLimitShared(t *testing.T) {
	t.Parallel()
	const limit, size = 128 << 10, 32 << 10
	r := newRig(t, []pan123test.Option{pan123test.WithSliceSize(8 << 10)}, pan123.WithBandwidthLimit(limit))
	up := r.uploader(pan123.WithConcurrency(4))
	_, data := rigFile(t, size, 23)
	start := time.Now()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			_, err := up.Upload(context.Background(), bytes.NewReader(data), pan123.FileInput{Name: "shared.bin",
				Duplicate: pan123.KeepBoth})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	// Each upload alone would take 0.25 s at the cap; together, sharing it, 0.5 s.
	assert.GreaterOrEqual(t, time.Since(start), 450*time.Millisecond)
}

// Every data-plane body waits on the cap: V1 PUTs, V2 slice posts and
// single-step posts.
func TestBandwidthLimitAllProtocols(t *testing.T) {
	t.Parallel()
	const limit, size = 64 << 10, 16 << 10
	for _, p := range []pan123.Protocol{pan123.V1, pan123.V2, pan123.Auto} {
		t.Run(map[pan123.Protocol]string{pan123.V1: "v1", pan123.V2: "v2", pan123.Auto: "single"}[p], func(t *testing.T) {
			t.Parallel()
			r := newRig(t, []pan123test.Option{pan123test.WithSliceSize(4 << 10)}, pan123.WithBandwidthLimit(limit))
			_, data := rigFile(t, size, 24)
			start := time.Now()
			_, err := r.uploader(pan123.WithProtocol(p)).Upload(context.Background(), bytes.NewReader(data), pan123.FileInput{Name: "p.bin"})
			require.NoError(t, err)
			assert.GreaterOrEqual(t, time.Since(start), 225*time.Millisecond)
		})
	}
}

func TestBandwidthLimitOptions(t *testing.T) {
	t.Parallel()
	_, err := pan123.New("id", "secret", pan123.WithBandwidthLimit(-1))
	require.ErrorIs(t, err, pan123.ErrInvalidInput)
	c, err := pan123.New("id", "secret", pan123.WithBandwidthLimit(1<<20))
	require.NoError(t, err)
	c.SetBandwidthLimit(-5) // removes the cap, as 0 does
	assert.Zero(t, c.BandwidthLimit())
	_, err = pan123.NewUploader(c, pan123.WithUploadBandwidthLimit(-1)).Upload(context.Background(), bytes.NewReader([]byte("x")), pan123.FileInput{Name: "x"})
	require.ErrorIs(t, err, pan123.ErrInvalidInput)
}
