package pan123

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fetchLog is a fetchFunc that records the slices asked for.
type fetchLog struct {
	mu   sync.Mutex
	asks []int
	fail map[int]bool // the first fetch of these slices fails
}

func (f *fetchLog) fetch(_ context.Context, p slicePlan) (string, error) {
	no := p.No
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asks = append(f.asks, no)
	if f.fail[no] {
		delete(f.fail, no)
		return "", errors.New("boom")
	}
	return fmt.Sprintf("u%d-%d", no, len(f.asks)), nil
}

func (f *fetchLog) count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.asks) }

func testPlan(t *testing.T, n int) []slicePlan {
	t.Helper()
	p, err := planSlices(int64(n), 1)
	require.NoError(t, err)
	return p
}

// TestURLAheadRefetches: a URL fetched ahead that failed, or that waited
// longer than urlMaxAge, is fetched again on demand; a skipped slice is
// never fetched; a retry fetches afresh.
func TestURLAheadRefetches(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	f := &fetchLog{fail: map[int]bool{3: true}}
	a := newSliceAhead(t.Context(), now, testPlan(t, 5), map[int]bool{2: true}, 1)
	defer a.close()
	get := func(no int) string {
		t.Helper()
		u, err := a.get(t.Context(), slicePlan{No: no, Off: int64(no - 1), Size: 1}, urlMaxAge, f.fetch)
		require.NoError(t, err)
		return u
	}
	get(1) // on demand; 3 (2 is skipped) fetched ahead, and fails
	assert.Equal(t, "u3-3", get(3), "slice 3 after a failed fetch ahead: a fetch on demand")
	<-a.pendingDone(4) // fetched ahead
	clock.Add(int64(urlMaxAge))
	assert.Equal(t, "u4-5", get(4), "slice 4 with a stale URL: a fresh fetch")
	<-a.pendingDone(5)
	assert.Equal(t, "u5-6", get(5), "slice 5: the URL fetched ahead")
	assert.Equal(t, "u5-7", get(5), "slice 5 again (a retry): a fresh fetch")
	assert.Equal(t, 7, f.count(), "fetches")
}

// TestURLAheadBounded: at most limit URLs are fetched ahead, and close
// ends the fetches under way and waits for them.
func TestURLAheadBounded(t *testing.T) {
	t.Parallel()
	const limit = 3
	var running, started atomic.Int64
	// The slice asked for is fetched at once; fetches ahead hang until
	// canceled.
	fetchFor := func(want int) fetchFunc {
		return func(ctx context.Context, p slicePlan) (string, error) {
			if p.No == want {
				return "now", nil
			}
			started.Add(1)
			running.Add(1)
			defer running.Add(-1)
			<-ctx.Done()
			return "", ctx.Err()
		}
	}
	a := newSliceAhead(t.Context(), time.Now, testPlan(t, 20), nil, limit)
	for _, no := range []int{10, 11, 12, 13, 14} {
		_, err := a.get(t.Context(), slicePlan{No: no, Off: int64(no - 1), Size: 1}, urlMaxAge, fetchFor(no))
		require.NoError(t, err)
	}
	a.mu.Lock()
	pending := len(a.pending)
	a.mu.Unlock()
	assert.Equal(t, limit, pending, "URLs fetched ahead")
	a.close()
	assert.Zero(t, running.Load(), "fetches still running after close")
	assert.LessOrEqual(t, started.Load(), int64(limit), "fetches ahead started")
	_, err := a.get(t.Context(), slicePlan{No: 15, Off: 14, Size: 1}, urlMaxAge, fetchFor(15))
	assert.NoError(t, err, "get after close")
	assert.LessOrEqual(t, started.Load(), int64(limit), "a fetch ahead started after close")
}

// pendingDone is closed when slice no's URL fetched ahead is known.
func (a *sliceAhead) pendingDone(no int) <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	if f := a.pending[no]; f != nil {
		return f.done
	}
	c := make(chan struct{})
	close(c)
	return c
}

// TestSliceAheadClaimsEachSliceOnce: workers claim slices while values
// fetched ahead come back, a round at a time (each worker claims, then all
// send): every slice of the plan is claimed once, skipped slices never, and
// each gets its own value.
func TestSliceAheadClaimsEachSliceOnce(t *testing.T) {
	t.Parallel()
	const n, workers = 40, 4
	skip := map[int]bool{7: true, 8: true, 30: true}
	a := newSliceAhead(t.Context(), time.Now, testPlan(t, n), skip, workers)
	defer a.close()
	fetch := func(_ context.Context, p slicePlan) (string, error) { return fmt.Sprint(p.No), nil }
	seen := map[int]int{}
	for left := n - len(skip); left > 0; {
		var round []slicePlan
		for ; left > 0 && len(round) < workers; left-- {
			p, err := a.claim(t.Context(), slicePlan{})
			require.NoError(t, err)
			round = append(round, p)
		}
		for _, p := range round {
			seen[p.No]++
			v, err := a.get(t.Context(), p, 0, fetch)
			if assert.NoError(t, err, "slice %d", p.No) {
				assert.Equal(t, fmt.Sprint(p.No), v, "slice %d", p.No)
			}
		}
	}
	for no := 1; no <= n; no++ {
		assert.Equal(t, map[bool]int{true: 0, false: 1}[skip[no]], seen[no], "claims of slice %d", no)
	}
}
