package pan123

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With several values fetched ahead and ready, a worker claims the lowest
// slice among them (values come back out of order).
func TestSliceAheadClaimsTheLowestReadySlice(t *testing.T) {
	t.Parallel()
	plan := testPlan(t, 6)
	a := newSliceAhead(t.Context(), time.Now, plan, nil, 4)
	defer a.close()
	ready := make(chan struct{})
	close(ready)
	a.mu.Lock()
	for _, no := range []int{5, 2, 4} {
		a.pending[no] = &aheadValue{done: ready, p: plan[no-1], v: "v", at: time.Now()}
	}
	a.pending[3] = &aheadValue{done: make(chan struct{}), p: plan[2]} // still being fetched
	a.mu.Unlock()
	for _, want := range []int{2, 4, 5} {
		p, err := a.claim(t.Context(), slicePlan{})
		require.NoError(t, err)
		assert.Equal(t, want, p.No)
	}
}

// close cancels the fetches ahead under way and returns once they are over:
// no fetch outlives the upload.
func TestSliceAheadCloseWaitsForTheFetches(t *testing.T) {
	t.Parallel()
	a := newSliceAhead(t.Context(), time.Now, testPlan(t, 3), nil, 2)
	var started sync.WaitGroup
	started.Add(2)
	var over atomic.Int32
	a.ahead(func(ctx context.Context, _ slicePlan) (string, error) {
		started.Done()
		<-ctx.Done()
		over.Add(1)
		return "", ctx.Err()
	})
	started.Wait()
	a.close()
	assert.EqualValues(t, 2, over.Load())
}
