package pan123

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

// DefaultDirFiles is how many files [Uploader.UploadDir] uploads at once
// when DirInput.Files is zero. Each file has up to [WithConcurrency] slices
// in flight, so a tree has at most Files × that many.
const DefaultDirFiles = 4

// ExistingPolicy says what [Uploader.UploadDir] does with a local file whose
// name the remote folder already holds with the same size and MD5.
type ExistingPolicy int

const (
	// ExistingSkip sends nothing for such a file (no request at all); it is
	// reported [OutcomeSkipped]. This is the default, and what makes a second
	// run over an unchanged tree send nothing.
	ExistingSkip ExistingPolicy = iota
	// ExistingOverwrite uploads it again with [Overwrite]: an instant upload
	// (no bytes) that replaces the remote file.
	ExistingOverwrite
	// ExistingKeepBoth uploads it again with [KeepBoth]: the platform stores
	// a copy under a suffixed name.
	ExistingKeepBoth
)

// DirInput describes a folder-tree upload into the drive.
type DirInput struct {
	// ParentFileID is the drive folder that receives the tree's contents
	// (the local folder's entries, not the folder itself); 0 = root.
	ParentFileID int64
	// Existing decides what happens to a file the remote folder already
	// holds with the same name, size and MD5. Default: [ExistingSkip].
	Existing ExistingPolicy
	// Duplicate is the same-name policy sent for a file whose name the
	// remote folder holds with other content. Zero sends none: the platform
	// refuses the file, and it is reported [OutcomeFailed].
	Duplicate Duplicate
	// Files is how many files upload at once (1 to MaxConcurrency); 0 means
	// [DefaultDirFiles].
	Files int
	// FailFast stops the tree at the first failed file; files not yet
	// started are reported [OutcomeCanceled]. Default: every file is tried.
	FailFast bool
	// FollowSymlinks uploads what symbolic links point to (files, and
	// folders walked as folders, each real folder once). Default: links are
	// not followed and are reported [OutcomeIgnored].
	FollowSymlinks bool
	// HashCache is a file in which the MD5 of every file hashed or uploaded
	// is remembered, keyed by absolute path, size, modification time and
	// (where the system has them) inode and change time, so that a later
	// run over unchanged files reads none of them before it compares them
	// with the remote folders. Default: md5cache.jsonl in the
	// [WithCheckpointDir] folder when one is given, else no cache.
	HashCache string
	// Progress, when set, is called with the progress of the whole tree.
	// Calls are serialised and must return quickly. A [WithProgress] given
	// to UploadDir is replaced by this.
	Progress func(DirProgress)
}

// DirProgress is one report of a tree upload.
type DirProgress struct {
	FilesDone   int // files finished, whatever their outcome
	FilesFailed int
	FilesTotal  int // regular files found by the walk
	// BytesDone counts the bytes of finished files (whatever their outcome)
	// and the bytes sent so far of files in flight.
	BytesDone  int64
	BytesTotal int64
	Current    []string // the files in flight, as in DirFile.Path
}

// Outcome is what happened to one entry of a tree upload.
type Outcome int

// Outcomes of [DirFile].
const (
	OutcomeUploaded Outcome = iota + 1 // bytes were sent
	OutcomeReused                      // instant upload: the platform had the content
	OutcomeSkipped                     // the remote folder held it already (ExistingSkip)
	OutcomeFailed                      // see DirFile.Err
	OutcomeIgnored                     // not a regular file (a link, a device, ...), or unreadable
	OutcomeCanceled                    // not tried: the context ended, or FailFast
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case OutcomeUploaded:
		return "uploaded"
	case OutcomeReused:
		return "reused"
	case OutcomeSkipped:
		return "skipped"
	case OutcomeFailed:
		return "failed"
	case OutcomeIgnored:
		return "ignored"
	case OutcomeCanceled:
		return "canceled"
	}
	return "unknown"
}

// DirFile is one entry of a tree upload.
type DirFile struct {
	Path    string // relative to the local folder, "/"-separated
	Outcome Outcome
	FileID  int64 // the remote file (uploaded, reused or skipped)
	Size    int64
	MD5     string // lowercase hex, when known
	Err     error  // why it failed (an *UploadError) or was ignored
}

// DirResult is a finished tree upload.
type DirResult struct {
	Files   []DirFile // every entry found, in walk order (lexical, folders depth-first)
	Folders int       // remote folders created
	// BytesHashed counts the bytes read to compute MD5s (to compare with the
	// remote folders, or before an upload): 0 when the hash cache knew every
	// file that needed one.
	BytesHashed int64
}

// UploadDir uploads the regular files of the local folder dir into the drive
// folder in.ParentFileID, creating the remote folders of the tree (empty
// ones too). Each folder costs one API call: a listing when it exists
// already (which also finds the files it holds), a mkdir when it does not.
// Files upload concurrently through [Uploader.UploadFile] with opts, so they
// share the Client's token and pacing, and WithProtocol(Auto) sends small
// files in one request each.
//
// One failed file does not stop the others (unless in.FailFast): the result
// lists every entry with its outcome, and the error joins the failures,
// each an *UploadError. The result is never nil, so it can be read before
// the error is checked. When ctx ends, files not started are reported
// [OutcomeCanceled] and the error matches ctx.Err(). Bad input is reported
// (ErrInvalidInput) before any request.
//
// With [WithCheckpointDir], a run that was interrupted continues: files
// already in the remote folders are found by the listing and skipped
// without being read (their MD5 is in the hash cache), and a file that was
// in flight resumes at its slice.
//
// The hash cache trusts a file whose size, modification time, inode and
// change time did not change, as rsync's quick check does; where the
// platform still receives the bytes, it checks their MD5 again.
func (u *Uploader) UploadDir(ctx context.Context, dir string, in DirInput, opts ...UploadOption) (*DirResult, error) {
	cfg, err := u.config(ctx, opts)
	if err == nil {
		err = validateDirInput(u, in)
	}
	if err != nil {
		return &DirResult{}, err
	}
	root, err := filepath.Abs(dir)
	if err == nil {
		var st os.FileInfo
		if st, err = os.Stat(root); err == nil && !st.IsDir() {
			err = errors.New("not a folder")
		}
	}
	if err != nil {
		return &DirResult{}, invalidInput("UploadDir %s: %v", dir, err)
	}
	cacheFile := in.HashCache
	if cacheFile == "" && cfg.checkpointDir != "" {
		cacheFile = filepath.Join(cfg.checkpointDir, "md5cache.jsonl")
	}
	cache, err := openHashCache(cacheFile)
	if err != nil {
		return &DirResult{}, err
	}
	defer cache.close()

	// The cache and the checkpoints may live inside the tree: never upload them.
	w := &treeWalk{follow: in.FollowSymlinks, seen: map[string]bool{}, skip: map[string]bool{}}
	for _, p := range []string{cacheFile, cfg.checkpointDir} {
		if p != "" {
			if abs, err := filepath.Abs(p); err == nil {
				w.skip[abs] = true
			}
		}
	}
	w.walk(root, "")
	if cfg.bw != nil {
		opts = append(slices.Clip(opts), withCallCap(cfg.bw)) // one cap for the whole call
	}
	run := &treeRun{u: u, in: in, opts: opts, cache: cache, root: root, entries: w.entries,
		dirs: map[string]*remoteDir{}}
	run.progress = newTreeProgress(in.Progress, w.entries)
	return run.run(ctx)
}

func validateDirInput(u *Uploader, in DirInput) error {
	switch {
	case u.c == nil:
		return invalidInput("nil Client")
	case in.ParentFileID < 0:
		return invalidInput("negative ParentFileID %d", in.ParentFileID)
	case in.Existing < ExistingSkip || in.Existing > ExistingKeepBoth:
		return invalidInput("unknown ExistingPolicy %d", in.Existing)
	case in.Duplicate < DuplicateUnset || in.Duplicate > Overwrite:
		return invalidInput("unknown Duplicate policy %d", in.Duplicate)
	case in.Files < 0 || in.Files > MaxConcurrency:
		return invalidInput("DirInput.Files %d is outside 0..%d", in.Files, MaxConcurrency)
	}
	return nil
}

// treeEntry is one entry found by the walk.
type treeEntry struct {
	rel    string // "/"-separated, relative to the root
	abs    string
	dir    bool
	size   int64
	id     fileStamp
	ignore error // set for entries that are reported OutcomeIgnored
}

// treeWalk lists a local tree in a stable order: lexical within a folder,
// folders depth-first.
type treeWalk struct {
	follow  bool
	seen    map[string]bool // real paths of folders walked (FollowSymlinks)
	skip    map[string]bool // absolute paths left out: the SDK's own files
	entries []treeEntry
}

func (w *treeWalk) walk(abs, rel string) {
	if w.follow {
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			if w.seen[real] {
				return
			}
			w.seen[real] = true
		}
	}
	list, err := os.ReadDir(abs)
	if err != nil {
		w.entries = append(w.entries, treeEntry{rel: rel, abs: abs, dir: true, ignore: fmt.Errorf("read folder: %w", err)})
		return
	}
	for _, d := range list {
		e := treeEntry{rel: path.Join(rel, d.Name()), abs: filepath.Join(abs, d.Name())}
		if w.skip[e.abs] {
			continue
		}
		info, err := d.Info()
		if err == nil && info.Mode()&fs.ModeSymlink != 0 {
			if !w.follow {
				e.ignore = errors.New("symbolic link (not followed)")
				w.entries = append(w.entries, e)
				continue
			}
			info, err = os.Stat(e.abs)
		}
		switch {
		case err != nil:
			e.ignore = err
		case info.IsDir():
			if w.follow {
				if real, rerr := filepath.EvalSymlinks(e.abs); rerr == nil && w.seen[real] {
					e.ignore = errors.New("folder already walked (a link cycle or a second link to it)")
					w.entries = append(w.entries, e)
					continue
				}
			}
			e.dir = true
			w.entries = append(w.entries, e)
			w.walk(e.abs, e.rel)
			continue
		case !info.Mode().IsRegular():
			e.ignore = fmt.Errorf("not a regular file (%s)", info.Mode().Type())
		default:
			e.size = info.Size()
			e.id = stampOf(info)
		}
		w.entries = append(w.entries, e)
	}
}

// treeRun is one UploadDir call.
type treeRun struct {
	u        *Uploader
	in       DirInput
	opts     []UploadOption
	cache    *hashCache
	root     string
	entries  []treeEntry
	progress *treeProgress

	mu      sync.Mutex
	dirs    map[string]*remoteDir // by relative path; "" is the root
	folders int                   // created
	hashed  int64                 // bytes read for MD5s
}

// remoteDir is a remote folder of the tree, resolved once.
type remoteDir struct {
	ready chan struct{}
	id    int64
	files map[string]FileInfo // its files by name (nil for a folder just created)
	dirs  map[string]int64    // its folders by name
	err   error
}

func (r *treeRun) run(ctx context.Context) (*DirResult, error) {
	res := &DirResult{Files: make([]DirFile, 0, len(r.entries))}
	files := r.in.Files
	if files == 0 {
		files = DefaultDirFiles
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(files)
	out := make([]*DirFile, len(r.entries))
	for i, e := range r.entries {
		df := &DirFile{Path: e.rel, Size: e.size}
		out[i] = df
		switch {
		case e.ignore != nil:
			df.Outcome, df.Err = OutcomeIgnored, e.ignore
			continue
		case e.dir && gctx.Err() != nil:
			continue
		case gctx.Err() != nil:
			df.Outcome = OutcomeCanceled
			r.progress.finish(df)
			continue
		}
		g.Go(func() error {
			if e.dir {
				_, err := r.resolve(gctx, e.rel)
				if err != nil && gctx.Err() == nil {
					df.Outcome, df.Err = OutcomeFailed, &UploadError{FileName: e.rel, Err: err}
				}
				return nil
			}
			r.file(gctx, e, df)
			r.progress.finish(df)
			if df.Outcome == OutcomeFailed && r.in.FailFast {
				return df.Err
			}
			return nil
		})
	}
	_ = g.Wait()
	var errs []error
	for i, df := range out {
		if r.entries[i].dir && df.Outcome == 0 {
			continue // a folder resolved (or never needed): folders are not results
		}
		if df.Outcome == 0 {
			df.Outcome = OutcomeCanceled
		}
		if df.Outcome == OutcomeFailed {
			errs = append(errs, df.Err)
		}
		res.Files = append(res.Files, *df)
	}
	r.mu.Lock()
	res.Folders, res.BytesHashed = r.folders, r.hashed
	r.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return res, errors.Join(append([]error{err}, errs...)...)
	}
	return res, errors.Join(errs...)
}

// file uploads one regular file, or skips it when the remote folder holds
// it already, and records the outcome in df.
func (r *treeRun) file(ctx context.Context, e treeEntry, df *DirFile) {
	r.progress.start(e.rel)
	fail := func(err error) {
		if ctx.Err() != nil {
			df.Outcome = OutcomeCanceled
			return
		}
		var ue *UploadError
		if !errors.As(err, &ue) {
			err = &UploadError{FileName: e.rel, Err: err}
		}
		df.Outcome, df.Err = OutcomeFailed, err
	}
	if err := validSize(e.size); err != nil {
		fail(err) // as UploadFile would, before any request
		return
	}
	d, err := r.resolve(ctx, path.Dir(e.rel))
	if err != nil {
		fail(err)
		return
	}
	name := path.Base(e.rel)
	sum := r.cache.get(e.abs, e.size, e.id)
	dup := r.in.Duplicate
	if have, ok := d.files[name]; ok && have.Size == e.size {
		if sum == "" {
			if sum, err = r.hash(ctx, e); err != nil {
				fail(err)
				return
			}
		}
		if strings.EqualFold(have.Etag, sum) {
			switch r.in.Existing {
			case ExistingSkip:
				df.Outcome, df.FileID, df.MD5 = OutcomeSkipped, have.FileID, sum
				return
			case ExistingOverwrite:
				dup = Overwrite
			case ExistingKeepBoth:
				dup = KeepBoth
			}
		}
	}
	var hashed int64
	opts := append(append([]UploadOption(nil), r.opts...), WithProgress(func(p Progress) {
		if p.Phase == PhaseHashing {
			hashed = p.Done
		}
		r.progress.file(e.rel, p)
	}))
	defer func() { r.addHashed(hashed) }()
	res, err := r.u.UploadFile(ctx, e.abs, FileInput{ParentFileID: d.id, Name: name, Duplicate: dup, Size: e.size, MD5: sum}, opts...)
	if err != nil {
		fail(err)
		return
	}
	r.cache.put(e.abs, e.size, e.id, res.MD5)
	df.Outcome, df.FileID, df.MD5 = OutcomeUploaded, res.FileID, res.MD5
	if res.Reused {
		df.Outcome = OutcomeReused
	}
}

// hash computes a file's MD5 for the comparison with the remote folder and
// remembers it.
func (r *treeRun) hash(ctx context.Context, e treeEntry) (string, error) {
	f, err := os.Open(e.abs)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sum, err := md5Of(ctxReaderAt{ctx, f}, 0, e.size, nil)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", e.rel, err)
	}
	r.addHashed(e.size)
	r.cache.put(e.abs, e.size, e.id, sum)
	return sum, nil
}

func (r *treeRun) addHashed(n int64) {
	r.mu.Lock()
	r.hashed += n
	r.mu.Unlock()
}

// resolve returns the remote folder of the relative path rel, finding or
// creating it (and its parents) once for the whole run.
func (r *treeRun) resolve(ctx context.Context, rel string) (*remoteDir, error) {
	if rel == "." {
		rel = ""
	}
	r.mu.Lock()
	d, ok := r.dirs[rel]
	if !ok {
		d = &remoteDir{ready: make(chan struct{})}
		r.dirs[rel] = d
	}
	r.mu.Unlock()
	if ok {
		select {
		case <-d.ready:
			return d, d.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	d.id, d.files, d.dirs, d.err = r.find(ctx, rel)
	var de *treeDirError
	if d.err != nil && ctx.Err() == nil && !errors.As(d.err, &de) {
		d.err = &treeDirError{rel: rel, err: d.err}
	}
	close(d.ready)
	return d, d.err
}

// find lists the remote folder of rel, or creates it when its parent does
// not hold it. A folder just created is known to be empty: no listing.
func (r *treeRun) find(ctx context.Context, rel string) (int64, map[string]FileInfo, map[string]int64, error) {
	if rel == "" {
		return r.list(ctx, r.in.ParentFileID)
	}
	parent, err := r.resolve(ctx, path.Dir(rel))
	if err != nil {
		return 0, nil, nil, err
	}
	name := path.Base(rel)
	if err := validateName(name); err != nil {
		return 0, nil, nil, err
	}
	if id, ok := parent.dirs[name]; ok {
		return r.list(ctx, id)
	}
	if _, ok := parent.files[name]; ok {
		return 0, nil, nil, fmt.Errorf("a file of the remote folder %d holds the name %q", parent.id, name)
	}
	id, err := r.u.c.Drive.Mkdir(ctx, parent.id, name)
	if err != nil && ctx.Err() == nil {
		// The folder exists (made meanwhile by someone else), or the mkdir
		// failed and may have acted: EnsureDir makes it or finds it, once.
		if id, err = r.u.c.Drive.EnsureDir(ctx, parent.id, name); err == nil {
			return r.list(ctx, id)
		}
	}
	if err != nil {
		return 0, nil, nil, err
	}
	r.mu.Lock()
	r.folders++
	r.mu.Unlock()
	return id, nil, nil, nil
}

// list reads every page of a remote folder.
func (r *treeRun) list(ctx context.Context, id int64) (int64, map[string]FileInfo, map[string]int64, error) {
	files, dirs := map[string]FileInfo{}, map[string]int64{}
	page := func(ctx context.Context, cursor string) ([]FileInfo, string, error) {
		return r.u.c.Drive.page(ctx, id, cursor)
	}
	err := eachPage(ctx, id, page, func(f FileInfo) bool {
		if f.Dir {
			dirs[f.Filename] = f.FileID
		} else {
			files[f.Filename] = f
		}
		return true
	})
	if err != nil {
		return 0, nil, nil, err
	}
	return id, files, dirs, nil
}

// treeDirError is a remote folder of the tree that could not be had; the
// files below it report it once, not once per level.
type treeDirError struct {
	rel string
	err error
}

func (e *treeDirError) Error() string { return fmt.Sprintf("remote folder %q: %v", e.rel, e.err) }
func (e *treeDirError) Unwrap() error { return e.err }

// treeProgress adds up the progress of the files of a tree.
type treeProgress struct {
	fn     func(DirProgress)
	mu     sync.Mutex
	p      DirProgress
	flight map[string]int64 // bytes sent of files in flight
}

func newTreeProgress(fn func(DirProgress), entries []treeEntry) *treeProgress {
	t := &treeProgress{fn: fn, flight: map[string]int64{}}
	for _, e := range entries {
		if !e.dir && e.ignore == nil {
			t.p.FilesTotal++
			t.p.BytesTotal += e.size
		}
	}
	return t
}

// emit calls fn with the current totals. Caller holds mu.
func (t *treeProgress) emit() {
	if t.fn == nil {
		return
	}
	p := t.p
	p.Current = make([]string, 0, len(t.flight))
	for name, n := range t.flight {
		p.Current = append(p.Current, name)
		p.BytesDone += n
	}
	slices.Sort(p.Current)
	t.fn(p)
}

func (t *treeProgress) start(rel string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.flight[rel] = 0
	t.emit()
}

// file takes one report of a file in flight: bytes sent count, hashing does not.
func (t *treeProgress) file(rel string, p Progress) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.flight[rel]; !ok {
		return
	}
	switch p.Phase {
	case PhaseUploading:
		t.flight[rel] = p.Done
	case PhaseCompleting, PhaseDone:
		t.flight[rel] = p.Total
	default:
		return
	}
	t.emit()
}

func (t *treeProgress) finish(df *DirFile) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.flight, df.Path)
	t.p.FilesDone++
	t.p.BytesDone += df.Size
	if df.Outcome == OutcomeFailed {
		t.p.FilesFailed++
	}
	t.emit()
}
