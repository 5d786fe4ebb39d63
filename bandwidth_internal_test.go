package pan123

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Reads queued at a low cap follow a raised cap at once, not after the
// queue they booked at the old rate (here 2 s of it).
func TestBandwidthRaiseWakesQueuedReads(t *testing.T) {
	t.Parallel()
	const readers, chunk = 40, 5
	b := newBandwidth(100) // 100 B/s: burst 5 B, so the 40 reads queue for 2 s
	var waiting, done sync.WaitGroup
	waiting.Add(readers)
	for range readers {
		done.Go(func() {
			var once sync.Once
			n, err := caps{b}.wait(context.Background(), chunk, func() { once.Do(waiting.Done) })
			once.Do(waiting.Done) // the first read may not have had to wait
			assert.NoError(t, err)
			assert.Equal(t, chunk, n)
		})
	}
	waiting.Wait() // every read has booked its turn
	raised := time.Now()
	b.set(1 << 20)
	done.Wait()
	assert.Less(t, time.Since(raised), time.Second)
}
