package pan123

import (
	"context"
	"fmt"
	"path"
	"strings"
)

// Reconciling ambiguous failures. A single-step upload, and a create that
// may have been an instant upload under KeepBoth, must not be replayed
// blindly when they fail without a clear answer (a 5xx page, a reset, no
// answer in time after the whole request was sent): the platform may have
// stored the file, and a replay would store a second copy (KeepBoth) or be
// refused as a same-name file. Instead the parent folder is listed, and a
// file found there with the asked name (under KeepBoth, a name the
// platform derived from it: same stem prefix and extension), the same MD5
// and the same size is taken as the result of the lost answer; when none is
// found, the call is sent again.
//
// What this guarantees: an answer lost after the platform stored the file
// never leads to a second copy or a same-name refusal, as long as the
// folder listing shows the stored file. What it costs: the drive's listing
// carries no creation time, so "since the call began" is judged by the
// name, MD5 and size alone; a file of the same content and a matching name
// that was already in the folder is taken as well (under Duplicate unset or
// Overwrite it has the asked name and content, which is the outcome asked
// for; under KeepBoth the older copy is returned instead of a new one). A
// path name (ContainDir) has no known parent folder to list: its ambiguous
// failures under KeepBoth are returned, as before.

// maxReconcilePages bounds the listing of one reconciliation (100 entries
// a page): a folder larger than that is not searched to its end.
const maxReconcilePages = 20

// reconcile looks in the parent folder for a file that an ambiguously
// failed call may have stored: the asked name (or, under KeepBoth, one
// derived from it), MD5 sum and size. It returns the newest such file's ID,
// or 0 when there is none.
func (t *driveTarget) reconcile(ctx context.Context, sum string, size int64) (int64, error) {
	var best, cursor int64
	for range maxReconcilePages {
		page, err := t.c.Drive.List(ctx, t.in.ParentFileID, cursor, MaxListLimit)
		if err != nil {
			return 0, err
		}
		for _, f := range page.Files {
			if !f.Dir && f.Size == size && strings.EqualFold(f.Etag, sum) && t.mayBeOurs(f.Filename) && f.FileID > best {
				best = f.FileID
			}
		}
		if page.LastFileID <= 0 || page.LastFileID == cursor {
			break // the last page, or a cursor that does not move
		}
		cursor = page.LastFileID
	}
	return best, nil
}

// mayBeOurs tells whether a listed name is the asked one or, under KeepBoth,
// one the platform may have derived from it ("a.bin" → "a(1).bin").
func (t *driveTarget) mayBeOurs(name string) bool {
	if name == t.in.Name {
		return true
	}
	if t.in.Duplicate != KeepBoth {
		return false
	}
	ext := path.Ext(t.in.Name)
	stem := strings.TrimSuffix(t.in.Name, ext)
	return strings.HasPrefix(name, stem) && strings.HasSuffix(name, ext) && len(name) > len(t.in.Name)
}

// canReconcile: the parent folder of the file is known (not a path name).
func (t *driveTarget) canReconcile() bool { return !t.in.ContainDir }

// createReconciled calls t.create. Under KeepBoth create is not replayed
// (an instant upload would add a second copy), so its ambiguous failure is
// reconciled here: a file found in the folder is the result (as an instant
// upload), and otherwise create is called again, up to the client's retry
// budget ([WithRetry]).
func (u *Uploader) createReconciled(ctx context.Context, t target, sum string, size int64) (created, error) {
	d := t.drive()
	for attempt := 1; ; attempt++ {
		c, err := t.create(ctx, sum, size)
		if err == nil || d == nil || d.in.Duplicate != KeepBoth || !d.canReconcile() ||
			notSent(err) || !retryable(ctx, err) || attempt >= u.c.retry.maxAttempts {
			return c, err
		}
		id, lerr := d.reconcile(ctx, sum, size)
		if lerr != nil {
			return c, fmt.Errorf("%w (and the folder could not be listed to check whether the file was stored: %w)", err, lerr)
		}
		if id > 0 {
			u.c.log.WarnContext(ctx, "pan123: create answer lost; the file is in the folder", "file", t.name(), "err", err)
			return created{reuse: true, file: driveFile(id)}, nil
		}
		if err := u.c.retry.backoff(ctx, attempt, nil, 0, nil); err != nil {
			return c, err
		}
	}
}
