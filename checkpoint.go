package pan123

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// A checkpoint is the small record that lets an interrupted file upload
// continue in a later process: the source's identity, the destination, and
// the platform session with the slices it confirmed. One JSON file per
// (source, destination) in the checkpoint directory, replaced atomically.
type checkpoint struct {
	Version     int       `json:"version"`
	Source      string    `json:"source"` // absolute path
	Size        int64     `json:"size"`
	ModTime     time.Time `json:"modTime"`
	MD5         string    `json:"md5"`
	Dest        string    `json:"dest"`               // family, parent and name
	Protocol    string    `json:"protocol,omitempty"` // of the session: "v1" (also when absent) or "v2"
	PreuploadID string    `json:"preuploadID"`
	SliceSize   int64     `json:"sliceSize"`
	Done        []int     `json:"done"` // slices the platform accepted
}

const checkpointVersion = 1

// checkpointFile is where the record of src → t lives in dir.
func checkpointFile(dir string, src *source, t target) (string, string) {
	abs, err := filepath.Abs(src.path)
	if err != nil {
		abs = src.path
	}
	dest := t.dest()
	sum := sha256.Sum256([]byte(abs + "\x00" + dest))
	return filepath.Join(dir, "pan123-"+hex.EncodeToString(sum[:16])+".json"), abs
}

// loadCheckpoint reads a record; a missing file is (nil, nil).
func loadCheckpoint(file string) (*checkpoint, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var cp checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, fmt.Errorf("corrupt checkpoint %s: %w", filepath.Base(file), err)
	}
	if cp.Version != checkpointVersion || cp.PreuploadID == "" || len(cp.MD5) != 32 {
		return nil, fmt.Errorf("unusable checkpoint %s", filepath.Base(file))
	}
	if _, err := planSlices(cp.Size, cp.SliceSize); err != nil {
		return nil, fmt.Errorf("unusable checkpoint %s: %w", filepath.Base(file), err)
	}
	return &cp, nil
}

// save writes the record atomically: a temp file in the same directory,
// synced, then renamed over the old one.
func (cp *checkpoint) save(file string) error {
	b, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	// The temp file is named after the record, so that one left by a
	// process killed mid-save can be found and removed (removeTemps).
	f, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+tempSuffix+"*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), file)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// tempSuffix follows a record's name in the names of its temp files.
const tempSuffix = ".tmp-"

// removeTemps removes the temp files of the record file that a process
// killed in the middle of a save left behind. Only this record's temps are
// touched: other uploads may be saving theirs in the same directory.
func removeTemps(file string) {
	dir, prefix := filepath.Dir(file), filepath.Base(file)+tempSuffix
	ents, _ := os.ReadDir(dir)
	for _, de := range ents {
		if strings.HasPrefix(de.Name(), prefix) {
			os.Remove(filepath.Join(dir, de.Name()))
		}
	}
}

// checkpointTracker keeps the record up to date as slices are accepted.
type checkpointTracker struct {
	file string
	log  func(msg string, err error)
	mu   sync.Mutex
	cp   checkpoint
}

func (k *checkpointTracker) started(s session, md5 string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cp.PreuploadID, k.cp.SliceSize, k.cp.MD5, k.cp.Done = s.preuploadID, s.sliceSize, md5, nil
	k.saveLocked()
}

func (k *checkpointTracker) sliceDone(no int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cp.Done = append(k.cp.Done, no)
	k.saveLocked()
}

func (k *checkpointTracker) saveLocked() {
	// A failed save costs at most a re-sent slice on resume; the upload goes on.
	if err := k.cp.save(k.file); err != nil {
		k.log("pan123: checkpoint save failed", err)
	}
}

// errSessionGone: the platform no longer knows a saved session.
var errSessionGone = errors.New("the platform no longer knows the saved upload session")

// runCheckpointed uploads a file through a checkpoint: it continues a saved
// session when the source is unchanged and the platform still has it, and
// otherwise starts over (saying why in an EventRestart).
func (u *Uploader) runCheckpointed(ctx context.Context, cfg uploadConfig, src *source, sum string, t target, rep *reporter) (*upload, error) {
	if err := os.MkdirAll(cfg.checkpointDir, 0o700); err != nil {
		return nil, wrapf(err, "checkpoint dir")
	}
	file, abs := checkpointFile(cfg.checkpointDir, src, t)
	removeTemps(file)
	restart := func(why error) {
		u.c.log.WarnContext(ctx, "pan123: not resuming", "file", t.name(), "reason", why)
		rep.slice(EventRestart, 0, 0, why)
		os.Remove(file)
	}
	cp, err := loadCheckpoint(file)
	if err != nil {
		restart(err)
		cp = nil
	}
	if cp != nil {
		if why := cp.stale(abs, src, t, sum); why != nil {
			restart(why)
			cp = nil
		}
	}
	track := &checkpointTracker{file: file, log: func(msg string, err error) { u.c.log.WarnContext(ctx, msg, "err", err) },
		cp: checkpoint{Version: checkpointVersion, Source: abs, Size: src.size, ModTime: src.mtime, Dest: t.dest(), Protocol: t.protocol()}}
	if cp != nil {
		track.cp = *cp
		sess := session{preuploadID: cp.PreuploadID, sliceSize: cp.SliceSize}
		res, err := u.continueSession(ctx, cfg, src, cp.MD5, t, sess, rep, track)
		if !errors.Is(err, errSessionGone) {
			return res, finishCheckpoint(file, err)
		}
		restart(err)
		track.cp.Done = nil
	}
	res, err := u.runWith(ctx, cfg, src, sum, t, rep, track)
	return res, finishCheckpoint(file, err)
}

// finishCheckpoint removes the record when the upload is over: after success,
// and after the platform refused to complete the file, since that session
// can never complete (the content no longer has the MD5 it was created
// with) and the next run must start over. Any other failure keeps it.
func finishCheckpoint(file string, err error) error {
	if err == nil || errors.Is(err, ErrCompleteRefused) {
		os.Remove(file)
	}
	return err
}

// stale says why a record cannot be used for this source and destination.
func (cp *checkpoint) stale(abs string, src *source, t target, sum string) error {
	proto := cmp.Or(cp.Protocol, "v1")
	switch {
	case cp.Source != abs || cp.Dest != t.dest():
		return errors.New("checkpoint belongs to another upload")
	case proto != t.protocol():
		return fmt.Errorf("checkpoint written by another protocol (%s, this upload uses %s)", proto, t.protocol())
	case cp.Size != src.size || !cp.ModTime.Equal(src.mtime):
		return errors.New("the source changed since the interrupted upload (size or modification time)")
	case sum != "" && !strings.EqualFold(sum, cp.MD5):
		return errors.New("the source changed since the interrupted upload (MD5)")
	}
	return nil
}

// continueSession verifies what the platform holds of a session and sends
// the rest. A slice is skipped only when the platform lists it with the size
// and MD5 of the local slice, and only those slices are read to check it.
// The rest of the file is not re-read: a source changed in a slice that is
// sent again is caught by the platform's MD5 check at completion
// (ErrCompleteRefused), never stored silently.
func (u *Uploader) continueSession(ctx context.Context, cfg uploadConfig, src *source, sum string, t target, sess session, rep *reporter, track tracker) (*upload, error) {
	parts, err := t.listParts(ctx, sess)
	if errors.Is(err, ErrProtocol) && ctx.Err() == nil {
		// An answer cut or garbled on the way reads so too: ask once more
		// (a read, safe to repeat) before giving the session up.
		parts, err = t.listParts(ctx, sess)
	}
	if err != nil {
		// Any answer that is not transient (a business code, a 4xx page
		// without the envelope, data that cannot be read twice) would be
		// the same on every later run: the session cannot be continued.
		// Network trouble, 5xx, 429 and 401 keep it for another run.
		if ctx.Err() == nil && !retryable(ctx, err) && !errors.Is(err, ErrUnauthorized) {
			return nil, mark(errSessionGone, err)
		}
		return nil, &UploadError{FileName: t.name(), PreuploadID: sess.preuploadID, Err: err}
	}
	plan, err := planSlices(src.size, sess.sliceSize)
	if err != nil {
		return nil, mark(errSessionGone, err)
	}
	// The slices the platform lists whole: the right size and an etag. One
	// listed twice with different etags is not trusted.
	listed := map[int]string{}
	for _, p := range parts {
		if p.PartNumber < 1 || p.PartNumber > len(plan) || p.Size != plan[p.PartNumber-1].Size || p.Etag == "" {
			continue
		}
		if prev, ok := listed[p.PartNumber]; ok && !strings.EqualFold(prev, p.Etag) {
			p.Etag = "conflicting listings"
		}
		listed[p.PartNumber] = p.Etag
	}
	var toCheck int64
	for no := range listed {
		toCheck += plan[no-1].Size
	}
	rep.phaseOf(PhaseHashing, len(plan), toCheck)
	skip := map[int]bool{}
	for _, no := range slices.Sorted(maps.Keys(listed)) {
		s := plan[no-1]
		local, err := md5Of(ctxReaderAt{ctx, src.r}, src.off+s.Off, s.Size, func(n int) { rep.add(int64(n)) })
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, wrapf(err, "hash slice %d of %s", no, t.name())
		}
		if strings.EqualFold(local, listed[no]) {
			skip[no] = true
		}
	}
	if k, ok := track.(*checkpointTracker); ok {
		k.mu.Lock()
		k.cp.Done = slices.Sorted(maps.Keys(skip))
		k.saveLocked()
		k.mu.Unlock()
	}
	j := &job{cfg: cfg, c: u.c, t: t, src: src, md5: sum, sess: sess, rep: rep, skip: skip, track: track}
	for _, s := range plan {
		if skip[s.No] {
			rep.slice(EventSliceSkipped, s.No, 0, nil)
		}
	}
	return j.run(ctx)
}

// resumeState is what ResumeFile and ResumeImageFile need from an UploadError.
type resumeState struct {
	path  string
	size  int64
	mtime time.Time
	md5   string
	t     target
	sess  session
}

// ResumeFile continues the drive upload that failed with ue, in the same
// platform session, sending through u's Client with u's settings. The
// slices the platform holds are read and their MD5s checked; verified
// slices are not sent again. It works for uploads of files by path
// (UploadFile) whose error says "(resumable)"; the file must have the same
// size and modification time. The whole file is not hashed again: if its
// content changed anyway, the platform refuses to complete it
// ([ErrCompleteRefused]) rather than store it. Errors wrap ErrInvalidInput
// when ue cannot be resumed.
func (u *Uploader) ResumeFile(ctx context.Context, ue *UploadError, opts ...UploadOption) (*FileResult, error) {
	res, err := u.resume(ctx, ue, false, opts)
	return driveResult(res, err)
}

// ResumeImageFile is [Uploader.ResumeFile] for image-bed uploads (UploadImageFile).
func (u *Uploader) ResumeImageFile(ctx context.Context, ue *UploadError, opts ...UploadOption) (*ImageResult, error) {
	res, err := u.resume(ctx, ue, true, opts)
	return imageResult(res, err)
}

func (u *Uploader) resume(ctx context.Context, ue *UploadError, image bool, opts []UploadOption) (*upload, error) {
	if ue == nil || ue.resume == nil {
		return nil, invalidInput("this upload cannot be resumed (no session, or the source was a stream)")
	}
	st := ue.resume
	if isImage := st.t.drive() == nil; isImage != image {
		return nil, invalidInput("the failed upload was to the other family")
	}
	cfg, err := u.config(ctx, opts)
	if err != nil {
		return nil, err
	}
	src, err := openFileSource(st.path, st.size)
	if err != nil {
		return nil, err
	}
	defer src.close()
	if !src.mtime.Equal(st.mtime) {
		return nil, invalidInput("%s changed since the failed upload", st.path)
	}
	rep := newReporter(cfg.progress, st.t.name(), src.size)
	return u.continueSession(ctx, cfg, src, st.md5, st.t.withClient(u.c), st.sess, rep, nil)
}
