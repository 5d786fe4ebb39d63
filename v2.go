package pan123

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"
	"golang.org/x/sync/singleflight"
)

// The V2 protocol of the drive: create answers upload servers,
// slices are posted there as multipart/form-data with their MD5, and
// upload_complete is called again until the platform has the file. Small
// files can go in one request (single-step upload), and a file whose SHA-1
// the platform knows needs no bytes at all (sha1_reuse).

// MaxSingleUploadSize is the platform's cap for single-step upload: 1 GB.
const MaxSingleUploadSize int64 = 1 << 30

// AutoSingleThreshold is the largest file that Auto sends with single-step
// upload. Up to one V2 slice (16 MiB in every answer seen), a file travels in
// one request either way, and single-step saves create and complete calls;
// above it, V2 slices can be retried one by one and sent in parallel.
const AutoSingleThreshold int64 = 16 << 20

// CreateV2 starts a V2 drive upload (POST /upload/v2/file/create); the
// answer's Servers are the hosts to post slices to. Replays as [DriveService.Create].
func (s *DriveService) CreateV2(ctx context.Context, req *FileCreateRequest) (*FileCreateResult, error) {
	return s.c.createFile(ctx, pathV2Create, req)
}

// UploadDomains returns the upload hosts for single-step uploads
// (GET /upload/v2/file/domain; its data is a bare array), as base URLs:
// entries that are not usable (another scheme, no host) are left out, and a
// bare host is taken as https. It fails when no entry is usable.
func (s *DriveService) UploadDomains(ctx context.Context) ([]string, error) {
	var hosts []string
	if err := s.c.do(ctx, &call{method: http.MethodGet, path: pathV2Domain, out: &hosts, replay: true}); err != nil {
		return nil, err
	}
	return usableHosts("domain", hosts)
}

// domainTTL is how long the single-step upload hosts are reused before
// domain is asked again. The platform names the same host in every answer
// seen; a single-step failure drops them sooner.
const domainTTL = 10 * time.Minute

// domainCache keeps the upload hosts of [DriveService.UploadDomains] for
// single-step uploads, so that a tree of small files costs one request per
// file instead of two (domain is paced at 5/s).
type domainCache struct {
	mu      sync.Mutex
	hosts   []string
	expires time.Time
	flight  singleflight.Group
}

// uploadHosts returns the cached upload hosts, asking domain (once,
// however many uploads wait) when there are none or they are too old.
func (c *Client) uploadHosts(ctx context.Context) ([]string, error) {
	d := &c.domains
	d.mu.Lock()
	hosts, fresh := d.hosts, c.now().Before(d.expires)
	d.mu.Unlock()
	if fresh {
		return hosts, nil
	}
	ch := d.flight.DoChan("domain", func() (any, error) {
		// Not bound to one waiter's context: the others use the answer.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultAPITimeout)
		defer cancel()
		hosts, err := c.Drive.UploadDomains(fctx)
		if err == nil {
			d.mu.Lock()
			d.hosts, d.expires = hosts, c.now().Add(domainTTL)
			d.mu.Unlock()
		}
		return hosts, err
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.([]string), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// dropUploadHosts forgets the cached hosts after a failed single-step
// upload, so that the next one asks domain again.
func (c *Client) dropUploadHosts() {
	c.domains.mu.Lock()
	c.domains.hosts, c.domains.expires = nil, time.Time{}
	c.domains.mu.Unlock()
}

// uploadHost checks an upload host given by the platform and returns its
// base URL. A bare host ("upload.example.com", no scheme) is taken as
// https, as other clients of the platform do; any other scheme, a missing
// host, credentials, a query or a fragment make it unusable.
func uploadHost(h string) (string, error) {
	h = strings.TrimSpace(h)
	if h != "" && !strings.Contains(h, "://") {
		h = "https://" + h
	}
	u, err := url.Parse(h)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", protocolError("upload host %q is not an absolute http(s) URL", h)
	}
	return h, nil
}

// usableHosts keeps the usable upload hosts of a list the platform answered
// in what (see uploadHost), in order; it fails only when none is usable.
func usableHosts(what string, list []string) ([]string, error) {
	var hosts []string
	for _, h := range list {
		if u, err := uploadHost(h); err == nil {
			hosts = append(hosts, u)
		}
	}
	if len(hosts) == 0 {
		return nil, protocolError("%s answered no usable upload host (%q)", what, list)
	}
	return hosts, nil
}

// UploadSliceV2 posts one slice to an upload server
// ({server}/upload/v2/file/slice) as multipart/form-data with the fields
// preuploadID, sliceNo, sliceMD5 and slice. The slice is streamed from body
// with a known Content-Length, never buffered. It makes one attempt; a 401
// drops the token so that the next attempt gets a fresh one. Only ctx
// bounds the call (the Uploader adds its stall and response timeouts).
func (s *DriveService) UploadSliceV2(ctx context.Context, server, preuploadID string, sliceNo int, sliceMD5 string, body io.Reader, size int64) error {
	server, err := uploadHost(server)
	if err != nil {
		return err
	}
	fields := [][2]string{{"preuploadID", preuploadID}, {"sliceNo", strconv.Itoa(sliceNo)}, {"sliceMD5", sliceMD5}}
	return s.c.postForm(ctx, server, pathV2Slice, fields, "slice", fmt.Sprintf("slice%d", sliceNo), body, size, nil)
}

// CompleteV2 asks the platform to finish a V2 upload. While it verifies
// the answer is Completed=false (or code 20103, ErrVerifying): call again
// after a second. Keyed by the session, so it is replayed after ambiguous failures.
func (s *DriveService) CompleteV2(ctx context.Context, preuploadID string) (*FileCompleteResult, error) {
	var d completeData
	if err := s.c.sessionCall(ctx, pathV2Complete, preuploadID, &d, false); err != nil {
		return nil, err
	}
	return &FileCompleteResult{Completed: d.Completed, FileID: int64(d.FileID)}, nil
}

// FileSingleUploadRequest describes a single-step upload (≤ 1 GB).
type FileSingleUploadRequest struct {
	ParentFileID int64
	Filename     string
	Etag         string // whole-file MD5, lowercase hex
	Size         int64
	Duplicate    Duplicate
	ContainDir   bool
}

// FileSingleUploadResult is the answer of a single-step upload.
type FileSingleUploadResult struct {
	FileID    int64
	Completed bool
}

// SingleUpload sends a whole file of req.Size bytes from body in one
// multipart request to an upload host (see [DriveService.UploadDomains]). It makes
// one attempt: body cannot be replayed. Only ctx bounds the call (the
// Uploader adds its stall and response timeouts).
func (s *DriveService) SingleUpload(ctx context.Context, server string, req *FileSingleUploadRequest, body io.Reader) (*FileSingleUploadResult, error) {
	server, err := uploadHost(server)
	if err != nil {
		return nil, err
	}
	if req == nil || req.Size <= 0 || req.Size > MaxSingleUploadSize {
		return nil, invalidInput("single-step upload needs 0 < size <= %d", MaxSingleUploadSize)
	}
	fields := [][2]string{{"parentFileID", strconv.FormatInt(req.ParentFileID, 10)}, {"filename", req.Filename},
		{"etag", req.Etag}, {"size", strconv.FormatInt(req.Size, 10)}}
	if req.Duplicate != DuplicateUnset {
		fields = append(fields, [2]string{"duplicate", strconv.Itoa(int(req.Duplicate))})
	}
	if req.ContainDir {
		fields = append(fields, [2]string{"containDir", "true"})
	}
	var d completeData
	if err := s.c.postForm(ctx, server, pathV2Single, fields, "file", req.Filename, body, req.Size, &d); err != nil {
		return nil, err
	}
	return &FileSingleUploadResult{FileID: int64(d.FileID), Completed: d.Completed}, nil
}

// FileSHA1ReuseRequest asks for an instant upload by SHA-1 (POST /upload/v2/file/sha1_reuse).
type FileSHA1ReuseRequest struct {
	ParentFileID int64     `json:"parentFileID"`
	Filename     string    `json:"filename"`
	SHA1         string    `json:"sha1"` // lowercase hex
	Size         int64     `json:"size"`
	Duplicate    Duplicate `json:"duplicate,omitempty"`
}

// FileSHA1ReuseResult is the answer of sha1_reuse.
type FileSHA1ReuseResult struct {
	FileID int64 // the new file, when Reuse
	Reuse  bool  // the platform had the content: the file exists now
}

// SHA1Reuse tries an instant upload by SHA-1 and size. Reuse false means
// the platform does not have the content: upload it normally.
func (s *DriveService) SHA1Reuse(ctx context.Context, req *FileSHA1ReuseRequest) (*FileSHA1ReuseResult, error) {
	if req == nil {
		return nil, invalidInput("nil FileSHA1ReuseRequest")
	}
	var d struct {
		FileID flexInt `json:"fileID"`
		Reuse  bool    `json:"reuse"`
	}
	if err := s.c.do(ctx, &call{path: pathV2SHA1Reuse, body: req, out: &d, replay: req.Duplicate != KeepBoth}); err != nil {
		return nil, err
	}
	return &FileSHA1ReuseResult{FileID: int64(d.FileID), Reuse: d.Reuse}, nil
}

// postForm streams a multipart/form-data POST: the text fields, then one
// file part read from body, with an exact Content-Length (the head and tail
// are small buffers; the file part is never copied). Auth and Platform are
// sent as on every API call; the answer is the usual envelope.
func (c *Client) postForm(ctx context.Context, host, path string, fields [][2]string, fileField, fileName string, body io.Reader, size int64, out any) (err error) {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return err
		}
	}
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, fileField, escapeQuotes(fileName)))
	h.Set("Content-Type", "application/octet-stream")
	if _, err := mw.CreatePart(h); err != nil {
		return err
	}
	headLen := head.Len()
	if err := mw.Close(); err != nil {
		return err
	}
	tail := append([]byte(nil), head.Bytes()[headLen:]...)
	head.Truncate(headLen)
	tail = append([]byte("\r\n"), bytes.TrimPrefix(tail, []byte("\r\n"))...)

	token, err := c.tokens.token(ctx)
	if err != nil {
		return err
	}
	slot, err := c.limits.wait(ctx, path)
	if err != nil {
		return err
	}
	defer func() { c.limits.observe(path, slot, err) }() // adaptive pacing, when path is paced
	target := strings.TrimRight(host, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, io.MultiReader(&head, body, bytes.NewReader(tail)))
	if err != nil {
		return err
	}
	req.ContentLength = int64(headLen) + size + int64(len(tail))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Platform", "open_platform")
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.data.Do(req)
	if err != nil {
		return requestError(http.MethodPost, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIBody+1))
	if err != nil {
		return wrapf(err, "POST %s: read answer", path)
	}
	if len(b) > maxAPIBody {
		// As on the API host: an oversized answer is refused, not decoded
		// truncated (which would read as a transient garbled body).
		return wrapf(resty.ErrResponseBodyTooLarge, "POST %s: read answer", path)
	}
	err = decodeEnvelope(http.MethodPost, path, resp.StatusCode, resp.Header, b, out, c.now())
	if refreshable(err) {
		c.tokens.invalidate(token, err)
	}
	return err
}

func escapeQuotes(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "").Replace(s)
}

// v2Target is the drive over V2: slices round-robin over the upload
// servers, each retry moving to the next server (failover).
type v2Target struct {
	driveTarget
	pre sliceSums // from the hashing pass
	dir string    // the checkpoint dir, which remembers the slice size; may be ""
}

// defaultV2SliceSize is the slice size the hashing pass prepares V2 slice
// MD5s for until a V2 create of the Client has answered one: 16 MiB, the
// size in every V2 answer seen.
const defaultV2SliceSize int64 = 16 << 20

// sliceSums are the MD5s of a file's slices of one size.
type sliceSums struct {
	size int64
	sums []string
}

// lookup returns slice p's MD5 if it was computed for this slice size.
func (s sliceSums) lookup(size int64, p slicePlan) (string, bool) {
	if size != s.size || p.No < 1 || p.No > len(s.sums) {
		return "", false
	}
	return s.sums[p.No-1], true
}

// hash is the whole-file hashing pass of V2: the MD5 and, in the same
// read, the slice MD5s for the slice size the Client's last V2 create
// answered (or the checkpoint dir remembers), so that no slice is hashed
// again before its post unless create answers another size.
func (t *v2Target) hash(r io.ReaderAt, off, n int64, onRead func(int)) (string, error) {
	size := t.c.v2SliceSize.Load()
	if size <= 0 {
		size = t.recalledSliceSize()
	}
	if size <= 0 {
		size = defaultV2SliceSize
	}
	if n > 0 && (n-1)/size+1 > maxSlices {
		size = 0 // create would refuse so many slices: no sum per few bytes
	}
	sum, sums, err := hashPass(r, off, n, size, onRead)
	t.pre = sliceSums{size: size, sums: sums}
	return sum, err
}

// v2SliceSizeFile, in a checkpoint dir, holds the slice size of the last
// V2 create answer, so that the hashing pass of a Client that has not made
// a V2 upload yet (another process) computes the slice MD5s of that size.
const v2SliceSizeFile = "v2-slice-size"

// recalledSliceSize is the slice size remembered in the checkpoint dir, or 0.
func (t *v2Target) recalledSliceSize() int64 {
	if t.dir == "" {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(t.dir, v2SliceSizeFile))
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

func (t *v2Target) create(ctx context.Context, sum string, size int64) (created, error) {
	r, err := t.c.Drive.CreateV2(ctx, &FileCreateRequest{ParentFileID: t.in.ParentFileID, Filename: t.in.Name,
		Etag: sum, Size: size, Duplicate: t.in.Duplicate, ContainDir: t.in.ContainDir})
	if err != nil {
		return created{}, err
	}
	if r.SliceSize > 0 {
		t.c.v2SliceSize.Store(r.SliceSize)
		if t.dir != "" && r.SliceSize != t.recalledSliceSize() {
			// A hint: when it cannot be written, the next process guesses.
			_ = os.WriteFile(filepath.Join(t.dir, v2SliceSizeFile), []byte(strconv.FormatInt(r.SliceSize, 10)), 0o600)
		}
	}
	var servers []string
	if !r.Reuse {
		servers, err = usableHosts("create", r.Servers)
	}
	if err != nil {
		// Some answers carry no (usable) servers; the domain endpoint has them.
		if servers, err = t.c.uploadHosts(ctx); err != nil {
			return created{}, err
		}
	}
	return created{reuse: r.Reuse, file: driveFile(r.FileID), preuploadID: r.PreuploadID,
		sliceSize: r.SliceSize, servers: servers}, nil
}

func (t *v2Target) protocol() string { return "v2" }
func (t *v2Target) withClient(c *Client) target {
	return &v2Target{driveTarget: driveTarget{c: c, in: t.in}, dir: t.dir}
}

func (t *v2Target) sendSlice(ctx context.Context, s session, p slicePlan, attempt int, sb *sliceBody) error {
	if len(s.servers) == 0 {
		return protocolError("no upload server for V2 slices")
	}
	// The slice MD5 goes before the bytes in the form. The hashing pass
	// computed it when it knew the slice size; otherwise the slice is read
	// again for it (from the page cache, mostly) rather than held in
	// memory, ahead of its post: while a worker posts a slice, the next
	// one is hashed on another goroutine, so the hashing overlaps the
	// transfer instead of following it.
	sum, ok := t.pre.lookup(s.sliceSize, p)
	if !ok {
		base := sb.off - p.Off // where the file starts in src
		var err error
		sum, err = s.ahead.get(ctx, p, 0, func(ctx context.Context, q slicePlan) (string, error) {
			return md5Of(ctxReaderAt{ctx, sb.src}, base+q.Off, q.Size, nil)
		})
		if err != nil {
			return err
		}
	}
	server := s.servers[(p.No-1+attempt-1)%len(s.servers)]
	return t.c.Drive.UploadSliceV2(ctx, server, s.preuploadID, p.No, sum, sb, p.Size)
}

func (t *v2Target) listParts(context.Context, session) ([]UploadPart, error) {
	return nil, errors.Join(errSessionGone, errors.New("V2 has no list of uploaded slices"))
}

func (t *v2Target) complete(ctx context.Context, s session) (completion, error) {
	return t.c.driveComplete(ctx, pathV2Complete, s.preuploadID, true)
}

// asyncResult: V2 has no separate endpoint; complete is called again.
func (t *v2Target) asyncResult(ctx context.Context, s session) (completion, error) {
	return t.complete(ctx, s)
}

// singleTarget sends a small drive file in one request (single-step upload).
type singleTarget struct{ v2Target }

func (t *singleTarget) protocol() string { return "single" }
func (t *singleTarget) withClient(c *Client) target {
	return &singleTarget{v2Target{driveTarget: driveTarget{c: c, in: t.in}}}
}

func (t *singleTarget) uploadWhole(ctx context.Context, cfg uploadConfig, src *source, sum string, rep *reporter) (*upload, error) {
	hosts, err := t.c.uploadHosts(ctx)
	if err != nil {
		return nil, &UploadError{FileName: t.in.Name, Err: err}
	}
	rep.phase(PhaseUploading, 1)
	pol := cfg.sliceRetry
	req := &FileSingleUploadRequest{ParentFileID: t.in.ParentFileID, Filename: t.in.Name, Etag: sum, Size: src.size,
		Duplicate: t.in.Duplicate, ContainDir: t.in.ContainDir}
	ambiguousBefore := false // an earlier attempt may have stored the file
	for attempt := 1; ; attempt++ {
		r, sent, err := t.sendOnce(ctx, cfg, hosts[(attempt-1)%len(hosts)], req, src, rep)
		if err == nil && r.Completed && r.FileID > 0 {
			rep.slice(EventSliceDone, 1, 0, nil)
			rep.phase(PhaseDone, 1)
			return &upload{file: driveFile(r.FileID), name: t.in.Name, size: src.size, md5: sum}, nil
		}
		if err == nil {
			err = protocolError("single-step upload answered completed=%v, fileID=%d", r.Completed, r.FileID)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ae *APIError
		queued := errors.As(err, &ae) && ae.slowDown() // the instant-upload queue is busy
		// The platform may have stored the file when the whole request was
		// sent and the answer is not a clear refusal. Such a failure, and a
		// same-name refusal after one, is reconciled by looking in the
		// parent folder before anything is sent again (see reconcile.go).
		ambiguous := !queued && !notSent(err) && sent == src.size && (ae == nil || sliceRetryable(ctx, err))
		sameName := ambiguousBefore && ae != nil && ae.Code == codeBusiness && !queued
		ambiguousBefore = ambiguousBefore || ambiguous
		if (ambiguous || sameName) && t.canReconcile() && t.in.Duplicate != Overwrite { // Overwrite replays safely
			id, lerr := t.reconcile(ctx, sum, src.size)
			if id > 0 {
				t.c.log.WarnContext(ctx, "pan123: single-step answer lost; the file is in the folder", "file", t.in.Name, "err", err)
				rep.slice(EventSliceDone, 1, 0, nil)
				rep.phase(PhaseDone, 1)
				return &upload{file: driveFile(id), name: t.in.Name, size: src.size, md5: sum}, nil
			}
			if lerr != nil {
				err = fmt.Errorf("%w (and the folder could not be listed to check whether the file was stored: %w)", err, lerr)
			} else {
				ambiguous = false // not stored (or not listed yet): send again
			}
		}
		stop := attempt >= pol.maxAttempts || (ambiguous && t.in.Duplicate == KeepBoth) || !(queued || sliceRetryable(ctx, err))
		if stop {
			rep.slice(EventBytes, 0, -sent, nil)
			t.c.dropUploadHosts()
			return nil, &UploadError{FileName: t.in.Name, Err: err}
		}
		rep.slice(EventSliceRetry, 1, -sent, err)
		var floor time.Duration
		if queued {
			floor = time.Second // "请慢一点"
		}
		if err := pol.backoff(ctx, attempt, err, floor, nil); err != nil {
			return nil, err
		}
	}
}

// sendOnce makes one single-step attempt with the stall detector of slice
// sends, and reports how many bytes left.
func (t *singleTarget) sendOnce(ctx context.Context, cfg uploadConfig, host string, req *FileSingleUploadRequest, src *source, rep *reporter) (*FileSingleUploadResult, int64, error) {
	var r *FileSingleUploadResult
	sent, err := sendWithStall(ctx, cfg, caps{t.c.bw, cfg.bw}, src.r, src.off, src.size, rep, func(ctx context.Context, body *sliceBody) error {
		var err error
		r, err = t.c.Drive.SingleUpload(ctx, host, req, body)
		return err
	})
	return r, sent, err
}
