package pan123

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Uploader puts files into a 123pan drive or image bed: it validates the
// input, hashes the source once, creates the upload, sends slices
// concurrently with retries, and waits for the platform to finish the file.
// An Uploader is immutable and safe for concurrent use; per-call options
// apply to a copy of its settings.
type Uploader struct {
	c   *Client
	cfg uploadConfig
}

// NewUploader returns an Uploader that sends through c. Invalid options are
// reported (wrapped in ErrInvalidInput) by every upload call, before any request.
func NewUploader(c *Client, opts ...UploadOption) *Uploader {
	cfg := defaultUploadConfig()
	cfg.apply(opts)
	if c == nil {
		cfg.fail("NewUploader: nil Client")
	}
	return &Uploader{c: c, cfg: cfg}
}

func (o *uploadConfig) apply(opts []UploadOption) {
	for _, opt := range opts {
		if opt == nil {
			o.fail("nil UploadOption")
			continue
		}
		opt(o)
	}
}

// config returns the Uploader's settings with per-call options applied.
func (u *Uploader) config(ctx context.Context, opts []UploadOption) (uploadConfig, error) {
	if err := checkCtx(ctx); err != nil {
		return u.cfg, err
	}
	cfg := u.cfg
	cfg.errs = append([]error(nil), u.cfg.errs...)
	cfg.apply(opts)
	if len(cfg.errs) > 0 {
		return cfg, fmt.Errorf("%w: %w", ErrInvalidInput, errors.Join(cfg.errs...))
	}
	if cfg.bandwidth > 0 && cfg.bw == nil {
		cfg.bw = newBandwidth(cfg.bandwidth) // one cap per call
	}
	return cfg, nil
}

// FileInput describes a drive upload.
type FileInput struct {
	ParentFileID int64     // parent folder; 0 = root
	Name         string    // remote name; UploadFile defaults it to the file's base name
	Duplicate    Duplicate // same-name policy; zero sends none (the platform then refuses a same-name file)
	ContainDir   bool      // Name is a "/"-separated path whose folders are created
	Size         int64     // optional for Upload: the stream's length, checked when given
	MD5          string    // optional: the content's MD5 (hex); skips the hashing pass of a file
	// SHA1 is optional: the content's SHA-1 (hex). When given, an instant
	// upload by SHA-1 is tried before the source is read; the result's MD5
	// is then empty.
	SHA1 string
}

// FileResult is a finished drive upload.
type FileResult struct {
	FileID int64  // the new file's ID
	Name   string // the name asked for; the platform may suffix it under KeepBoth (see WithStoredName)
	Size   int64
	MD5    string // lowercase hex
	Reused bool   // instant upload: the platform already had the content, no bytes were sent
}

// ImageInput describes an image-bed upload.
type ImageInput struct {
	ParentID string // parent folder; "" = root
	Name     string // remote name; UploadImageFile defaults it to the file's base name
	Size     int64  // optional for UploadImage: the stream's length, checked when given
	MD5      string // optional: the content's MD5 (hex)
}

// ImageResult is a finished image-bed upload.
type ImageResult struct {
	FileID string // the image's opaque ID
	Name   string
	Size   int64
	MD5    string
	Reused bool
}

// UploadFile uploads the file at path into the drive. With WithCheckpointDir
// an interrupted upload of the same file to the same place continues where
// it stopped.
func (u *Uploader) UploadFile(ctx context.Context, path string, in FileInput, opts ...UploadOption) (*FileResult, error) {
	if in.Name == "" {
		in.Name = filepath.Base(path)
	}
	t, err := u.driveTarget(in)
	if err != nil {
		return nil, err
	}
	res, err := driveResult(u.uploadPath(ctx, path, in.Size, in.MD5, t, opts))
	return u.storedName(ctx, in, opts, res, err)
}

// Upload uploads everything r yields into the drive; in.Name is required.
// A reader that is also an io.ReaderAt and io.Seeker that can seek (a
// regular *os.File, a *bytes.Reader) is read in place from its current
// offset; any other reader (a pipe such as os.Stdin in `tar c dir | prog`)
// is spooled once to a temporary file while hashed (see WithTempDir).
func (u *Uploader) Upload(ctx context.Context, r io.Reader, in FileInput, opts ...UploadOption) (*FileResult, error) {
	t, err := u.driveTarget(in)
	if err != nil {
		return nil, err
	}
	res, err := driveResult(u.runReader(ctx, r, in.Size, in.MD5, t, opts))
	return u.storedName(ctx, in, opts, res, err)
}

// UploadImageFile uploads the file at path into the image bed. Resume works
// as for [Uploader.UploadFile].
func (u *Uploader) UploadImageFile(ctx context.Context, path string, in ImageInput, opts ...UploadOption) (*ImageResult, error) {
	if in.Name == "" {
		in.Name = filepath.Base(path)
	}
	t, err := u.imageTarget(in)
	if err != nil {
		return nil, err
	}
	return imageResult(u.uploadPath(ctx, path, in.Size, in.MD5, t, opts))
}

// uploadPath uploads a file by path, through a checkpoint when configured.
func (u *Uploader) uploadPath(ctx context.Context, path string, size int64, sum string, t target, opts []UploadOption) (*upload, error) {
	cfg, err := u.config(ctx, opts)
	if err != nil {
		return nil, err
	}
	src, err := openFileSource(path, size)
	if err != nil {
		return nil, err
	}
	defer src.close()
	t = resolveTarget(cfg, t, src.size)
	rep := newReporter(cfg.progress, t.name(), src.size)
	if res, err := sha1First(ctx, t, src.size, rep); res != nil || err != nil {
		return res, err
	}
	if cfg.checkpointDir != "" {
		return u.runCheckpointed(ctx, cfg, src, sum, t, rep)
	}
	return u.runWith(ctx, cfg, src, sum, t, rep, nil)
}

// UploadImage uploads everything r yields into the image bed; in.Name is
// required. Readers are handled as by [Uploader.Upload].
func (u *Uploader) UploadImage(ctx context.Context, r io.Reader, in ImageInput, opts ...UploadOption) (*ImageResult, error) {
	t, err := u.imageTarget(in)
	if err != nil {
		return nil, err
	}
	res, err := u.runReader(ctx, r, in.Size, in.MD5, t, opts)
	return imageResult(res, err)
}

func (u *Uploader) driveTarget(in FileInput) (target, error) {
	if u.c == nil {
		return nil, invalidInput("nil Client")
	}
	var err error
	if in.ContainDir {
		err = validatePath(in.Name)
	} else {
		err = validateName(in.Name)
	}
	if err == nil && (in.Duplicate < DuplicateUnset || in.Duplicate > Overwrite) {
		err = invalidInput("unknown Duplicate policy %d", in.Duplicate)
	}
	if err == nil && in.ParentFileID < 0 {
		err = invalidInput("negative ParentFileID %d", in.ParentFileID)
	}
	if err == nil && in.SHA1 != "" {
		_, err = validSHA1(in.SHA1) // before any read or request, streams included
	}
	if err == nil && in.MD5 != "" {
		_, err = validMD5(in.MD5)
	}
	return &driveTarget{c: u.c, in: in}, err
}

func (u *Uploader) imageTarget(in ImageInput) (target, error) {
	if u.c == nil {
		return nil, invalidInput("nil Client")
	}
	err := validateName(in.Name)
	if err == nil && in.MD5 != "" {
		_, err = validMD5(in.MD5)
	}
	return &imageTarget{c: u.c, in: in}, err
}

// upload is what run hands back to the typed wrappers.
type upload struct {
	file   fileRef
	name   string
	size   int64
	md5    string
	reused bool
}

func driveResult(r *upload, err error) (*FileResult, error) {
	if err != nil {
		return nil, err
	}
	if r.file.num <= 0 {
		return nil, protocolError("file ID %q", r.file)
	}
	return &FileResult{FileID: r.file.num, Name: r.name, Size: r.size, MD5: r.md5, Reused: r.reused}, nil
}

func imageResult(r *upload, err error) (*ImageResult, error) {
	if err != nil {
		return nil, err
	}
	return &ImageResult{FileID: r.file.str, Name: r.name, Size: r.size, MD5: r.md5, Reused: r.reused}, nil
}

// source is what slices are read from: a file, a seekable reader, or a spool.
type source struct {
	r     io.ReaderAt
	off   int64 // where the content starts in r
	size  int64
	path  string // the file's path, for checkpoints; "" for streams
	mtime time.Time
	close func()
}

func openFileSource(path string, wantSize int64) (*source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, mark(ErrInvalidInput, err) // *PathError: errors.Is(err, fs.ErrNotExist) holds
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("not a regular file (%s)", st.Mode().Type())
	}
	if err == nil {
		err = validSize(st.Size())
	}
	if err == nil && wantSize != 0 && wantSize != st.Size() {
		err = fmt.Errorf("FileInput.Size is %d bytes, the file has %d", wantSize, st.Size())
	}
	if err != nil {
		f.Close()
		if errors.Is(err, ErrInvalidInput) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return nil, invalidInput("%s: %v", path, err)
	}
	return &source{r: f, size: st.Size(), path: path, mtime: st.ModTime(), close: func() { f.Close() }}, nil
}

// runReader prepares a source from r and runs the upload.
func (u *Uploader) runReader(ctx context.Context, r io.Reader, size int64, sum string, t target, opts []UploadOption) (*upload, error) {
	if r == nil {
		return nil, invalidInput("nil reader")
	}
	if size != 0 {
		if err := validSize(size); err != nil {
			return nil, err
		}
	}
	cfg, err := u.config(ctx, opts)
	if err != nil {
		return nil, err
	}
	if ra, ok := r.(io.ReaderAt); ok {
		if sk, ok := r.(io.Seeker); ok && canSeek(sk) {
			src, err := seekableSource(ra, sk, size)
			if err != nil {
				return nil, err
			}
			t = resolveTarget(cfg, t, src.size)
			rep := newReporter(cfg.progress, t.name(), src.size)
			if res, err := sha1First(ctx, t, src.size, rep); res != nil || err != nil {
				return res, err
			}
			return u.runWith(ctx, cfg, src, sum, t, rep, nil)
		}
	}
	// A stream: spool it once while hashing; a given MD5 is checked, not trusted.
	rep := newReporter(cfg.progress, t.name(), size)
	if size > 0 {
		if res, err := sha1First(ctx, t, size, rep); res != nil || err != nil {
			return res, err
		}
	}
	rep.phase(PhaseHashing, 0)
	src, got, err := spool(ctx, r, cfg.tempDir, size, rep)
	if err != nil {
		return nil, err
	}
	defer src.close()
	rep.setSize(src.size)
	if sum != "" && !strings.EqualFold(sum, got) {
		return nil, invalidInput("MD5 given %s, the stream's content has %s", sum, got)
	}
	t = resolveTarget(cfg, t, src.size)
	if size == 0 {
		if res, err := sha1First(ctx, t, src.size, rep); res != nil || err != nil {
			return res, err
		}
	}
	return u.upload(ctx, cfg, src, got, t, rep, nil)
}

// canSeek tells whether sk really seeks: an *os.File may be a pipe, a
// terminal or a socket, which are streamed (spooled) instead.
func canSeek(sk io.Seeker) bool {
	_, err := sk.Seek(0, io.SeekCurrent)
	return err == nil
}

func seekableSource(ra io.ReaderAt, sk io.Seeker, want int64) (*source, error) {
	cur, err := sk.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, invalidInput("seek: %v", err)
	}
	end, err := sk.Seek(0, io.SeekEnd)
	if err == nil {
		_, err = sk.Seek(cur, io.SeekStart)
	}
	if err != nil {
		return nil, invalidInput("seek: %v", err)
	}
	size := end - cur
	if err := validSize(size); err != nil {
		return nil, err
	}
	if want != 0 && want != size {
		return nil, invalidInput("FileInput.Size is %d bytes, the reader has %d", want, size)
	}
	return &source{r: ra, off: cur, size: size, close: func() {}}, nil
}

// spool copies r into a temporary file while hashing it. The file is removed
// when the returned source is closed, or at once on error.
func spool(ctx context.Context, r io.Reader, dir string, want int64, rep *reporter) (*source, string, error) {
	f, err := os.CreateTemp(dir, "pan123-spool-*")
	if err != nil {
		return nil, "", wrapf(err, "spool")
	}
	remove := func() { f.Close(); os.Remove(f.Name()) }
	h := md5.New()
	w := io.MultiWriter(f, h, progressWriter{rep})
	// Read one byte past the limit to notice streams that are too long.
	bp := hashBufs.Get().(*[]byte)
	defer hashBufs.Put(bp)
	n, err := io.CopyBuffer(w, ctxReader{ctx, io.LimitReader(r, MaxFileSize+1)}, *bp)
	if err == nil {
		err = validSize(n)
	}
	if err == nil && want != 0 && n != want {
		err = invalidInput("FileInput.Size is %d bytes, the reader gave %d", want, n)
	}
	if err != nil {
		remove()
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		if errors.Is(err, ErrInvalidInput) {
			return nil, "", err
		}
		return nil, "", wrapf(err, "spool")
	}
	return &source{r: f, size: n, close: remove}, hex.EncodeToString(h.Sum(nil)), nil
}

type progressWriter struct{ rep *reporter }

func (w progressWriter) Write(p []byte) (int, error) { w.rep.add(int64(len(p))); return len(p), nil }

// ctxReader stops a copy when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// runWith hashes src unless sum is given, then runs the flow.
func (u *Uploader) runWith(ctx context.Context, cfg uploadConfig, src *source, sum string, t target, rep *reporter, track tracker) (*upload, error) {
	if sum != "" {
		var err error
		if sum, err = validMD5(sum); err != nil {
			return nil, err
		}
	} else {
		// All input checks are done: the token may be fetched meanwhile.
		// A local failure is returned at once: the wait for the fetch is
		// cancelled, not sat out.
		wctx, stopWarm := context.WithCancel(ctx)
		defer stopWarm()
		defer u.c.warmToken(wctx)()
		rep.phase(PhaseHashing, 0)
		var err error
		sum, err = t.hash(ctxReaderAt{ctx, src.r}, src.off, src.size, func(n int) { rep.add(int64(n)) })
		if err != nil {
			stopWarm()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, wrapf(err, "hash %s", t.name())
		}
	}
	return u.upload(ctx, cfg, src, sum, t, rep, track)
}

// ctxReaderAt stops a hashing pass when ctx is done.
type ctxReaderAt struct {
	ctx context.Context
	r   io.ReaderAt
}

func (r ctxReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.ReadAt(p, off)
}

// session is a live upload session on the platform.
type session struct {
	preuploadID string
	sliceSize   int64
	servers     []string    // V2 upload hosts
	ahead       *sliceAhead // V1 URLs or V2 slice MD5s got ahead, while slices are sent
}

// upload is the flow after hashing: create, slices, complete.
func (u *Uploader) upload(ctx context.Context, cfg uploadConfig, src *source, sum string, t target, rep *reporter, track tracker) (*upload, error) {
	if w, ok := t.(wholeFile); ok {
		return w.uploadWhole(ctx, cfg, src, sum, rep)
	}
	c, err := u.createReconciled(ctx, t, sum, src.size)
	if err != nil {
		return nil, &UploadError{FileName: t.name(), Err: err}
	}
	if c.reuse {
		if !c.file.known() {
			return nil, &UploadError{FileName: t.name(), Err: protocolError("create answered reuse=true without a file ID")}
		}
		rep.slice(EventReused, 0, 0, nil)
		rep.phase(PhaseDone, 0)
		return &upload{file: c.file, name: t.name(), size: src.size, md5: sum, reused: true}, nil
	}
	if c.preuploadID == "" {
		return nil, &UploadError{FileName: t.name(), Err: protocolError("create answered no preuploadID")}
	}
	sess := session{preuploadID: c.preuploadID, sliceSize: c.sliceSize, servers: c.servers}
	if track != nil {
		track.started(sess, sum)
	}
	j := &job{cfg: cfg, c: u.c, t: t, src: src, md5: sum, sess: sess, rep: rep, track: track}
	return j.run(ctx)
}

// run drives the job to the end and packs the result.
func (j *job) run(ctx context.Context) (*upload, error) {
	id, err := j.finish(ctx)
	if err != nil {
		return nil, err
	}
	return &upload{file: id, name: j.t.name(), size: j.src.size, md5: j.md5}, nil
}

// job is one upload session being driven to completion.
type job struct {
	cfg   uploadConfig
	c     *Client
	t     target
	src   *source
	md5   string
	sess  session
	rep   *reporter
	skip  map[int]bool // slices verified on the platform (resume)
	track tracker      // checkpoint; nil without WithCheckpointDir

	successes atomic.Int64 // slices sent so far (renews the retry budget, see sendSlice)
}

// tracker records an upload's progress so that it can be resumed.
type tracker interface {
	started(s session, md5 string) // create answered with a session
	sliceDone(no int)              // the platform accepted slice no
}

// finish sends the slices not skipped and completes the session. Errors come
// back as *UploadError carrying the session.
func (j *job) finish(ctx context.Context) (fileRef, error) {
	plan, err := planSlices(j.src.size, j.sess.sliceSize)
	if err != nil {
		return fileRef{}, j.fail(0, err)
	}
	j.rep.phase(PhaseUploading, len(plan))
	if done := j.skippedBytes(plan); done > 0 {
		j.rep.add(done)
	}
	j.sess.ahead = newSliceAhead(ctx, j.c.now, plan, j.skip, j.cfg.concurrency)
	err = j.sendSlices(ctx, plan)
	j.sess.ahead.close()
	j.sess.ahead = nil
	if err != nil {
		var se *sliceError
		if errors.As(err, &se) {
			return fileRef{}, j.fail(se.no, se.err)
		}
		return fileRef{}, j.fail(0, err)
	}
	j.rep.phase(PhaseCompleting, len(plan))
	id, err := j.complete(ctx)
	if err != nil {
		return fileRef{}, j.fail(0, err)
	}
	j.rep.phase(PhaseDone, len(plan))
	return id, nil
}

func (j *job) skippedBytes(plan []slicePlan) int64 {
	var n int64
	for _, s := range plan {
		if j.skip[s.No] {
			n += s.Size
		}
	}
	return n
}

// fail wraps err with the session; errors.Is(err, ctx.Err()) still holds.
// File sources keep what ResumeFile and ResumeImageFile need.
func (j *job) fail(sliceNo int, err error) error {
	ue := &UploadError{FileName: j.t.name(), PreuploadID: j.sess.preuploadID, SliceNo: sliceNo, Err: err}
	if j.src.path != "" && j.sess.preuploadID != "" {
		ue.resume = &resumeState{path: j.src.path, size: j.src.size, mtime: j.src.mtime, md5: j.md5, t: j.t, sess: j.sess}
	}
	return ue
}

// sliceError marks which slice failed.
type sliceError struct {
	no  int
	err error
}

func (e *sliceError) Error() string { return fmt.Sprintf("slice %d: %v", e.no, e.err) }
func (e *sliceError) Unwrap() error { return e.err }

// sendSlices runs up to concurrency workers; the first failure cancels the
// rest, and no worker outlives the call.
func (j *job) sendSlices(ctx context.Context, plan []slicePlan) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(j.cfg.concurrency)
	for _, s := range plan {
		if j.skip[s.No] {
			continue
		}
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			s, err := j.sess.ahead.claim(gctx, s) // the slice whose URL (V2: MD5) is ready first
			if err != nil {
				return err
			}
			return j.sendSlice(gctx, s)
		})
	}
	err := g.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// errStalled cuts a slice transfer that moved no byte for the stall timeout.
var errStalled = errors.New("slice transfer stalled")

// errNoAnswer cuts a slice attempt whose answer did not come within the
// response timeout after its last byte was sent.
var errNoAnswer = errors.New("no answer to the slice")

// sendSlice sends one slice, retrying with a fresh URL and a fresh reader.
//
// The retry budget follows the upload's progress: a slice is given up on
// (and the upload with it) once it has failed budget times in a row with no
// slice of the upload succeeding in between (budget from WithSliceRetry).
// While other slices succeed, a failing slice keeps being retried with
// backoff. A platform that fails everything is thus reported as fast as with
// a fixed per-slice budget, and a slice that never succeeds is given up on
// budget sends after the last success of the others.
//
// The model: if each send fails independently with probability p, a fixed
// budget m loses an upload of n slices with probability about n·p^m
// (p = 0.2, m = 5, 640 slices: 0.2). Here, while w workers are busy, a
// slice is lost only if its m failures come with no success among the
// others' sends in the same time, about w·m sends in a row: n·p^(w·m)
// (p = 0.3, m = 5, w = 4: 3·10⁻¹¹ per slice). Only the last slices, with
// fewer workers beside them, keep a risk near p^m (the last one alone:
// 0.2 % at p = 0.3), whatever the file size.
func (j *job) sendSlice(ctx context.Context, s slicePlan) error {
	pol := j.cfg.sliceRetry
	seen, streak := j.successes.Load(), 0
	for attempt := 1; ; attempt++ {
		sent, err := j.sendOnce(ctx, s, attempt)
		if err == nil {
			j.successes.Add(1)
			if j.track != nil {
				j.track.sliceDone(s.No)
			}
			j.rep.slice(EventSliceDone, s.No, 0, nil)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if now := j.successes.Load(); now != seen {
			seen, streak = now, 0 // the upload moved: a fresh budget
		}
		if streak++; streak >= pol.maxAttempts || !sliceRetryable(ctx, err) {
			j.rep.slice(EventBytes, 0, -sent, nil)
			return &sliceError{no: s.No, err: err}
		}
		j.rep.slice(EventSliceRetry, s.No, -sent, err)
		if err := pol.backoff(ctx, attempt, err, 0, func(d time.Duration) {
			j.c.log.WarnContext(ctx, "pan123: retrying slice", "slice", s.No, "attempt", attempt, "wait", d, "err", err)
		}); err != nil {
			return err
		}
	}
}

// sliceRetryable adds the data plane's own cases to retryable: 403 from a
// presigned URL means its signature expired, and a fresh URL fixes it; 401
// from a V2 upload server dropped the token, and a fresh token may fix it
// (the token source bounds how many are minted).
func sliceRetryable(ctx context.Context, err error) bool {
	var ae *APIError
	if errors.As(err, &ae) && ae.Method == "PUT" && ae.HTTPStatus == 403 {
		return true
	}
	if errors.As(err, &ae) && ae.Method == "POST" && refreshable(err) {
		return true
	}
	return errors.Is(err, errStalled) || errors.Is(err, errNoAnswer) || retryable(ctx, err)
}

// sendOnce makes one attempt at a slice and reports how many bytes left.
func (j *job) sendOnce(ctx context.Context, s slicePlan, attempt int) (int64, error) {
	return sendWithStall(ctx, j.cfg, caps{j.c.bw, j.cfg.bw}, j.src.r, j.src.off+s.Off, s.Size, j.rep, func(ctx context.Context, body *sliceBody) error {
		return j.t.sendSlice(ctx, j.sess, s, attempt, body)
	})
}

// sendWithStall runs send with a fresh body over src[off:off+size] that
// reports progress and waits on the bandwidth caps bw, under a watchdog,
// and says how many bytes left. While the body is read, an attempt that
// moves no byte for the stall timeout is cut (errStalled); once the last
// byte is read, the stall bound ends and the answer has the response
// timeout of its own (errNoAnswer).
func sendWithStall(ctx context.Context, cfg uploadConfig, bw caps, src io.ReaderAt, off, size int64, rep *reporter, send func(context.Context, *sliceBody) error) (int64, error) {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	wd := &watchdog{stall: cfg.stallTimeout, answer: cfg.responseTimeout, fire: cancel}
	defer wd.stop()
	body := &sliceBody{src: src, off: off, size: size, r: io.NewSectionReader(src, off, size), onRead: func(n int) {
		wd.touch()
		rep.add(int64(n))
	}, onEnd: wd.sent, pace: func(n int) (int, error) { return bw.wait(actx, n, wd.pause) }}
	err := send(actx, body)
	if cause := context.Cause(actx); err != nil && ctx.Err() == nil && (cause == errStalled || cause == errNoAnswer) {
		d := cfg.stallTimeout
		if cause == errNoAnswer {
			d = cfg.responseTimeout
		}
		err = fmt.Errorf("%w after %v: %w", cause, d, err)
	}
	return body.finish(), err
}

// watchdog bounds one slice attempt. It is armed by the first read of the
// body, not before: the URL and token calls that precede the transfer have
// their own timeouts, and cutting a token refresh midway would waste a token
// (the platform allows only 3 live). Each read moves the stall deadline;
// the end of the body replaces it with the answer deadline.
type watchdog struct {
	stall, answer time.Duration
	fire          context.CancelCauseFunc
	mu            sync.Mutex
	t             *time.Timer
	answering     bool // the body was read to its end
	done          bool
}

func (w *watchdog) touch() {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.done || w.answering:
	case w.t == nil:
		w.t = time.AfterFunc(w.stall, func() { w.fire(errStalled) })
	default:
		w.t.Reset(w.stall)
	}
}

// sent switches from the stall bound to the answer bound.
func (w *watchdog) sent() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done || w.answering {
		return
	}
	w.answering = true
	if w.t != nil && !w.t.Stop() {
		return // the stall bound fired first
	}
	w.t = time.AfterFunc(w.answer, func() { w.fire(errNoAnswer) })
}

// pause stops the stall bound while a read waits on a bandwidth cap; the
// read's touch re-arms it.
func (w *watchdog) pause() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.t != nil && !w.answering {
		w.t.Stop()
	}
}

func (w *watchdog) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
	if w.t != nil {
		w.t.Stop()
	}
}

// DefaultCompleteTimeout returns the completion deadline used for a file of
// size bytes when WithCompleteTimeout is not given: 2 minutes + 1 per GiB.
func DefaultCompleteTimeout(size int64) time.Duration {
	return 2*time.Minute + time.Duration(size>>30)*time.Minute
}

// ErrCompleteTimeout: every slice was sent but the platform did not finish
// the file before the completion deadline ([WithCompleteTimeout]). The
// [*UploadError] carries the session, so the caller can poll on by hand
// (or resume: a checkpoint is kept).
var ErrCompleteTimeout = errors.New("pan123: the platform did not finish the file before the completion deadline")

// ErrCompleteRefused: the platform refused to finish the file after every
// slice was sent, typically because the bytes do not have the MD5 declared
// when the upload began (the source changed during the upload). The session
// can never complete: upload the file again. The platform's answer is
// wrapped too (errors.As gives the [*APIError]).
var ErrCompleteRefused = errors.New("pan123: the platform refused to complete the file (its content may not match the MD5 declared when the upload began; upload it again)")

// noIDAsks bounds how often a finished completion without a file ID is
// asked again for the ID.
const noIDAsks = 3

// complete calls upload_complete and, while the platform is verifying
// (async, completed=false or code 20103), polls at the poll interval until
// the deadline. An answer that says finished (completed=true) without a
// file ID, which the image bed's page allows (fileID is not required
// there) and the drive was seen to send (fileID 0), is not final: the ID
// is asked of upload_async_result (V2 has none: of upload_complete again)
// at most noIDAsks times, then the upload fails with ErrProtocol rather
// than polling on until the deadline.
// A failed call ends it when it proves the file was refused (see
// refusedCompletion), or when the SDK never retries it (an answer it
// cannot read, 401); a transient error (5xx, network) or another business
// code (code 1 "内部错误") is asked again at the next poll, until the deadline.
func (j *job) complete(ctx context.Context) (fileRef, error) {
	limit := j.cfg.completeTimeout
	if limit == 0 {
		limit = DefaultCompleteTimeout(j.src.size)
	}
	dctx, cancel := context.WithTimeoutCause(ctx, limit, ErrCompleteTimeout)
	defer cancel()
	async := false
	noID := 0
	for {
		var r completion
		var err error
		if async {
			r, err = j.t.asyncResult(dctx, j.sess)
		} else {
			r, err = j.t.complete(dctx, j.sess)
		}
		switch {
		case err == nil && r.completed && r.file.known():
			return r.file, nil
		case err == nil && r.completed:
			if noID++; noID > noIDAsks {
				return fileRef{}, protocolError("the platform said the upload was finished but gave no file ID in %d answers", noID)
			}
			async = true // upload_async_result carries the ID
		case err == nil && r.async:
			async = true
		case err == nil, errors.Is(err, ErrVerifying):
			// not yet
		case refusedCompletion(err):
			return fileRef{}, mark(ErrCompleteRefused, err)
		case dctx.Err() == nil && (retryable(dctx, err) || businessCode(err)):
			// Not a refusal: the platform may still finish the file.
			j.c.log.WarnContext(ctx, "pan123: completion call failed; asking again", "file", j.t.name(), "err", err)
		default:
			// Final by the SDK's own rules (an answer it cannot read, 401,
			// the deadline): the session is kept, not refused.
			return fileRef{}, completeErr(ctx, dctx, err)
		}
		if err := sleepCtx(dctx, j.cfg.pollInterval); err != nil {
			return fileRef{}, completeErr(ctx, dctx, err)
		}
	}
}

// refusedCompletion tells whether a failed completion call proves that the
// platform will never finish the file. A refusal is an answer with a
// business code: code 1 (the platform's catch-all) only with a message that
// says so, "文件上传失败" (upload failed: the bytes do not match the
// declared MD5 or size) or a session that does not exist or expired
// ("不存在", "过期"); any other code that is neither transient (429, 20103,
// 5xx) nor 401. Code 1 with another message ("内部错误"), HTTP errors, network
// errors and unreadable answers are not refusals.
// businessCode: the platform answered a readable envelope with a
// business code (not 401).
func businessCode(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code != 0 && !errors.Is(err, ErrProtocol) && !errors.Is(err, ErrUnauthorized)
}

func refusedCompletion(err error) bool {
	var ae *APIError
	if !businessCode(err) || !errors.As(err, &ae) || retryable(context.Background(), ae) {
		return false
	}
	if ae.Code == 1 {
		for _, m := range []string{"文件上传失败", "不存在", "过期"} {
			if strings.Contains(ae.Message, m) {
				return true
			}
		}
		return false
	}
	return true
}

func completeErr(ctx, dctx context.Context, err error) error {
	if ctx.Err() == nil && errors.Is(context.Cause(dctx), ErrCompleteTimeout) {
		return ErrCompleteTimeout
	}
	return err
}
