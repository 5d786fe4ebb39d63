package pan123test

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The drive listing, GET /api/v2/file/list (developer API). Its parameters
// travel in the query; it answers one page of a folder:
//
//	{"lastFileId": -1, "fileList": [{"fileId", "filename", "type", "size",
//	  "etag", "status", "parentFileId", "category", "trashed"}, ...]}
//
// The fake's choices where the official page is silent: entries come in ID
// (creation) order and a page holds the entries after lastFileId; lastFileId
// is the page's last ID when more follow, else -1. An unknown parent is code
// 1 "父级目录不存在". With searchData, parentFileId is ignored and every
// entry of the drive whose name contains searchData (searchMode 0, the
// default) or equals it (searchMode 1) is listed. The fake has no trash:
// trashed is always 0; status and category are 0.

// listParams are the query keys of the listing, spelled exactly as documented.
var listParams = []string{"parentFileId", "limit", "searchData", "searchMode", "lastFileId"}

// maxListLimit is the largest page the listing answers.
const maxListLimit = 100

type listEntry struct {
	FileID       int64  `json:"fileId"`
	Filename     string `json:"filename"`
	Type         int    `json:"type"` // 0 file, 1 folder
	Size         int64  `json:"size"`
	Etag         string `json:"etag"`
	Status       int    `json:"status"`
	ParentFileID int64  `json:"parentFileId"`
	Category     int    `json:"category"`
	Trashed      int    `json:"trashed"`
}

type listData struct {
	LastFileID int64       `json:"lastFileId"`
	FileList   []listEntry `json:"fileList"`
}

// serveFileList serves GET /api/v2/file/list: faults, Platform and token
// checks as for every API call, then the strictly parsed query.
func (s *Server) serveFileList(c *call) {
	s.serveAPI(c, endpoint{auth: true, handle: func(args) (any, error) { return s.fileList(c.r.URL.RawQuery) }})
}

// listQuery is a validated listing query.
type listQuery struct {
	parent, last int64
	limit        int
	search       string
	exact        bool
}

// parseListQuery decodes the query strictly: documented keys only, spelled
// exactly (parentFileId, not parentFileID), each at most once, integers
// where the page says number.
func parseListQuery(raw string) (listQuery, error) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return listQuery{}, badRequest("malformed query: %v", err)
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(listParams, k) {
			for _, p := range listParams {
				if strings.EqualFold(p, k) {
					return listQuery{}, badRequest("unknown query key %q (the key is spelled %q)", k, p)
				}
			}
			return listQuery{}, badRequest("unknown query key %q", k)
		}
		if len(vals[k]) > 1 {
			return listQuery{}, badRequest("duplicate query key %q", k)
		}
	}
	num := func(k string, required bool) (int64, error) {
		v, ok := vals[k]
		if !ok {
			if required {
				return 0, badRequest("missing query key %q", k)
			}
			return 0, nil
		}
		n, err := strconv.ParseInt(v[0], 10, 64)
		if err != nil {
			return 0, badRequest("query key %q must be an integer, got %q", k, v[0])
		}
		return n, nil
	}
	var q listQuery
	var limit, mode int64
	if q.parent, err = num("parentFileId", true); err == nil {
		if limit, err = num("limit", true); err == nil {
			if q.last, err = num("lastFileId", false); err == nil {
				mode, err = num("searchMode", false)
			}
		}
	}
	switch {
	case err != nil:
		return listQuery{}, err
	case q.parent < 0:
		return listQuery{}, badRequest("parentFileId must be >= 0, got %d", q.parent)
	case limit < 1 || limit > maxListLimit:
		return listQuery{}, badRequest("limit must be 1..%d, got %d", maxListLimit, limit)
	case q.last < 0:
		return listQuery{}, badRequest("lastFileId must be >= 0 (-1 marks the last page), got %d", q.last)
	case mode != 0 && mode != 1:
		return listQuery{}, badRequest("searchMode must be 0 or 1, got %d", mode)
	}
	q.limit, q.exact = int(limit), mode == 1
	if v, ok := vals["searchData"]; ok {
		q.search = v[0]
	}
	return q, nil
}

// fileList answers one page of the listing.
func (s *Server) fileList(raw string) (any, error) {
	q, err := parseListQuery(raw)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.files
	parent := strconv.FormatInt(q.parent, 10)
	match := func(f *File) bool { return t.parentKey(f) == parent }
	switch {
	case q.search != "" && q.exact:
		match = func(f *File) bool { return f.Name == q.search }
	case q.search != "":
		match = func(f *File) bool { return strings.Contains(f.Name, q.search) }
	case !t.isDir(parent):
		return nil, errNoParent
	}
	d := listData{LastFileID: -1, FileList: []listEntry{}}
	for _, k := range t.order { // ID order
		f := t.nodes[k]
		if f.ID <= q.last || !match(f) {
			continue
		}
		if len(d.FileList) == q.limit {
			d.LastFileID = d.FileList[len(d.FileList)-1].FileID
			break
		}
		e := listEntry{FileID: f.ID, Filename: f.Name, Size: f.Size, Etag: f.MD5, ParentFileID: f.ParentID}
		if f.Dir {
			e.Type, e.Size, e.Etag = 1, 0, ""
		}
		d.FileList = append(d.FileList, e)
	}
	return d, nil
}

// The image bed's listing, POST /api/v1/oss/file/list, as three other
// clients call it (the official page is listed in the docs' contents but
// not published):
//
//	{"parentFileId": "", "limit": 100, "type": 1, "lastFileId": "...",
//	 "startTime": 0, "endTime": 0}
//	-> {"lastFileId": "-1", "fileList": [{"fileId", "filename", "type",
//	    "size", "etag", "parentFileId"}, ...]}
//
// parentFileId ("" = root), lastFileId, startTime and endTime are optional
// (the time filter is accepted and ignored). Entries come in creation
// order; lastFileId is the page's last ID when more follow, else "-1". An
// unknown parent is code 1 "父级目录不存在", an unknown lastFileId a 400.
var ossListFields = []field{
	{"parentFileId", tString, false},
	{"limit", tInt, true},
	{"type", tInt, true},
	{"lastFileId", tString, false},
	{"startTime", tInt, false},
	{"endTime", tInt, false},
}

type ossListEntry struct {
	FileID       string `json:"fileId"`
	Filename     string `json:"filename"`
	Type         int    `json:"type"` // 0 file, 1 folder
	Size         int64  `json:"size"`
	Etag         string `json:"etag"`
	ParentFileID string `json:"parentFileId"`
}

type ossListData struct {
	LastFileID string         `json:"lastFileId"`
	FileList   []ossListEntry `json:"fileList"`
}

// ossFileList answers one page of the image bed's listing.
func (s *Server) ossFileList(a args) (any, error) {
	if err := checkType(a); err != nil {
		return nil, err
	}
	limit, parent, last := a.int("limit"), a.str("parentFileId"), a.str("lastFileId")
	if limit < 1 || limit > maxListLimit {
		return nil, badRequest("limit must be 1..%d, got %d", maxListLimit, limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.images
	if !t.isDir(parent) {
		return nil, errNoParent
	}
	start := 0
	if last != "" {
		i := slices.Index(t.order, last)
		if i < 0 {
			return nil, badRequest("unknown lastFileId %q", last)
		}
		start = i + 1
	}
	d := ossListData{LastFileID: "-1", FileList: []ossListEntry{}}
	for _, k := range t.order[start:] {
		f := t.nodes[k]
		if t.parentKey(f) != parent {
			continue
		}
		if len(d.FileList) == int(limit) {
			d.LastFileID = d.FileList[len(d.FileList)-1].FileID
			break
		}
		e := ossListEntry{FileID: f.ImageID, Filename: f.Name, Size: f.Size, Etag: f.MD5, ParentFileID: parent}
		if f.Dir {
			e.Type, e.Size, e.Etag = 1, 0, ""
		}
		d.FileList = append(d.FileList, e)
	}
	return d, nil
}
