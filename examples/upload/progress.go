package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/go-pan123/pan123"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressView shows the progress of one upload at a time.
type progressView interface {
	// update receives the SDK's progress reports (pan123.WithProgress):
	// never two at once, but from the upload's goroutines, so it must be quick.
	update(p pan123.Progress)
	// end is called after the upload call returns, whatever its outcome.
	end()
}

// newView picks the display: a bar on a terminal, plain lines otherwise
// (CI logs, pipes, files), or nothing.
func newView(mode string, w io.Writer) progressView {
	if mode == "auto" {
		mode = "plain"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	switch mode {
	case "bar":
		// Fill the terminal's width when it is known and wide enough;
		// otherwise (a pty without a size, a narrow window) a fixed bar.
		wide := false
		if f, ok := w.(*os.File); ok {
			cols, _, err := term.GetSize(int(f.Fd()))
			wide = err == nil && cols >= 80
		}
		return &barView{w: w, fullWidth: wide}
	case "plain":
		return &plainView{w: w}
	}
	return noView{}
}

type noView struct{}

func (noView) update(pan123.Progress) {}
func (noView) end()                   {}

// barView draws one progress bar per phase: hashing, then uploading, with
// bytes, speed and the estimated time left.
type barView struct {
	w         io.Writer
	fullWidth bool
	bar       *progressbar.ProgressBar
	skipped   int // slices a resume found on the platform
	resumed   resumeBase
}

// resumeBase keeps a resumed upload's speed honest: the verified slices are
// reported as done in one step right after the uploading phase starts, and
// are not bytes sent in this run.
type resumeBase struct {
	waiting bool  // the next bytes report is the verified slices
	base    int64 // bytes already on the platform
}

// start is called at each phase; resumed says the phase resumes an upload.
func (r *resumeBase) start(resumed bool) { *r = resumeBase{waiting: resumed} }

// take reports whether p is the verified slices' report, and keeps its size.
func (r *resumeBase) take(p pan123.Progress) bool {
	if !r.waiting || p.Event != pan123.EventBytes {
		return false
	}
	r.waiting, r.base = false, p.Done
	return true
}

func (v *barView) update(p pan123.Progress) {
	if v.resumed.take(p) {
		// The bar counts the bytes this run sends.
		v.bar = v.newBar(fmt.Sprintf("%-9s %s", p.Phase, p.Name), p.Total-p.Done)
		return
	}
	switch p.Event {
	case pan123.EventPhase:
		v.finish()
		line := resumeLine(p, &v.skipped)
		if line != "" {
			fmt.Fprintln(v.w, line)
		}
		v.resumed.start(line != "")
		if (p.Phase == pan123.PhaseHashing || p.Phase == pan123.PhaseUploading) && p.Total > 0 && line == "" {
			v.bar = v.newBar(fmt.Sprintf("%-9s %s", p.Phase, p.Name), p.Total)
		}
	case pan123.EventReused:
		v.finish()
	case pan123.EventSliceSkipped:
		v.skipped++
	case pan123.EventRestart:
		v.finish()
		fmt.Fprintf(v.w, "%s: starting over: %v\n", p.Name, p.Err)
	case pan123.EventSliceRetry:
		if v.bar != nil {
			_, _ = progressbar.Bprintln(v.bar, fmt.Sprintf("slice %d failed, sending it again: %v", p.SliceNo, p.Err))
		}
	}
	if v.bar != nil && p.Event != pan123.EventPhase {
		_ = v.bar.Set64(p.Done - v.resumed.base) // Done may go back when a slice is retried
	}
}

func (v *barView) newBar(desc string, total int64) *progressbar.ProgressBar {
	w := v.w
	width := progressbar.OptionSetWidth(30)
	if v.fullWidth {
		width = progressbar.OptionFullWidth()
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionUseIECUnits(true),
		progressbar.OptionSetPredictTime(true), // ETA
		width,
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
}

// finish completes the current bar: filled when its phase ended, left as
// it is (with a line break) when the upload stopped halfway.
func (v *barView) finish() {
	if v.bar == nil {
		return
	}
	if !v.bar.IsFinished() {
		if st := v.bar.State(); st.CurrentNum >= st.Max {
			_ = v.bar.Finish()
		} else {
			_ = v.bar.Exit()
		}
	}
	v.bar = nil
}

func (v *barView) end() { v.finish() }

// plainView prints a line when a phase starts and one per 10 % of it.
type plainView struct {
	w       io.Writer
	step    int // last 10 % step printed in this phase
	start   time.Time
	skipped int // slices a resume found on the platform
	resumed resumeBase
}

// resumeLine says, when a resumed upload starts sending, how many slices
// were already on the platform (and verified), and resets the count.
func resumeLine(p pan123.Progress, skipped *int) string {
	if p.Phase != pan123.PhaseUploading || *skipped == 0 {
		return ""
	}
	line := fmt.Sprintf("%s: resuming: %d of %d slices are already on the platform (MD5 verified)", p.Name, *skipped, p.Slices)
	*skipped = 0
	return line
}

func (v *plainView) update(p pan123.Progress) {
	if v.resumed.take(p) {
		v.start = time.Now() // the speed counts from here, over the bytes sent
		return
	}
	switch p.Event {
	case pan123.EventPhase:
		v.step, v.start = 0, time.Now()
		line := resumeLine(p, &v.skipped)
		if line != "" {
			fmt.Fprintln(v.w, line)
		}
		v.resumed.start(line != "")
		switch p.Phase {
		case pan123.PhaseHashing:
			fmt.Fprintf(v.w, "%s: hashing %s\n", p.Name, formatSize(p.Total))
		case pan123.PhaseUploading:
			fmt.Fprintf(v.w, "%s: uploading %s in %s\n", p.Name, formatSize(p.Total), plural(p.Slices, "slice"))
		case pan123.PhaseCompleting:
			fmt.Fprintf(v.w, "%s: completing\n", p.Name)
		}
		return
	case pan123.EventReused:
		fmt.Fprintf(v.w, "%s: instant upload: the platform already has this content, no bytes sent\n", p.Name)
		return
	case pan123.EventSliceRetry:
		fmt.Fprintf(v.w, "%s: slice %d failed, sending it again: %v\n", p.Name, p.SliceNo, p.Err)
	case pan123.EventRestart:
		fmt.Fprintf(v.w, "%s: starting over: %v\n", p.Name, p.Err)
	case pan123.EventSliceSkipped:
		v.skipped++
	}
	if (p.Phase != pan123.PhaseHashing && p.Phase != pan123.PhaseUploading) || p.Total <= 0 {
		return
	}
	if step := int(p.Done * 10 / p.Total); step > v.step {
		v.step = step
		rate := ""
		if s := time.Since(v.start).Seconds(); s > 0 && p.Done > v.resumed.base {
			rate = ", " + formatSize(int64(float64(p.Done-v.resumed.base)/s)) + "/s"
		}
		fmt.Fprintf(v.w, "%s: %s %3d%% (%s of %s%s)\n", p.Name, p.Phase, step*10, formatSize(p.Done), formatSize(p.Total), rate)
	}
}

func (v *plainView) end() {}

// plural renders "1 slice", "3 slices".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
