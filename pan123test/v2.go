package pan123test

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"slices"
	"strconv"
	"strings"
)

var sha1ReuseFields = []field{
	{"parentFileID", tInt, true},
	{"filename", tString, true},
	{"sha1", tString, true},
	{"size", tInt, true},
	{"duplicate", tInt, false},
}

// completeV2 serves V2 upload_complete: the first call verifies the parts;
// with WithAsync(n) the first n calls answer completed=false.
func (s *Server) completeV2(a args) (any, error) {
	id := a.str("preuploadID")
	s.mu.Lock()
	defer s.mu.Unlock()
	if done, ok := s.finished[id]; ok && done.kind == kindV2 {
		return resultData{true, done.fileID}, nil
	}
	ss := s.liveSession(id, kindV2)
	if ss == nil {
		return nil, errNoSession
	}
	if !ss.verifying {
		if err := s.verify(ss); err != nil {
			return nil, err
		}
		ss.verifying, ss.polls = true, 0
		if s.cfg.async {
			ss.polls = s.cfg.polls
		}
	}
	f, err := s.poll(ss)
	if err != nil || f == nil {
		return resultData{false, int64(0)}, err
	}
	return resultData{true, f.ID}, nil
}

// domain serves GET /upload/v2/file/domain: data is a bare array of URLs.
func (s *Server) domain(args) (any, error) { return s.answeredServers(), nil }

// sha1Reuse serves /upload/v2/file/sha1_reuse: instant upload keyed on
// SHA-1 and size (only files with a known SHA-1 match).
func (s *Server) sha1Reuse(a args) (any, error) {
	parent, err := parentKey(a.int("parentFileID"), "parentFileID")
	if err != nil {
		return nil, err
	}
	dup, err := checkDuplicate(a.int("duplicate"))
	if err != nil {
		return nil, err
	}
	sum, size := a.str("sha1"), a.int("size")
	if err := checkName(a.str("filename")); err != nil {
		return nil, err
	}
	if err := checkHex(sum, 40, "sha1"); err != nil {
		return nil, err
	}
	if err := checkSize(size, maxFileSize); err != nil {
		return nil, err
	}
	type reuseData struct {
		FileID int64 `json:"fileID"`
		Reuse  bool  `json:"reuse"`
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.files.isDir(parent) {
		return nil, errNoParent
	}
	src := s.files.find(func(f *File) bool { return f.SHA1 == sum && f.Size == size })
	if src == nil {
		return reuseData{}, nil
	}
	f, err := s.place(s.files, parent, a.str("filename"), dup, reusedCopy(src))
	if err != nil {
		return nil, err
	}
	return reuseData{f.ID, true}, nil
}

// form is a multipart/form-data body read up to its file part: the text
// fields must come first (all known clients send them first), so that the
// file part can be streamed.
type form struct {
	mr     *multipart.Reader
	values map[string]string
	file   *multipart.Part
}

// readForm reads the text fields (only those allowed) up to fileField.
func readForm(c *call, fileField string, allowed ...string) (*form, error) {
	f := &form{values: map[string]string{}}
	mt, _, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return f, badRequest("Content-Type must be multipart/form-data")
	}
	if f.mr, err = c.r.MultipartReader(); err != nil {
		return f, badRequest("malformed multipart body: %v", err)
	}
	for {
		p, err := f.mr.NextPart()
		if err == io.EOF {
			return f, badRequest("missing file field %q", fileField)
		}
		if err != nil {
			return f, badRequest("malformed multipart body: %v", err)
		}
		name := p.FormName()
		if name == fileField {
			f.file = p
			return f, nil
		}
		if !slices.Contains(allowed, name) {
			return f, badRequest("unknown form field %q (text fields must precede %q)", name, fileField)
		}
		if _, dup := f.values[name]; dup {
			return f, badRequest("duplicate form field %q", name)
		}
		b, err := io.ReadAll(io.LimitReader(p, 4097))
		if err != nil {
			return f, badRequest("malformed multipart body: %v", err)
		}
		if len(b) > 4096 {
			return f, badRequest("form field %q too long", name)
		}
		f.values[name] = string(b)
	}
}

// end checks that nothing follows the file part.
func (f *form) end() error {
	_, err := f.mr.NextPart()
	if err == io.EOF {
		return nil
	}
	return badRequest("the file part must be the last form field")
}

// require checks that the required text fields are present.
func (f *form) require(names ...string) error {
	for _, n := range names {
		if _, ok := f.values[n]; !ok {
			return badRequest("missing form field %q", n)
		}
	}
	return nil
}

// int parses an integer field (absent: 0).
func (f *form) int(name string) (int64, error) {
	v, ok := f.values[name]
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, badRequest("form field %q must be an integer, got %q", name, v)
	}
	return n, nil
}

// serveSlice serves POST {server}/upload/v2/file/slice.
func (s *Server) serveSlice(c *call) {
	c.throttle()
	fm, ferr := readForm(c, "slice", "preuploadID", "sliceNo", "sliceMD5")
	n, nerr := fm.int("sliceNo")
	c.rec.SliceNo = int(n)
	if c.fault(c.dropHalf()) || !c.checkHeaders(true) {
		return
	}
	id, sum := fm.values["preuploadID"], fm.values["sliceMD5"]
	err := errors.Join(ferr, fm.require("preuploadID", "sliceNo", "sliceMD5"), nerr)
	if err == nil && len(sum) != 32 {
		err = badRequest("sliceMD5 must be 32 hex digits, got %q", sum)
	}
	if err != nil {
		c.fail(first(err))
		return
	}
	s.mu.Lock()
	ss := s.liveSession(id, kindV2)
	var want int64
	var inRange bool
	if ss != nil {
		want, inRange = ss.sliceLen(int(n))
	}
	s.mu.Unlock()
	switch {
	case ss == nil:
		c.fail(errNoSession)
		return
	case !inRange:
		c.fail(badRequest("sliceNo out of range: %d", n))
		return
	}
	got, err := s.receive(fm.file, want)
	if errors.Is(err, errSize) {
		c.fail(badRequest("slice %d must be exactly %d bytes", n, want))
		return
	}
	if err != nil {
		c.abandon() // client gone or server closing
		return
	}
	if err := fm.end(); err != nil {
		c.fail(err)
		return
	}
	if got.md5 != "" && !strings.EqualFold(got.md5, sum) {
		c.fail(errSliceMD5)
		return
	}
	if !s.storePart(id, kindV2, int(n), got) {
		c.fail(errNoSession)
		return
	}
	c.ok(nil)
}

// serveSingle serves POST {server}/upload/v2/file/single/create.
func (s *Server) serveSingle(c *call) {
	c.throttle()
	if c.fault(c.dropHalf()) || !c.checkHeaders(true) {
		return
	}
	fm, err := readForm(c, "file", "parentFileID", "filename", "etag", "size", "duplicate", "containDir")
	if err == nil {
		err = fm.require("parentFileID", "filename", "etag", "size")
	}
	var u upload
	if err == nil {
		u, err = parseSingle(fm)
	}
	if err != nil {
		c.fail(err)
		return
	}
	if _, err := s.lockedTarget(u); err != nil {
		c.fail(err)
		return
	}
	got, err := s.receive(fm.file, u.size)
	if errors.Is(err, errSize) {
		c.fail(errUploadFailed)
		return
	}
	if err != nil {
		c.abandon() // client gone or server closing
		return
	}
	if err := fm.end(); err != nil {
		c.fail(err)
		return
	}
	if got.md5 != "" && got.md5 != u.etag {
		c.fail(errUploadFailed)
		return
	}
	f := &File{Size: u.size, MD5: u.etag, Data: got.data}
	if got.md5 != "" {
		f.SliceMD5s = []string{got.md5}
	}
	if f.Data != nil {
		f.SHA1 = sha1Hex(f.Data)
	}
	f, err = s.placeSingle(u, f) // the target again: things may have changed while reading
	if err != nil {
		c.fail(err)
		return
	}
	c.ok(struct {
		FileID    int64 `json:"fileID"`
		Completed bool  `json:"completed"`
	}{f.ID, true})
}

// lockedTarget resolves a single-step upload's target under s.mu; the
// deferred unlock keeps the fake usable (and Close from hanging) if a
// handler panics.
func (s *Server) lockedTarget(u upload) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.target(s.files, u)
}

// placeSingle resolves the target again and stores f there, under s.mu.
func (s *Server) placeSingle(u upload, f *File) (*File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	parent, err := s.target(s.files, u)
	if err != nil {
		return nil, err
	}
	return s.place(s.files, parent, u.name, u.duplicate, f)
}

func parseSingle(fm *form) (upload, error) {
	pid, err := fm.int("parentFileID")
	if err != nil {
		return upload{}, err
	}
	parent, err := parentKey(pid, "parentFileID")
	if err != nil {
		return upload{}, err
	}
	size, err := fm.int("size")
	if err != nil {
		return upload{}, err
	}
	d, err := fm.int("duplicate")
	if err != nil {
		return upload{}, err
	}
	dup, err := checkDuplicate(d)
	if err != nil {
		return upload{}, err
	}
	containDir := false
	if v, ok := fm.values["containDir"]; ok {
		if containDir, err = strconv.ParseBool(v); err != nil || (v != "true" && v != "false") {
			return upload{}, badRequest("form field containDir must be true or false, got %q", v)
		}
	}
	return newUpload(parent, fm.values["filename"], fm.values["etag"], size, dup, containDir, maxSingleSize)
}

// first returns the first error joined in err.
func first(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()[0]
	}
	return err
}
