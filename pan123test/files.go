package pan123test

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Size limits of the platform.
const (
	// maxNameLength is the longest name, in Unicode code points: the create
	// field tables say "小于255个字符" (a page note says fewer than 256; the
	// fake takes the stricter reading).
	maxNameLength = 254
	maxFileSize   = 10 << 30 // multipart create (V1, V2, image bed)
	maxSingleSize = 1 << 30  // V2 single-step create
)

func createFields(k kind) []field {
	if k == kindOSS {
		return []field{
			{"parentFileID", tString, true},
			{"filename", tString, true},
			{"etag", tString, true},
			{"size", tInt, true},
			{"type", tInt, true},
		}
	}
	return []field{
		{"parentFileID", tInt, true},
		{"filename", tString, true},
		{"etag", tString, true},
		{"size", tInt, true},
		{"duplicate", tInt, false},
		{"containDir", tBool, false},
	}
}

var getURLFields = []field{{"preuploadID", tString, true}, {"sliceNo", tInt, true}}

func mkdirFields(k kind) []field {
	if k == kindOSS {
		return []field{{"name", tStrings, true}, {"parentID", tString, true}, {"type", tInt, true}}
	}
	return []field{{"name", tString, true}, {"parentID", tInt, true}}
}

// upload is a validated create request (any family, also V2 single and sha1_reuse).
type upload struct {
	parent    string   // tree key of the parent folder
	dirs      []string // folders to create under parent (containDir)
	name      string
	etag      string // MD5 (or SHA-1 for sha1_reuse)
	size      int64
	duplicate int
}

// parentKey validates a file-family parent ID and renders it as a tree key.
func parentKey(id int64, key string) (string, error) {
	if id < 0 {
		return "", badRequest("%s must be >= 0", key)
	}
	return strconv.FormatInt(id, 10), nil
}

func checkDuplicate(d int64) (int, error) {
	if d < 0 || d > 2 {
		return 0, badRequest("duplicate must be 1 (keep both) or 2 (overwrite), got %d", d)
	}
	return int(d), nil
}

func checkType(a args) error {
	if t := a.int("type"); t != 1 {
		return badRequest("type must be 1, got %d", t)
	}
	return nil
}

// checkName applies the platform's filename rules: at most 254 characters,
// none of "\/:*?|><, not blank.
func checkName(name string) error {
	switch {
	case name == "":
		return badRequest("empty file name")
	case !utf8.ValidString(name):
		return badRequest("file name is not valid UTF-8")
	case utf8.RuneCountInString(name) > maxNameLength:
		return badRequest("file name longer than %d characters", maxNameLength)
	case strings.ContainsAny(name, `"\/:*?|><`):
		return badRequest(`file name %q contains one of "\/:*?|><`, name)
	case strings.Trim(name, " ") == "":
		return badRequest("file name is all spaces")
	}
	return nil
}

// splitPath splits a containDir filename like "/a/b/c.txt" into folders and name.
func splitPath(p string) ([]string, string, error) {
	var parts []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return nil, "", badRequest("empty file name")
	}
	for _, s := range parts {
		if err := checkName(s); err != nil {
			return nil, "", err
		}
	}
	return parts[:len(parts)-1], parts[len(parts)-1], nil
}

func checkHex(s string, n int, what string) error {
	if len(s) != n || strings.Trim(s, "0123456789abcdef") != "" {
		return badRequest("%s must be %d lowercase hex digits, got %q", what, n, s)
	}
	return nil
}

func checkSize(size, limit int64) error {
	if size <= 0 {
		return badRequest("size must be > 0 (empty files are not supported), got %d", size)
	}
	if size > limit {
		return errTooLarge
	}
	return nil
}

// newUpload validates the common fields of a file upload.
func newUpload(parent, filename, etag string, size int64, duplicate int, containDir bool, limit int64) (upload, error) {
	u := upload{parent: parent, name: filename, etag: etag, size: size, duplicate: duplicate}
	var err error
	if containDir {
		u.dirs, u.name, err = splitPath(filename)
	} else {
		err = checkName(filename)
	}
	if err != nil {
		return upload{}, err
	}
	if err := checkHex(etag, 32, "etag"); err != nil {
		return upload{}, err
	}
	return u, checkSize(size, limit)
}

func parseCreate(k kind, a args) (upload, error) {
	if k == kindOSS {
		if err := checkType(a); err != nil {
			return upload{}, err
		}
		return newUpload(a.str("parentFileID"), a.str("filename"), a.str("etag"), a.int("size"), 0, false, maxFileSize)
	}
	parent, err := parentKey(a.int("parentFileID"), "parentFileID")
	if err != nil {
		return upload{}, err
	}
	dup, err := checkDuplicate(a.int("duplicate"))
	if err != nil {
		return upload{}, err
	}
	return newUpload(parent, a.str("filename"), a.str("etag"), a.int("size"), dup, a.bool("containDir"), maxFileSize)
}

// target resolves where an upload goes: it checks the parent, creates the
// containDir folders and rejects a same-name entry the duplicate policy
// does not resolve. It returns the final parent key; s.mu must be held.
func (s *Server) target(t *tree, u upload) (string, error) {
	if !t.isDir(u.parent) {
		return "", errNoParent
	}
	parent := u.parent
	for _, d := range u.dirs {
		f := t.child(parent, d)
		if f == nil {
			f = s.add(t, parent, &File{Name: d, Dir: true})
		} else if !f.Dir {
			return "", errFileExists
		}
		parent = t.key(f)
	}
	if old := t.child(parent, u.name); old != nil && u.duplicate != 1 && (u.duplicate != 2 || old.Dir) {
		return "", errFileExists
	}
	return parent, nil
}

type createData struct {
	FileID      any      `json:"fileID"`
	PreuploadID string   `json:"preuploadID,omitempty"`
	Reuse       bool     `json:"reuse"`
	SliceSize   int64    `json:"sliceSize,omitempty"`
	Servers     []string `json:"servers,omitempty"`
}

// create serves v1, image-bed and V2 create: instant upload when a file
// with the same MD5 and size exists in the same ID space, else a session.
func (s *Server) create(k kind, a args) (any, error) {
	u, err := parseCreate(k, a)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tree(k)
	parent, err := s.target(t, u)
	if err != nil {
		return nil, err
	}
	if src := t.find(func(f *File) bool { return f.MD5 == u.etag && f.Size == u.size }); src != nil {
		f, err := s.place(t, parent, u.name, u.duplicate, reusedCopy(src))
		if err != nil {
			return nil, err
		}
		return createData{FileID: t.idValue(f), Reuse: true}, nil
	}
	ss := &session{
		id:        newPreuploadID(),
		kind:      k,
		parent:    parent,
		name:      u.name,
		size:      u.size,
		etag:      u.etag,
		sliceSize: s.cfg.sliceSize,
		duplicate: u.duplicate,
		created:   s.now(),
		parts:     map[int]part{},
	}
	if k == kindOSS {
		ss.sliceSize = s.cfg.imageSliceSize
	}
	s.sessions[ss.id] = ss
	d := createData{FileID: t.idValue(nil), PreuploadID: ss.id, SliceSize: ss.sliceSize}
	if k == kindV2 {
		d.Servers = s.answeredServers()
	}
	return d, nil
}

func reusedCopy(src *File) *File {
	c := copyFile(src)
	c.Reused = true
	return &c
}

// getUploadURL serves get_upload_url (file family and image bed).
func (s *Server) getUploadURL(k kind, a args) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.liveSession(a.str("preuploadID"), k)
	if ss == nil {
		return nil, errNoSession
	}
	n := a.int("sliceNo")
	if n < 1 || n > int64(ss.slices()) {
		return nil, badRequest("sliceNo must be 1..%d, got %d", ss.slices(), n)
	}
	return struct {
		PresignedURL string `json:"presignedURL"`
		IsMultipart  bool   `json:"isMultipart"`
	}{s.presign(ss, int(n)), ss.slices() > 1}, nil
}

type partData struct {
	PartNumber string `json:"partNumber"` // a string, like the official example
	Size       int64  `json:"size"`
	ETag       string `json:"etag"`
}

// listParts serves list_upload_parts. The file-family endpoint also lists
// V2 sessions. A file smaller than sliceSize lists no parts, as documented.
func (s *Server) listParts(k kind, a args) (any, error) {
	kinds := []kind{k}
	if k == kindV1 {
		kinds = append(kinds, kindV2)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.liveSession(a.str("preuploadID"), kinds...)
	if ss == nil {
		return nil, errNoSession
	}
	parts := []partData{}
	if ss.size >= ss.sliceSize {
		for _, p := range ss.partList() {
			parts = append(parts, partData{strconv.Itoa(p.SliceNo), p.Size, p.MD5})
		}
	}
	return struct {
		Parts []partData `json:"parts"`
	}{parts}, nil
}

type completeData struct {
	Async     bool `json:"async"`
	Completed bool `json:"completed"`
	FileID    any  `json:"fileID"`
}

// complete serves V1 and image-bed upload_complete. A finished session
// answers its result again (async=false, completed=true).
func (s *Server) complete(k kind, a args) (any, error) {
	id := a.str("preuploadID")
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tree(k)
	if done, ok := s.finished[id]; ok && done.kind == k {
		return completeData{Completed: true, FileID: done.fileID}, nil
	}
	ss := s.liveSession(id, k)
	if ss == nil {
		return nil, errNoSession
	}
	if !ss.verifying {
		if err := s.verify(ss); err != nil {
			return nil, err
		}
		if !s.cfg.async {
			f, err := s.finish(ss)
			if err != nil {
				return nil, err
			}
			return completeData{Completed: true, FileID: t.idValue(f)}, nil
		}
		ss.verifying, ss.polls = true, s.cfg.polls
	}
	return completeData{Async: true, FileID: t.idValue(nil)}, nil
}

type resultData struct {
	Completed bool `json:"completed"`
	FileID    any  `json:"fileID"`
}

// asyncResult serves V1 and image-bed upload_async_result.
func (s *Server) asyncResult(k kind, a args) (any, error) {
	id := a.str("preuploadID")
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tree(k)
	if done, ok := s.finished[id]; ok && done.kind == k {
		return resultData{true, done.fileID}, nil
	}
	ss := s.liveSession(id, k)
	if ss == nil {
		return nil, errNoSession
	}
	if !ss.verifying {
		return nil, badRequest("upload_complete has not accepted this upload yet")
	}
	f, err := s.poll(ss)
	if err != nil || f == nil {
		return resultData{false, t.idValue(nil)}, err
	}
	return resultData{true, t.idValue(f)}, nil
}

// mkdir serves both mkdir endpoints. The image-bed one takes one name or a
// list of names and answers {list:[{filename, dirID}]}.
func (s *Server) mkdir(k kind, a args) (any, error) {
	var names []string
	var parent string
	if k == kindOSS {
		if err := checkType(a); err != nil {
			return nil, err
		}
		names, parent = a.strs("name"), a.str("parentID")
	} else {
		var err error
		if parent, err = parentKey(a.int("parentID"), "parentID"); err != nil {
			return nil, err
		}
		names = []string{a.str("name")}
	}
	if len(names) == 0 {
		return nil, badRequest("name is empty")
	}
	for i, n := range names {
		if err := checkName(n); err != nil {
			return nil, err
		}
		if slices.Contains(names[:i], n) {
			return nil, errDirExists
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tree(k)
	if !t.isDir(parent) {
		return nil, errNoParent
	}
	for _, n := range names {
		if t.child(parent, n) != nil {
			return nil, errDirExists
		}
	}
	type dir struct {
		Filename string `json:"filename"`
		DirID    string `json:"dirID"`
	}
	var list []dir
	var last *File
	for _, n := range names {
		last = s.add(t, parent, &File{Name: n, Dir: true})
		list = append(list, dir{n, last.ImageID})
	}
	if k == kindOSS {
		return struct {
			List []dir `json:"list"`
		}{list}, nil
	}
	return struct {
		DirID int64 `json:"dirID"`
	}{last.ID}, nil
}
