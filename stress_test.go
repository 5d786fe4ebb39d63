package pan123_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-pan123/pan123"
)

// TestStressSharedClient: 32 uploads at once through one Client and one
// Uploader, in all three flows, while the access token expires when the
// 10th slice (of any upload) is accepted. Every upload succeeds with exact
// bytes, the token is renewed exactly once for all of them, and nothing is
// left running. Run it with -race.
func TestStressSharedClient(t *testing.T) {
	baseline := goleak.IgnoreCurrent()
	// Registered first, so it runs after the rig has closed the fake and the
	// client's idle connections.
	t.Cleanup(func() { goleak.VerifyNone(t, baseline) })

	const uploads = 32
	r := newRig(t, nil)
	up := r.uploader(pan123.WithConcurrency(4), pan123.WithTempDir(t.TempDir()))

	var slicesDone atomic.Int64
	var expire sync.Once
	expireAt10 := pan123.WithProgress(func(p pan123.Progress) {
		if p.Event == pan123.EventSliceDone && slicesDone.Add(1) == 10 {
			expire.Do(r.srv.ExpireTokens)
		}
	})

	type result struct {
		stored []byte
		err    error
	}
	results := make([]result, uploads)
	contents := make([][]byte, uploads)
	paths := make([]string, uploads)
	for i := range uploads {
		// 1 to 4 slices plus a few bytes; distinct content, so no instant upload
		paths[i], contents[i] = rigFile(t, int64(i%4+1)*rigSlice+int64(i)+1, uint64(1000+i))
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range uploads {
		wg.Go(func() {
			<-start
			f := flows[i%len(flows)]
			src := source(i % 3)
			stored, err := f.upload(t.Context(), r, up, src, fmt.Sprintf("stress-%02d.bin", i), paths[i], contents[i], expireAt10)
			results[i] = result{stored, err}
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	took := time.Since(began)

	var sent int64
	for i, res := range results {
		if !assert.NoError(t, res.err, "upload %d (%s)", i, flows[i%len(flows)].name) {
			continue
		}
		assert.Zero(t, bytesLost(contents[i], res.stored), "upload %d: bytes lost", i)
		sent += int64(len(contents[i]))
	}
	require.GreaterOrEqual(t, slicesDone.Load(), int64(10), "the token expiry never fired")
	assert.Equal(t, 2, r.srv.TokensIssued(), "one token, then exactly one refresh for all 32 uploads")
	unauthorized := 0
	for _, q := range r.srv.Requests() {
		if q.Code == 401 {
			unauthorized++
		}
	}
	assert.Positive(t, unauthorized, "no request ran into the expired token")
	t.Logf("%d uploads, %d bytes, %d slices in %v; %d requests refused with 401, %d tokens issued, %d requests in all",
		uploads, sent, slicesDone.Load(), took.Round(time.Millisecond), unauthorized, r.srv.TokensIssued(), r.tr.requests.Load())
}
