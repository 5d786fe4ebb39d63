package pan123test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// File is a stored file or folder.
type File struct {
	ID            int64    // file family (0 for images)
	ImageID       string   // image bed (""); opaque string like the real one
	ParentID      int64    // file family parent (0 = root)
	ParentImageID string   // image bed parent ("" = root)
	Name          string   // final name (after a keep-both suffix)
	Size          int64    // bytes
	MD5           string   // lowercase hex (the declared etag)
	SHA1          string   // lowercase hex (only in StoreBytes mode; "" otherwise)
	SliceMD5s     []string // per-slice MD5s as received (nil in StoreNothing mode)
	Data          []byte   // nil unless StoreBytes
	Dir           bool     // a folder
	Reused        bool     // created by instant upload (create reuse=true or sha1_reuse)
}

// String renders the entry as its ID, name, size and MD5, never its bytes,
// so that a test's t.Fatalf("stored %v", files) stays short:
// "file 10000001 \"db.dump\" (3145728 bytes, md5 …)". %v, %+v and %s use it.
func (f File) String() string {
	id := strconv.FormatInt(f.ID, 10)
	if f.ImageID != "" {
		id = f.ImageID
	}
	if f.Dir {
		return fmt.Sprintf("folder %s %q", id, f.Name)
	}
	return fmt.Sprintf("file %s %q (%d bytes, md5 %s)", id, f.Name, f.Size, f.MD5)
}

// GoString is %#v: the fields, with Data as its length only.
func (f File) GoString() string {
	return fmt.Sprintf("pan123test.File{ID:%d, ImageID:%q, ParentID:%d, ParentImageID:%q, Name:%q, Size:%d, MD5:%q, SHA1:%q, SliceMD5s:%d slices, Data:%d bytes, Dir:%t, Reused:%t}",
		f.ID, f.ImageID, f.ParentID, f.ParentImageID, f.Name, f.Size, f.MD5, f.SHA1, len(f.SliceMD5s), len(f.Data), f.Dir, f.Reused)
}

// Part is a slice received for a live upload session.
type Part struct {
	SliceNo int
	Size    int64
	MD5     string // lowercase hex; "" in StoreNothing mode
}

// kind is the flow an upload session belongs to.
type kind int

const (
	kindV1  kind = iota // /upload/v1/file
	kindOSS             // /upload/v1/oss/file
	kindV2              // /upload/v2/file
)

// session is a live upload (a preuploadID).
type session struct {
	id        string
	kind      kind
	parent    string // tree key
	name      string
	size      int64
	etag      string
	sliceSize int64
	duplicate int
	created   time.Time
	parts     map[int]part
	verifying bool // upload_complete accepted the parts; polls left until done
	polls     int
	data      []byte // the assembled file (StoreBytes), set by verify
}

type part struct {
	size int64
	md5  string
	data []byte
}

// finished remembers the answer of a completed session, for idempotent
// completion calls.
type finished struct {
	kind   kind
	fileID any
}

func (ss *session) slices() int { return int((ss.size + ss.sliceSize - 1) / ss.sliceSize) }

// sliceLen is the exact size slice n must have.
func (ss *session) sliceLen(n int) (int64, bool) {
	count := ss.slices()
	if n < 1 || n > count {
		return 0, false
	}
	if n < count {
		return ss.sliceSize, true
	}
	return ss.size - int64(count-1)*ss.sliceSize, true
}

// liveSession returns the session if it exists, has not expired and belongs
// to one of the kinds; s.mu must be held.
func (s *Server) liveSession(id string, kinds ...kind) *session {
	ss := s.sessions[id]
	if ss == nil {
		return nil
	}
	if !s.now().Before(ss.created.Add(s.cfg.preuploadTTL)) {
		delete(s.sessions, id)
		return nil
	}
	if !slices.Contains(kinds, ss.kind) {
		return nil
	}
	return ss
}

// newPreuploadID looks like the real ones: long, opaque, with '/' inside.
func newPreuploadID() string {
	return randAlnum(12) + "/" + randAlnum(20) + "+" + randAlnum(40)
}

var errSize = errors.New("wrong size")

// receive reads exactly want bytes from r, streaming: it keeps what the store
// mode says and nothing more. It returns errSize if r holds fewer or more
// bytes, or the read error.
func (s *Server) receive(r io.Reader, want int64) (part, error) {
	var (
		ws  []io.Writer
		h   hash.Hash
		buf *bytes.Buffer
	)
	if s.cfg.store != StoreNothing {
		h = md5.New()
		ws = append(ws, h)
	}
	if s.cfg.store == StoreBytes {
		buf = bytes.NewBuffer(make([]byte, 0, want))
		ws = append(ws, buf)
	}
	w := io.Discard
	if len(ws) > 0 {
		w = io.MultiWriter(ws...)
	}
	n, err := io.Copy(w, io.LimitReader(r, want+1))
	if err != nil {
		return part{}, err
	}
	if n != want {
		return part{size: n}, errSize
	}
	p := part{size: n}
	if h != nil {
		p.md5 = hex.EncodeToString(h.Sum(nil))
	}
	if buf != nil {
		p.data = buf.Bytes()
	}
	return p, nil
}

// storePart records a received slice (replacing an earlier one); false if
// the session is gone meanwhile.
func (s *Server) storePart(id string, k kind, sliceNo int, p part) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.liveSession(id, k)
	if ss == nil {
		return false
	}
	ss.parts[sliceNo] = p
	return true
}

// verify checks that every slice is present with the right size and, in
// StoreBytes mode, that the MD5 of the whole equals the declared etag;
// s.mu must be held.
func (s *Server) verify(ss *session) error {
	var data []byte
	if s.cfg.store == StoreBytes {
		data = make([]byte, 0, ss.size)
	}
	for n := 1; n <= ss.slices(); n++ {
		p, ok := ss.parts[n]
		want, _ := ss.sliceLen(n)
		if !ok || p.size != want {
			return errUploadFailed
		}
		data = append(data, p.data...)
	}
	if data != nil {
		if sum := md5.Sum(data); hex.EncodeToString(sum[:]) != ss.etag {
			return errUploadFailed
		}
	}
	ss.data = data
	return nil
}

// poll advances an accepted (verifying) session by one status request:
// not done while polls are left, else the file is created.
func (s *Server) poll(ss *session) (*File, error) {
	if ss.polls > 0 {
		ss.polls--
		return nil, nil
	}
	return s.finish(ss)
}

// finish stores the uploaded file and ends the session; s.mu must be held.
func (s *Server) finish(ss *session) (*File, error) {
	t := s.tree(ss.kind)
	f := &File{Size: ss.size, MD5: ss.etag, Data: ss.data}
	if f.Data != nil {
		f.SHA1 = sha1Hex(f.Data)
	}
	if s.cfg.store != StoreNothing {
		for n := 1; n <= ss.slices(); n++ {
			f.SliceMD5s = append(f.SliceMD5s, ss.parts[n].md5)
		}
	}
	f, err := s.place(t, ss.parent, ss.name, ss.duplicate, f)
	if err != nil {
		return nil, err
	}
	delete(s.sessions, ss.id)
	s.finished[ss.id] = finished{kind: ss.kind, fileID: t.idValue(f)}
	return f, nil
}

// tree is the namespace of one ID space: the file family (int64 IDs, root
// "0") or the image bed (string IDs, root ""). Entries are keyed by their ID
// rendered as a string.
type tree struct {
	oss   bool
	nodes map[string]*File
	order []string // keys in creation order (= ID order for the file family)
}

func newTree(oss bool) *tree { return &tree{oss: oss, nodes: map[string]*File{}} }

func (s *Server) tree(k kind) *tree {
	if k == kindOSS {
		return s.images
	}
	return s.files
}

func (t *tree) root() string {
	if t.oss {
		return ""
	}
	return "0"
}

func (t *tree) key(f *File) string {
	if t.oss {
		return f.ImageID
	}
	return strconv.FormatInt(f.ID, 10)
}

func (t *tree) parentKey(f *File) string {
	if t.oss {
		return f.ParentImageID
	}
	return strconv.FormatInt(f.ParentID, 10)
}

// idValue is the fileID to answer for f (0 or "" for nil).
func (t *tree) idValue(f *File) any {
	switch {
	case t.oss && f == nil:
		return ""
	case t.oss:
		return f.ImageID
	case f == nil:
		return int64(0)
	}
	return f.ID
}

func (t *tree) isDir(key string) bool {
	if key == t.root() {
		return true
	}
	f := t.nodes[key]
	return f != nil && f.Dir
}

func (t *tree) child(parent, name string) *File {
	for _, k := range t.order {
		if f := t.nodes[k]; f.Name == name && t.parentKey(f) == parent {
			return f
		}
	}
	return nil
}

func (t *tree) remove(f *File) {
	k := t.key(f)
	delete(t.nodes, k)
	t.order = slices.DeleteFunc(t.order, func(o string) bool { return o == k })
}

// find returns the first completed file matching.
func (t *tree) find(match func(*File) bool) *File {
	for _, k := range t.order {
		if f := t.nodes[k]; !f.Dir && match(f) {
			return f
		}
	}
	return nil
}

func (t *tree) list() []File {
	out := make([]File, 0, len(t.order))
	for _, k := range t.order {
		out = append(out, copyFile(t.nodes[k]))
	}
	return out
}

func copyFile(f *File) File {
	c := *f
	c.SliceMD5s = slices.Clone(f.SliceMD5s)
	return c
}

// add assigns f an ID in t under parent and stores it; s.mu must be held.
func (s *Server) add(t *tree, parent string, f *File) *File {
	if t.oss {
		f.ID, f.ParentID = 0, 0
		f.ImageID, f.ParentImageID = randAlnum(52), parent
	} else {
		s.nextID++
		f.ID, f.ImageID, f.ParentImageID = s.nextID, "", ""
		f.ParentID, _ = strconv.ParseInt(parent, 10, 64)
	}
	k := t.key(f)
	t.nodes[k] = f
	t.order = append(t.order, k)
	return f
}

// place stores f as name in parent, applying the duplicate policy to a
// same-name entry: 1 keeps both (f gets a "(n)" suffix), 2 overwrites a
// file (f gets a new ID), anything else is a conflict; s.mu must be held.
func (s *Server) place(t *tree, parent, name string, duplicate int, f *File) (*File, error) {
	if old := t.child(parent, name); old != nil {
		switch {
		case duplicate == 1:
			name = t.freeName(parent, name)
		case duplicate == 2 && !old.Dir:
			t.remove(old)
		default:
			return nil, errFileExists
		}
	}
	f.Name = name
	return s.add(t, parent, f), nil
}

// freeName returns "base(n).ext" for the smallest n not taken in parent.
func (t *tree) freeName(parent, name string) string {
	base, ext := name, ""
	if i := strings.LastIndex(name, "."); i > 0 {
		base, ext = name[:i], name[i:]
	}
	for n := 1; ; n++ {
		cand := fmt.Sprintf("%s(%d)%s", base, n, ext)
		if t.child(parent, cand) == nil {
			return cand
		}
	}
}

// Files returns the file-family entries (files and folders), by ID.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files.list()
}

// Images returns the image-bed entries (images and folders), in creation order.
func (s *Server) Images() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.images.list()
}

// File returns the file-family entry with that ID.
func (s *Server) File(id int64) (File, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files.nodes[strconv.FormatInt(id, 10)]
	if f == nil {
		return File{}, false
	}
	return copyFile(f), true
}

// Image returns the image-bed entry with that ID.
func (s *Server) Image(id string) (File, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.images.nodes[id]
	if f == nil || id == "" {
		return File{}, false
	}
	return copyFile(f), true
}

// SeedFile adds a file-family entry as if uploaded before, e.g. to test
// instant upload or sha1_reuse, and returns it with its assigned ID (the ID
// and image fields of f are ignored). If f.Data is set, an empty Size, MD5
// and SHA1 are computed from it. f.ParentID must be 0 or a seeded/created
// folder; the name is not checked against the filename rules nor for
// conflicts. Set Dir to seed a folder.
func (s *Server) SeedFile(f File) File {
	return s.seed(s.files, strconv.FormatInt(f.ParentID, 10), f)
}

// SeedImage is [Server.SeedFile] for the image bed (f.ParentImageID is the
// parent, "" for the root).
func (s *Server) SeedImage(f File) File {
	return s.seed(s.images, f.ParentImageID, f)
}

func (s *Server) seed(t *tree, parent string, f File) File {
	if f.Data != nil {
		if f.Size == 0 {
			f.Size = int64(len(f.Data))
		}
		if f.MD5 == "" {
			sum := md5.Sum(f.Data)
			f.MD5 = hex.EncodeToString(sum[:])
		}
		if f.SHA1 == "" {
			sum := sha1.Sum(f.Data)
			f.SHA1 = hex.EncodeToString(sum[:])
		}
	}
	f.SliceMD5s = slices.Clone(f.SliceMD5s)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !t.isDir(parent) {
		panic(fmt.Sprintf("pan123test: seed %q: parent %q is not a folder", f.Name, parent))
	}
	return copyFile(s.add(t, parent, &f))
}

// Parts returns the slices received so far for a live upload session, by
// slice number; nil if the session is unknown, expired or finished.
func (s *Server) Parts(preuploadID string) []Part {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.liveSession(preuploadID, kindV1, kindOSS, kindV2)
	if ss == nil {
		return nil
	}
	return ss.partList()
}

func (ss *session) partList() []Part {
	out := []Part{}
	for n, p := range ss.parts {
		out = append(out, Part{SliceNo: n, Size: p.size, MD5: p.md5})
	}
	slices.SortFunc(out, func(a, b Part) int { return a.SliceNo - b.SliceNo })
	return out
}

// ExpirePreuploads forgets every live upload session and its parts: calls
// with their preuploadIDs answer code 1 "preuploadID不存在或已过期" and PUTs
// to their URLs answer HTTP 404 NoSuchUpload. Completion results of
// finished sessions are kept.
func (s *Server) ExpirePreuploads() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.sessions)
}

func sha1Hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}
