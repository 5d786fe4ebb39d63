package pan123

import (
	"context"
	"sync"
	"time"
)

// urlMaxAge is how long a presigned URL fetched ahead may wait for its PUT.
// The platform does not document how long its URLs live; they are known to
// expire. A URL older than this is dropped and a fresh one fetched.
const urlMaxAge = time.Minute

// urlAhead fetches presigned URLs ahead of the PUTs that need them: when a
// slice has its URL, the URL of the next slice nobody has claimed is fetched
// in the background, so that its round trip and the rate limiter's wait
// overlap the transfer instead of following it. At most limit URLs (one per
// worker) are pending or ready at a time; close cancels them and waits for
// their goroutines. A prefetch that fails, or a URL too old, is simply
// fetched again on demand. A nil *urlAhead fetches every URL on demand.
type urlAhead struct {
	ctx    context.Context // the upload's; canceled by close
	cancel context.CancelFunc
	now    func() time.Time
	order  []int // slice numbers, in the order they are sent
	limit  int

	mu      sync.Mutex
	next    int // index in order of the next slice to fetch ahead
	demand  int // fetches on demand under way: a slice waits for them now
	claimed map[int]bool
	pending map[int]*aheadURL
	closed  bool
	wg      sync.WaitGroup
}

// aheadURL is one URL being fetched ahead; done is closed when it is known.
type aheadURL struct {
	done chan struct{}
	url  string
	at   time.Time
	err  error
}

// fetchURL gets slice no's presigned URL.
type fetchURL func(ctx context.Context, no int) (string, error)

func newURLAhead(ctx context.Context, now func() time.Time, plan []slicePlan, skip map[int]bool, limit int) *urlAhead {
	a := &urlAhead{now: now, limit: limit, claimed: map[int]bool{}, pending: map[int]*aheadURL{}}
	a.ctx, a.cancel = context.WithCancel(ctx)
	for _, s := range plan {
		if !skip[s.No] {
			a.order = append(a.order, s.No)
		}
	}
	return a
}

// get returns slice no's URL: the one fetched ahead if it is fresh, else a
// new one. Then it starts fetching the next slice's URL.
func (a *urlAhead) get(ctx context.Context, no int, fetch fetchURL) (string, error) {
	if a == nil {
		return fetch(ctx, no)
	}
	a.mu.Lock()
	a.claimed[no] = true
	f := a.pending[no]
	delete(a.pending, no)
	a.mu.Unlock()
	if f != nil {
		select {
		case <-f.done:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	u, err := "", error(nil)
	if f != nil && f.err == nil && a.now().Sub(f.at) < urlMaxAge {
		u = f.url
	} else {
		a.mu.Lock()
		a.demand++
		a.mu.Unlock()
		u, err = fetch(ctx, no)
		a.mu.Lock()
		a.demand--
		a.mu.Unlock()
		if err != nil {
			return "", err
		}
	}
	a.ahead(fetch)
	return u, nil
}

// ahead starts fetching the URLs of the next unclaimed slices, until limit
// are pending. It waits while fetches on demand are under way, so that the
// rate limiter serves a slice that needs its URL now before one that will
// need it later.
func (a *urlAhead) ahead(fetch fetchURL) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for !a.closed && a.demand == 0 && len(a.pending) < a.limit {
		for a.next < len(a.order) && a.claimed[a.order[a.next]] {
			a.next++
		}
		if a.next >= len(a.order) {
			return
		}
		no := a.order[a.next]
		a.next++
		f := &aheadURL{done: make(chan struct{})}
		a.pending[no] = f
		a.wg.Go(func() {
			defer close(f.done)
			f.url, f.err = fetch(a.ctx, no)
			f.at = a.now()
		})
	}
}

// close cancels the fetches under way and waits for them.
func (a *urlAhead) close() {
	if a == nil {
		return
	}
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.cancel()
	a.wg.Wait()
}
