package pan123

// A target is one family's (or protocol's) side of the upload flow: the
// calls that differ between the drive's V1, V2 and single-step protocols and
// the image bed. The flow in upload.go is written once against it; the
// drive's V1 and the image bed are here, V2 and single-step in v2.go.

import (
	"context"
	"fmt"
	"io"
	"strconv"
)

// completion is a family-neutral answer of upload_complete / async_result.
type completion struct {
	async, completed bool
	file             fileRef
}

// fileRef is a file's ID as its family gives it, passed along the flow
// unconverted: the drive's number or the image bed's opaque string.
type fileRef struct {
	num int64  // drive
	str string // image bed
}

func driveFile(id int64) fileRef  { return fileRef{num: id} }
func imageFile(id string) fileRef { return fileRef{str: id} }

// known reports an ID the platform gave (not 0, "" or "0").
func (f fileRef) known() bool { return f.num > 0 || (f.str != "" && f.str != "0") }

// String is the ID as the platform wrote it, for error texts.
func (f fileRef) String() string {
	if f.str != "" {
		return f.str
	}
	return strconv.FormatInt(f.num, 10)
}

// v1Done reads a V1-style upload_complete answer (drive and image bed) as
// the V1 flow page does: finished when async is false and fileID is
// non-zero. The page does not mention completed, while the field table
// lists it; the SDK follows the flow page and does not require it. V2 is
// not read this way: its page asks for completed=true.
func (r completion) v1Done() completion {
	r.completed = r.completed || (!r.async && r.file.known())
	return r
}

// created is a family-neutral answer of create.
type created struct {
	reuse       bool
	file        fileRef
	preuploadID string
	sliceSize   int64
	servers     []string
}

// target is one destination family and protocol: everything the flow
// needs that differs between them, so that the flow asks the target and
// never its type.
type target interface {
	name() string
	dest() string     // family, parent and name: what a checkpoint is keyed on
	protocol() string // of its sessions, for checkpoints: one protocol cannot continue another's session
	// drive is the drive's input and Client, for the drive-only steps
	// (SHA-1 reuse, reconciling by listing, choosing V2); nil for the image bed.
	drive() *driveTarget
	// hash is the whole-file hashing pass: the MD5 (V2 computes its slice
	// MD5s in the same read).
	hash(r io.ReaderAt, off, n int64, onRead func(int)) (string, error)
	create(ctx context.Context, md5 string, size int64) (created, error)
	sendSlice(ctx context.Context, s session, p slicePlan, attempt int, body *sliceBody) error // attempt is 1-based
	listParts(ctx context.Context, s session) ([]UploadPart, error)
	complete(ctx context.Context, s session) (completion, error)
	asyncResult(ctx context.Context, s session) (completion, error)
	withClient(c *Client) target // the same target, sending through c
}

// wholeFile is a target that sends the whole file in one request
// (single-step) instead of the create-slices-complete flow.
type wholeFile interface {
	uploadWhole(ctx context.Context, cfg uploadConfig, src *source, sum string, rep *reporter) (*upload, error)
}

// putV1 is the V1 slice send of both families: a fresh URL (fetched while
// the previous slice was sending, see sliceAhead), then the PUT.
func putV1(ctx context.Context, c *Client, urlPath string, s session, p slicePlan, body *sliceBody) error {
	u, err := s.ahead.get(ctx, p, urlMaxAge, func(ctx context.Context, p slicePlan) (string, error) {
		u, err := c.getUploadURL(ctx, urlPath, s.preuploadID, p.No)
		if err != nil {
			return "", wrapf(err, "get upload url")
		}
		if u.PresignedURL == "" {
			return "", protocolError("get_upload_url answered an empty presignedURL")
		}
		// Checked here too, so that a bad answer fetches nothing ahead.
		if _, err := parsePresignedURL(u.PresignedURL); err != nil {
			return "", err
		}
		return u.PresignedURL, nil
	})
	if err != nil {
		return err
	}
	return c.PutSlice(ctx, u, body, p.Size)
}

type driveTarget struct {
	c  *Client
	in FileInput
}

func (t *driveTarget) name() string { return t.in.Name }

func (t *driveTarget) dest() string {
	return fmt.Sprintf("drive/%d/%s/dup%d/dir%v", t.in.ParentFileID, t.in.Name, t.in.Duplicate, t.in.ContainDir)
}

func (t *driveTarget) create(ctx context.Context, sum string, size int64) (created, error) {
	r, err := t.c.Drive.Create(ctx, &FileCreateRequest{ParentFileID: t.in.ParentFileID, Filename: t.in.Name,
		Etag: sum, Size: size, Duplicate: t.in.Duplicate, ContainDir: t.in.ContainDir})
	if err != nil {
		return created{}, err
	}
	return created{reuse: r.Reuse, file: driveFile(r.FileID), preuploadID: r.PreuploadID,
		sliceSize: r.SliceSize, servers: r.Servers}, nil
}

func (t *driveTarget) protocol() string    { return "v1" }
func (t *driveTarget) drive() *driveTarget { return t }
func (t *driveTarget) hash(r io.ReaderAt, off, n int64, onRead func(int)) (string, error) {
	return md5Of(r, off, n, onRead)
}
func (t *driveTarget) withClient(c *Client) target { return &driveTarget{c: c, in: t.in} }

func (t *driveTarget) sendSlice(ctx context.Context, s session, p slicePlan, _ int, body *sliceBody) error {
	return putV1(ctx, t.c, pathGetUploadURL, s, p, body)
}

func (t *driveTarget) listParts(ctx context.Context, s session) ([]UploadPart, error) {
	return t.c.Drive.ListParts(ctx, s.preuploadID)
}

func (t *driveTarget) complete(ctx context.Context, s session) (completion, error) {
	r, err := t.c.driveComplete(ctx, pathComplete, s.preuploadID, true)
	return r.v1Done(), err
}

func (t *driveTarget) asyncResult(ctx context.Context, s session) (completion, error) {
	return t.c.driveComplete(ctx, pathAsyncResult, s.preuploadID, true)
}

// driveComplete is upload_complete or upload_async_result for the poller:
// code 20103 comes back at once, as the poller keeps its own schedule.
func (c *Client) driveComplete(ctx context.Context, path, preuploadID string, verifyingIsFinal bool) (completion, error) {
	var d completeData
	err := c.sessionCall(ctx, path, preuploadID, &d, verifyingIsFinal)
	return completion{async: d.Async, completed: d.Completed, file: driveFile(int64(d.FileID))}, err
}

type imageTarget struct {
	c  *Client
	in ImageInput
}

func (t *imageTarget) name() string { return t.in.Name }

func (t *imageTarget) dest() string { return "image/" + t.in.ParentID + "/" + t.in.Name }

func (t *imageTarget) create(ctx context.Context, sum string, size int64) (created, error) {
	r, err := t.c.Image.Create(ctx, &ImageCreateRequest{ParentID: t.in.ParentID, Filename: t.in.Name, Etag: sum, Size: size})
	if err != nil {
		return created{}, err
	}
	return created{reuse: r.Reuse, file: imageFile(r.FileID), preuploadID: r.PreuploadID, sliceSize: r.SliceSize}, nil
}

func (t *imageTarget) protocol() string    { return "v1" }
func (t *imageTarget) drive() *driveTarget { return nil }
func (t *imageTarget) hash(r io.ReaderAt, off, n int64, onRead func(int)) (string, error) {
	return md5Of(r, off, n, onRead)
}
func (t *imageTarget) withClient(c *Client) target { return &imageTarget{c: c, in: t.in} }

func (t *imageTarget) sendSlice(ctx context.Context, s session, p slicePlan, _ int, body *sliceBody) error {
	return putV1(ctx, t.c, pathOSSGetUploadURL, s, p, body)
}

func (t *imageTarget) listParts(ctx context.Context, s session) ([]UploadPart, error) {
	return t.c.Image.ListParts(ctx, s.preuploadID)
}

func (t *imageTarget) complete(ctx context.Context, s session) (completion, error) {
	r, err := t.poll(ctx, pathOSSComplete, s)
	return r.v1Done(), err
}

func (t *imageTarget) asyncResult(ctx context.Context, s session) (completion, error) {
	return t.poll(ctx, pathOSSAsyncResult, s)
}

// poll is upload_complete or upload_async_result for the poller (code 20103
// comes back at once, as in driveComplete).
func (t *imageTarget) poll(ctx context.Context, path string, s session) (completion, error) {
	r, err := t.c.completeImage(ctx, path, s.preuploadID, true)
	if err != nil {
		return completion{}, err
	}
	return completion{async: r.Async, completed: r.Completed, file: imageFile(r.FileID)}, nil
}

// resolveTarget picks the drive's protocol for a file of size bytes.
func resolveTarget(cfg uploadConfig, t target, size int64) target {
	dt := t.drive()
	if dt == nil || t.protocol() != "v1" {
		return t // the image bed has only V1; a protocol chosen already stays
	}
	switch {
	case cfg.protocol == V2, cfg.protocol == Auto && size > AutoSingleThreshold:
		return &v2Target{driveTarget: *dt, dir: cfg.checkpointDir}
	case cfg.protocol == Auto:
		return &singleTarget{v2Target{driveTarget: *dt}}
	}
	return t
}
