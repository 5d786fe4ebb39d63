package pan123

import (
	"container/heap"
	"math/rand/v2"
	"testing"
	"time"
)

// simLink is how the simulated network and machine delay a call.
type simLink struct {
	latency, jitter time.Duration // one way: latency plus up to jitter
	wake            time.Duration // a sleeping caller wakes up to this late
}

// simRun is the outcome of one simulated free-tier run.
type simRun struct {
	elapsed time.Duration // first slot to the last accepted create's answer
	calls   int           // creates sent
	limited int           // creates answered 429
	failed  int           // creates that ran out of attempts
}

type simEvent struct {
	at     time.Time
	seq    int
	worker int
	kind   int // simTry, simArrive, simAnswer
}

const (
	simTry = iota
	simArrive
	simAnswer
)

type simQueue []simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any     { e := (*q)[len(*q)-1]; *q = (*q)[:len(*q)-1]; return e }

// simulateFreeTier drives one pacer with virtual time: files callers ask
// for a create slot at once, as many uploads through one Client do; a
// platform accepts one create per calendar second (its windows start
// phase before the first call) and answers 429 to the rest; a caller
// answered 429 backs off as the Client does (full jitter from
// DefaultRetryBase, DefaultMaxAttempts attempts) and asks again. The
// pacer starts at table, the create rate per second (5 by default, 1
// with WithTier(FreeTier)). Only pacer decisions and the simulated delays
// count: no wall time.
func simulateFreeTier(files int, table float64, adaptive bool, link simLink, phase time.Duration, seed uint64) simRun {
	rng := rand.New(rand.NewPCG(seed, 13))
	jit := func(d time.Duration) time.Duration {
		if d <= 0 {
			return 0
		}
		return time.Duration(rng.Int64N(int64(d) + 1))
	}
	p := &pacer{rate: table, ceil: table, adaptive: adaptive, span: paceSpan}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	serverStart := t0.Add(-phase)
	lastWindow, used := int64(-1), 0
	slots := make([]time.Time, files)
	ok := make([]bool, files)
	attempts := make([]int, files)
	var run simRun
	var q simQueue
	seq := 0
	add := func(e simEvent) { // ties go in the order the events were made
		seq++
		e.seq = seq
		heap.Push(&q, e)
	}
	for w := range files {
		add(simEvent{at: t0, worker: w, kind: simTry})
	}
	var last time.Time
	retry := retryPolicy{maxAttempts: DefaultMaxAttempts, base: DefaultRetryBase, cap: DefaultRetryCap}
	for q.Len() > 0 {
		e := heap.Pop(&q).(simEvent)
		switch e.kind {
		case simTry:
			if d := p.take(e.at); d > 0 {
				add(simEvent{at: e.at.Add(d + jit(link.wake)), worker: e.worker, kind: simTry})
				continue
			}
			slots[e.worker] = e.at
			run.calls++
			attempts[e.worker]++
			add(simEvent{at: e.at.Add(link.latency + jit(link.jitter)), worker: e.worker, kind: simArrive})
		case simArrive:
			w := int64(e.at.Sub(serverStart) / time.Second)
			if w != lastWindow {
				lastWindow, used = w, 0
			}
			ok[e.worker] = used < 1
			if ok[e.worker] {
				used++
			}
			add(simEvent{at: e.at.Add(link.latency + jit(link.jitter)), worker: e.worker, kind: simAnswer})
		case simAnswer:
			if ok[e.worker] {
				p.answer(slots[e.worker], e.at, nil)
				last = maxTime(last, e.at)
				continue
			}
			run.limited++
			p.answer(slots[e.worker], e.at, &APIError{Code: codeRateLimited})
			if attempts[e.worker] >= retry.maxAttempts {
				run.failed++
				continue
			}
			d := jit(min(retry.cap, retry.base<<(attempts[e.worker]-1)))
			add(simEvent{at: e.at.Add(d), worker: e.worker, kind: simTry})
		}
	}
	run.elapsed = last.Sub(t0)
	return run
}

// TestPacingFreeTierSimulated: the free-tier scenario of the benchmark
// (pan123bench -pacing) with the pacer's decisions only, unscaled, over
// 200 window phases per link, from a loopback link to one whose delays
// stand for a loaded machine. Every run of 20 files ends within the
// stated share of the 19 s the free table needs for 20 creates, with at
// most the stated creates answered 429; 4 is under 5% of the about 6 API
// calls each file needs (create, get_upload_url per slice,
// upload_complete), those others being within their limits. Fixed pacing
// is logged for comparison.
func TestPacingFreeTierSimulated(t *testing.T) {
	t.Parallel()
	const files = 20
	bound := time.Duration(files-1) * time.Second
	for _, tc := range []struct {
		link       simLink
		maxRatio   float64
		maxLimited int
	}{
		{simLink{latency: time.Millisecond, jitter: time.Millisecond, wake: time.Millisecond}, 1.15, 3},
		{simLink{latency: 20 * time.Millisecond, jitter: 30 * time.Millisecond, wake: 20 * time.Millisecond}, 1.15, 3},
		{simLink{latency: 100 * time.Millisecond, jitter: 200 * time.Millisecond, wake: 50 * time.Millisecond}, 1.3, 5},
	} {
		worstRatio, worstLimited := 0.0, 0
		for seed := range uint64(200) {
			phase := time.Duration(seed) * time.Second / 200
			r := simulateFreeTier(files, 5, true, tc.link, phase, seed)
			ratio := r.elapsed.Seconds() / bound.Seconds()
			worstRatio, worstLimited = max(worstRatio, ratio), max(worstLimited, r.limited)
			if r.failed > 0 || ratio > tc.maxRatio || r.limited > tc.maxLimited {
				t.Errorf("link %+v, phase %v: %v (%.3fx), %d of %d creates answered 429, %d failed",
					tc.link, phase, r.elapsed, ratio, r.limited, r.calls, r.failed)
			}
		}
		f := simulateFreeTier(files, 5, false, tc.link, 0, 1)
		t.Logf("link %+v: adaptive worst %.3fx, %d creates answered 429; fixed %.3fx, %d of %d creates answered 429, %d uploads failed",
			tc.link, worstRatio, worstLimited, f.elapsed.Seconds()/bound.Seconds(), f.limited, f.calls, f.failed)
	}
}

// TestPacingFreeTierStatedSimulated: with the tier stated (create paced at
// 1/s from the start), the same scenario meets no 429 on a loopback link,
// whatever the window phase, and takes the bound.
func TestPacingFreeTierStatedSimulated(t *testing.T) {
	t.Parallel()
	link := simLink{latency: time.Millisecond, jitter: time.Millisecond, wake: time.Millisecond}
	for seed := range uint64(200) {
		phase := time.Duration(seed) * time.Second / 200
		r := simulateFreeTier(20, 1, true, link, phase, seed)
		if r.limited > 0 || r.elapsed > 19100*time.Millisecond {
			t.Errorf("phase %v: %v, %d of %d creates answered 429", phase, r.elapsed, r.limited, r.calls)
		}
	}
}
