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

// sliceAhead gets what a slice needs before its bytes can leave, ahead of
// the send that needs it: V1's presigned URL, or V2's slice MD5 when the
// hashing pass did not know the slice size. When a slice has its value, the
// value of the next slice nobody has claimed is fetched in the background,
// so that its round trip and the rate limiter's wait (or its hashing)
// overlap the transfer instead of following it. At most limit values (one
// per worker) are pending or ready at a time, and a value is a short string:
// nothing of a slice is held. close cancels the fetches under way and waits
// for their goroutines. A fetch ahead that fails, or a value too old, is
// simply fetched again on demand. A nil *sliceAhead fetches on demand.
type sliceAhead struct {
	ctx    context.Context // the upload's; canceled by close
	cancel context.CancelFunc
	now    func() time.Time
	order  []slicePlan // in the order they are sent
	limit  int

	mu      sync.Mutex
	next    int // index in order of the next slice to fetch ahead
	low     int // index in order below which every slice is claimed
	demand  int // fetches on demand under way: a slice waits for them now
	claimed map[int]bool
	pending map[int]*aheadValue
	changed chan struct{} // closed (and replaced) when a value fetched ahead is known
	closed  bool
	wg      sync.WaitGroup
}

// aheadValue is one value being fetched ahead; done is closed when it is known.
type aheadValue struct {
	done chan struct{}
	p    slicePlan
	v    string
	at   time.Time
	err  error
}

// fetchFunc gets slice p's value (its presigned URL, its MD5).
type fetchFunc func(ctx context.Context, p slicePlan) (string, error)

func newSliceAhead(ctx context.Context, now func() time.Time, plan []slicePlan, skip map[int]bool, limit int) *sliceAhead {
	a := &sliceAhead{now: now, limit: limit, claimed: map[int]bool{}, pending: map[int]*aheadValue{}, changed: make(chan struct{})}
	a.ctx, a.cancel = context.WithCancel(ctx)
	for _, s := range plan {
		if !skip[s.No] {
			a.order = append(a.order, s)
		}
	}
	return a
}

// claim picks the slice that a free worker sends next (dflt when a is
// nil): the lowest one whose value fetched ahead is ready, so that a value
// that came back out of order (the rate limiter does not serve waiting
// calls in the order they came) leaves no connection idle while another
// slice's value waits unused. While values are being fetched and none is
// ready, it waits for the first; with none being fetched, it takes the
// lowest slice nobody has claimed. Each worker claims one slice of the
// plan, so all are claimed once.
func (a *sliceAhead) claim(ctx context.Context, dflt slicePlan) (slicePlan, error) {
	if a == nil {
		return dflt, nil
	}
	for {
		a.mu.Lock()
		var ready *aheadValue
		fetching := false
		for no, f := range a.pending {
			if a.claimed[no] {
				continue
			}
			select {
			case <-f.done:
				if ready == nil || no < ready.p.No {
					ready = f
				}
			default:
				fetching = true
			}
		}
		if ready != nil || !fetching {
			p := dflt
			if ready != nil {
				p = ready.p
			} else {
				for a.low < len(a.order) && a.claimed[a.order[a.low].No] {
					a.low++
				}
				if a.low < len(a.order) {
					p = a.order[a.low]
				}
			}
			a.claimed[p.No] = true
			a.mu.Unlock()
			return p, nil
		}
		changed := a.changed
		a.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return slicePlan{}, ctx.Err()
		}
	}
}

// get returns slice p's value: the one fetched ahead if it is younger than
// maxAge (0: any age), else a new one. Then it starts fetching the next
// slice's value. A second get of the same slice (a retry) fetches afresh.
func (a *sliceAhead) get(ctx context.Context, p slicePlan, maxAge time.Duration, fetch fetchFunc) (string, error) {
	if a == nil {
		return fetch(ctx, p)
	}
	a.mu.Lock()
	a.claimed[p.No] = true
	f := a.pending[p.No]
	delete(a.pending, p.No)
	a.mu.Unlock()
	if f != nil {
		select {
		case <-f.done:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	v, err := "", error(nil)
	if f != nil && f.err == nil && (maxAge == 0 || a.now().Sub(f.at) < maxAge) {
		v = f.v
	} else {
		a.mu.Lock()
		a.demand++
		a.mu.Unlock()
		v, err = fetch(ctx, p)
		a.mu.Lock()
		a.demand--
		a.mu.Unlock()
		if err != nil {
			return "", err
		}
	}
	a.ahead(fetch)
	return v, nil
}

// ahead starts fetching the values of the next unclaimed slices, until
// limit are pending. It waits while fetches on demand are under way, so
// that a slice that needs its value now is served (by the rate limiter, by
// the CPU) before one that will need it later.
func (a *sliceAhead) ahead(fetch fetchFunc) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for !a.closed && a.demand == 0 && len(a.pending) < a.limit {
		for a.next < len(a.order) && a.claimed[a.order[a.next].No] {
			a.next++
		}
		if a.next >= len(a.order) {
			return
		}
		p := a.order[a.next]
		a.next++
		f := &aheadValue{done: make(chan struct{}), p: p}
		a.pending[p.No] = f
		a.wg.Go(func() {
			f.v, f.err = fetch(a.ctx, p)
			f.at = a.now()
			a.mu.Lock()
			close(f.done)
			close(a.changed)
			a.changed = make(chan struct{})
			a.mu.Unlock()
		})
	}
}

// close cancels the fetches under way and waits for them.
func (a *sliceAhead) close() {
	if a == nil {
		return
	}
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.cancel()
	a.wg.Wait()
}
