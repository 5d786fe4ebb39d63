package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/go-pan123/pan123"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// uploadTree uploads the folder dir with UploadDir (-r) into a remote folder
// of the same name (made if missing, as cp -r does): one overall progress
// for the tree on stderr, one line per failed file on stderr and a summary
// on stdout.
func uploadTree(ctx context.Context, c *pan123.Client, up *pan123.Uploader, cfg config, dir string, stdout, stderr io.Writer) error {
	parent, _ := strconv.ParseInt(cfg.parent, 10, 64) // checked by parseArgs; "" is 0, the root
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	root, err := c.Drive.EnsureDir(ctx, parent, filepath.Base(abs))
	if err != nil {
		return err
	}
	show := treeView(cfg.progress, stderr)
	start := time.Now()
	res, err := up.UploadDir(ctx, dir, pan123.DirInput{ParentFileID: root, Duplicate: cfg.duplicate, Progress: show.update})
	show.end()
	n := map[pan123.Outcome]int{}
	var sent int64
	for _, f := range res.Files {
		n[f.Outcome]++
		switch f.Outcome {
		case pan123.OutcomeUploaded:
			sent += f.Size
		case pan123.OutcomeFailed:
			fmt.Fprintf(stderr, "upload: %s\n", describe(f.Path, f.Err))
		case pan123.OutcomeIgnored:
			fmt.Fprintf(stderr, "upload: %s: ignored: %v\n", f.Path, f.Err)
		}
	}
	fmt.Fprintf(stdout, "uploaded %s: %d uploaded (%s), %d instant, %d already there, %d failed, %d ignored; %d folders created (%s)\n",
		dir, n[pan123.OutcomeUploaded], formatSize(sent), n[pan123.OutcomeReused], n[pan123.OutcomeSkipped],
		n[pan123.OutcomeFailed], n[pan123.OutcomeIgnored], res.Folders, since(start))
	if err != nil && n[pan123.OutcomeFailed] > 0 && ctx.Err() == nil {
		return errTreeFailed // each failure is printed above
	}
	return err
}

// errTreeFailed: some files of a tree failed; they were reported one by one.
var errTreeFailed = errors.New("some files failed")

// dirView shows a tree's progress: one bar over the tree's bytes, or a
// line per 10 %.
type dirView struct {
	w    io.Writer
	bar  *progressbar.ProgressBar
	step int
}

func treeView(mode string, w io.Writer) *dirView {
	v := &dirView{w: w}
	if f, ok := w.(*os.File); mode == "bar" || (mode == "auto" && ok && term.IsTerminal(int(f.Fd()))) {
		v.bar = progressbar.NewOptions64(1,
			progressbar.OptionSetWriter(w),
			progressbar.OptionShowBytes(true),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
	} else if mode == "none" {
		v.w = io.Discard
	}
	return v
}

func (v *dirView) update(p pan123.DirProgress) {
	desc := fmt.Sprintf("files %d/%d", p.FilesDone, p.FilesTotal)
	if v.bar != nil {
		v.bar.ChangeMax64(max(p.BytesTotal, 1))
		v.bar.Describe(desc)
		_ = v.bar.Set64(p.BytesDone)
		return
	}
	if p.BytesTotal > 0 {
		if step := int(p.BytesDone * 10 / p.BytesTotal); step > v.step {
			v.step = step
			fmt.Fprintf(v.w, "tree: %d%%, %s, %s of %s\n", step*10, desc, formatSize(p.BytesDone), formatSize(p.BytesTotal))
		}
	}
}

func (v *dirView) end() {
	if v.bar != nil && !v.bar.IsFinished() {
		_ = v.bar.Exit()
	}
}
