package pan123

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With several values fetched ahead and ready, a worker claims the lowest
// slice among them (values come back out of order).
func TestSliceAheadClaimsTheLowestReadySlice(t *testing.T) {
	t.Parallel()
	plan := testPlan(6)
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
