package pan123

import (
	"sync"
)

// Phase is the stage an upload is in.
type Phase int

// Phases in the order an upload goes through them.
const (
	PhaseHashing    Phase = iota + 1 // reading the source once for its MD5 (or spooling a stream)
	PhaseUploading                   // sending slices
	PhaseCompleting                  // upload_complete and polling for the result
	PhaseDone                        // finished: the file exists
)

// String names the phase: "hashing", "uploading", "completing" or "done".
func (p Phase) String() string {
	switch p {
	case PhaseHashing:
		return "hashing"
	case PhaseUploading:
		return "uploading"
	case PhaseCompleting:
		return "completing"
	case PhaseDone:
		return "done"
	}
	return "unknown"
}

// Event says what a Progress report is about.
type Event int

// Progress events.
const (
	EventBytes        Event = iota + 1 // Done moved forward
	EventPhase                         // a new phase began (Done and Total reset)
	EventSliceDone                     // slice SliceNo was accepted by the platform
	EventSliceRetry                    // slice SliceNo failed (Err) and will be sent again; Done rolled back
	EventReused                        // instant upload: the platform already had the content
	EventSliceSkipped                  // resume: slice SliceNo was verified on the platform and not sent again
	EventRestart                       // resume: the saved session could not be used (Err says why); starting over
)

// Progress is one report to the function given with WithProgress.
type Progress struct {
	Name    string // remote file name
	Phase   Phase
	Event   Event
	Done    int64 // bytes hashed (PhaseHashing) or sent (PhaseUploading) so far
	Total   int64 // file size
	SliceNo int   // for slice events
	Slices  int   // number of slices (from PhaseUploading on)
	Err     error // for EventSliceRetry and EventRestart
}

// reporter serialises progress calls from the workers: the callback never
// runs twice at once, and sees Done move only as bytes move.
type reporter struct {
	fn   func(Progress)
	mu   sync.Mutex
	p    Progress
	size int64 // the file size: Total outside a partial hashing phase
}

// setSize records the file size once a stream of unknown length is spooled.
func (r *reporter) setSize(n int64) {
	if r != nil {
		r.mu.Lock()
		r.size = n
		r.mu.Unlock()
	}
}

func newReporter(fn func(Progress), name string, total int64) *reporter {
	return &reporter{fn: fn, p: Progress{Name: name, Total: total}, size: total}
}

func (r *reporter) emit(mutate func(p *Progress)) {
	if r == nil || r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	mutate(&r.p)
	p := r.p
	r.p.SliceNo, r.p.Err = 0, nil
	r.fn(p)
}

func (r *reporter) phase(ph Phase, slices int) {
	r.phaseOf(ph, slices, -1)
}

// phaseOf starts a phase whose Total is total bytes (-1: the file size), as
// when a resume hashes only the slices it checks.
func (r *reporter) phaseOf(ph Phase, slices int, total int64) {
	r.emit(func(p *Progress) {
		if total < 0 {
			total = r.size
		}
		p.Phase, p.Event, p.Done, p.Slices, p.Total = ph, EventPhase, 0, slices, total
	})
}

func (r *reporter) add(n int64) {
	r.emit(func(p *Progress) { p.Event, p.Done = EventBytes, p.Done+n })
}

func (r *reporter) slice(ev Event, no int, delta int64, err error) {
	r.emit(func(p *Progress) { p.Event, p.SliceNo, p.Done, p.Err = ev, no, p.Done+delta, err })
}
