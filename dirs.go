package pan123

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// pathFileList is the drive's file listing (the developer API, not an
// upload endpoint). Its parameters travel in the query, which call keeps
// out of logs, errors and limiter keys.
const pathFileList = "/api/v2/file/list"

// pathOSSFileList is the image bed's folder listing (a JSON POST).
const pathOSSFileList = "/api/v1/oss/file/list"

// MaxListLimit is the largest page [DriveService.List] may ask for.
const MaxListLimit = 100

// FileInfo is one entry of a drive folder listing.
type FileInfo struct {
	FileID       int64
	Filename     string
	Dir          bool   // a folder (the platform's type 1)
	Size         int64  // bytes
	Etag         string // the file's MD5, lowercase hex
	Status       int    // review status; above 100 the platform rejected the file
	ParentFileID int64
	Category     int // the platform's content category (video, audio, image, ...)
}

// FileList is one page of a drive folder listing.
type FileList struct {
	Files []FileInfo
	// LastFileID is the cursor of the next page: pass it to [DriveService.List] as
	// lastFileID. It is -1 on the last page.
	LastFileID int64
}

// List lists one page of the drive folder parentFileID (0 = root), up
// to limit (1..MaxListLimit) entries, starting after lastFileID (0 for the
// first page) (GET /api/v2/file/list). The platform's answer includes files
// in the trash; List leaves them out, so a page may hold fewer than
// limit entries while more pages follow: page on until LastFileID is -1.
// The image bed's listing is [ImageService.List].
func (s *DriveService) List(ctx context.Context, parentFileID, lastFileID int64, limit int) (*FileList, error) {
	switch {
	case parentFileID < 0:
		return nil, invalidInput("negative parentFileID %d", parentFileID)
	case lastFileID < 0:
		return nil, invalidInput("lastFileID %d: -1 marks the last page, there is nothing after it", lastFileID)
	case limit < 1 || limit > MaxListLimit:
		return nil, invalidInput("limit %d is outside 1..%d", limit, MaxListLimit)
	}
	q := url.Values{}
	q.Set("parentFileId", strconv.FormatInt(parentFileID, 10))
	q.Set("limit", strconv.Itoa(limit))
	if lastFileID > 0 {
		q.Set("lastFileId", strconv.FormatInt(lastFileID, 10))
	}
	var d struct {
		LastFileID flexInt `json:"lastFileId"`
		FileList   []struct {
			FileID       flexInt `json:"fileId"`
			Filename     string  `json:"filename"`
			Type         flexInt `json:"type"`
			Size         flexInt `json:"size"`
			Etag         string  `json:"etag"`
			Status       flexInt `json:"status"`
			ParentFileID flexInt `json:"parentFileId"`
			Category     flexInt `json:"category"`
			Trashed      flexInt `json:"trashed"`
		} `json:"fileList"`
	}
	if err := s.c.do(ctx, &call{method: http.MethodGet, path: pathFileList, query: q, out: &d, replay: true}); err != nil {
		return nil, err
	}
	out := &FileList{LastFileID: int64(d.LastFileID), Files: make([]FileInfo, 0, len(d.FileList))}
	for _, f := range d.FileList {
		if f.Trashed != 0 {
			continue
		}
		out.Files = append(out.Files, FileInfo{FileID: int64(f.FileID), Filename: f.Filename, Dir: f.Type == 1,
			Size: int64(f.Size), Etag: strings.ToLower(f.Etag), Status: int(f.Status),
			ParentFileID: int64(f.ParentFileID), Category: int(f.Category)})
	}
	return out, nil
}

// codeBusiness is the platform's catch-all business code: mkdir answers it
// for an existing name, and also for a missing parent.
const codeBusiness = 1

// ImageInfo is one entry of an image-bed folder listing.
type ImageInfo struct {
	FileID   string // opaque ID
	Filename string
	Dir      bool   // a folder (the platform's type 1)
	Size     int64  // bytes
	Etag     string // the image's MD5, lowercase hex
}

// ImageList is one page of an image-bed folder listing.
type ImageList struct {
	Files []ImageInfo
	// LastFileID is the cursor of the next page: pass it to [ImageService.List] as
	// lastFileID. It is "-1" on the last page.
	LastFileID string
}

// List lists one page of the image-bed folder parentID ("" = root),
// up to limit (1..MaxListLimit) entries, starting after lastFileID ("" for
// the first page) (POST /api/v1/oss/file/list). The official page of this
// endpoint is listed in the docs' contents but not published; the SDK
// sends what three other clients send: parentFileId, limit, type 1 and,
// after the first page, lastFileId (all keys spelled so, IDs as strings),
// and reads numbers or strings alike in the answer.
func (s *ImageService) List(ctx context.Context, parentID, lastFileID string, limit int) (*ImageList, error) {
	switch {
	case lastFileID == "-1":
		return nil, invalidInput(`lastFileID "-1" marks the last page, there is nothing after it`)
	case limit < 1 || limit > MaxListLimit:
		return nil, invalidInput("limit %d is outside 1..%d", limit, MaxListLimit)
	}
	body := map[string]any{"parentFileId": parentID, "limit": limit, "type": 1}
	if lastFileID != "" {
		body["lastFileId"] = lastFileID
	}
	var d struct {
		LastFileID flexString `json:"lastFileId"`
		FileList   []struct {
			FileID   flexString `json:"fileId"`
			Filename string     `json:"filename"`
			Type     flexInt    `json:"type"`
			Size     flexInt    `json:"size"`
			Etag     string     `json:"etag"`
		} `json:"fileList"`
	}
	if err := s.c.do(ctx, &call{path: pathOSSFileList, body: body, out: &d, replay: true}); err != nil {
		return nil, err
	}
	out := &ImageList{LastFileID: string(d.LastFileID), Files: make([]ImageInfo, 0, len(d.FileList))}
	for _, f := range d.FileList {
		out.Files = append(out.Files, ImageInfo{FileID: string(f.FileID), Filename: f.Filename, Dir: f.Type == 1,
			Size: int64(f.Size), Etag: strings.ToLower(f.Etag)})
	}
	return out, nil
}

// EnsureDir makes sure the "/"-separated folder path exists under the drive
// folder parentID (0 = root) and returns the ID of its last folder. Each
// missing folder is created with [DriveService.Mkdir]; for one that exists (mkdir
// answers code 1), its ID is found by listing its parent. Code 1 is the
// platform's catch-all, so EnsureDir does not read its message. The listing
// can lag behind a mkdir (other clients retry for this), so when it holds
// no folder of that name, EnsureDir lists again, up to 3 more times with
// backoff ([WithRetry]); then (say, the parent is gone), or when only a
// file holds the name, the mkdir error is returned. A listing whose cursor
// comes back to a value seen before is ErrProtocol. Leading and trailing
// slashes are ignored; an empty path or component, "." or "..", and any
// name the platform refuses are ErrInvalidInput, before any request.
//
// EnsureDir is safe against concurrent creators of the same folders (the
// loser of a mkdir race finds the winner's folder), but each component costs
// a mkdir and, when it exists, a listing of its parent (5 per second each
// by [DefaultRateLimits]).
func (s *DriveService) EnsureDir(ctx context.Context, parentID int64, path string) (int64, error) {
	if parentID < 0 {
		return 0, invalidInput("negative parentID %d", parentID)
	}
	return ensurePath(ctx, s.c, path, parentID, folders[int64]{
		mkdir: s.Mkdir,
		page: func(ctx context.Context, parent int64, cursor string) ([]folderEntry[int64], string, error) {
			files, next, err := s.page(ctx, parent, cursor)
			entries := make([]folderEntry[int64], len(files))
			for i, f := range files {
				entries[i] = folderEntry[int64]{f.FileID, f.Filename, f.Dir}
			}
			return entries, next, err
		},
	})
}

// page is one page of the drive folder parent for [eachPage]: the page
// after cursor ("" = the first), and the next cursor ("-1" = no more).
// A cursor of 0 or below other than -1 is ErrProtocol.
func (s *DriveService) page(ctx context.Context, parent int64, cursor string) ([]FileInfo, string, error) {
	var last int64
	if cursor != "" {
		last, _ = strconv.ParseInt(cursor, 10, 64)
	}
	p, err := s.List(ctx, parent, last, MaxListLimit)
	if err != nil {
		return nil, "", err
	}
	if p.LastFileID != -1 && p.LastFileID <= 0 {
		return nil, "", protocolError("file list of folder %d answered lastFileId %d", parent, p.LastFileID)
	}
	return p.Files, strconv.FormatInt(p.LastFileID, 10), nil
}

// EnsureDir is [DriveService.EnsureDir] for the image bed: it makes sure the
// folder path exists under the image-bed folder parentID ("" = root), with
// [ImageService.Mkdir] and [ImageService.List], and returns the last
// folder's ID. The same rules, bounds and errors apply.
func (s *ImageService) EnsureDir(ctx context.Context, parentID, path string) (string, error) {
	return ensurePath(ctx, s.c, path, parentID, folders[string]{
		mkdir: s.Mkdir,
		page: func(ctx context.Context, parent, cursor string) ([]folderEntry[string], string, error) {
			p, err := s.List(ctx, parent, cursor, MaxListLimit)
			if err != nil {
				return nil, "", err
			}
			if p.LastFileID == "" {
				return nil, "", protocolError("image list of folder %q answered an empty lastFileId", parent)
			}
			entries := make([]folderEntry[string], len(p.Files))
			for i, f := range p.Files {
				entries[i] = folderEntry[string]{f.FileID, f.Filename, f.Dir}
			}
			return entries, p.LastFileID, nil
		},
	})
}

// folderEntry is one listed entry of either family.
type folderEntry[ID comparable] struct {
	id   ID
	name string
	dir  bool
}

// folders is what EnsureDir needs of one family: mkdir, and one page of a
// folder's listing after cursor ("" = first page; "-1" = no more).
type folders[ID comparable] struct {
	mkdir func(ctx context.Context, parent ID, name string) (ID, error)
	page  func(ctx context.Context, parent ID, cursor string) ([]folderEntry[ID], string, error)
}

// maxListPages bounds one folder's listing (a million entries at 100 a
// page), so that a platform that hands out fresh cursors forever cannot
// keep a caller listing.
const maxListPages = 10000

// lagListings is how many more times EnsureDir lists a folder whose mkdir
// said a name exists that the listing does not show.
const lagListings = 3

// ensurePath is EnsureDir of either family.
func ensurePath[ID comparable](ctx context.Context, c *Client, path string, root ID, f folders[ID]) (ID, error) {
	var zero ID
	if err := checkCtx(ctx); err != nil {
		return zero, err
	}
	names, err := splitDirPath(path)
	if err != nil {
		return zero, err
	}
	id := root
	for _, name := range names {
		next, err := f.mkdir(ctx, id, name)
		note := ""
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == codeBusiness {
			for try := 0; ; try++ {
				found, isFile, dirID, lerr := findDir(ctx, f, id, name)
				switch {
				case lerr != nil:
					err = lerr
				case found:
					next, err = dirID, nil
				case isFile:
					note = "a file holds the name" // err stays mkdir's
				case try < lagListings:
					// Not listed (yet): the listing may lag the mkdir.
					if serr := c.retry.backoff(ctx, try+1, nil, 0, nil); serr == nil {
						continue
					}
				}
				break
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return zero, ctx.Err()
			}
			return zero, &dirError{path: path, name: name, parent: fmt.Sprintf("%#v", id), note: note, err: err}
		}
		id = next
	}
	return id, nil
}

// dirError is a failed EnsureDir step; Unwrap gives the platform's error.
type dirError struct {
	path, name string
	parent     string // the folder's ID, as Go syntax
	note       string // e.g. that a file holds the name
	err        error
}

func (e *dirError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pan123: ensure dir %q: %q in folder %s: ", e.path, e.name, e.parent)
	if e.note != "" {
		b.WriteString(e.note + ": ")
	}
	b.WriteString(causeText(e.err))
	return b.String()
}

func (e *dirError) Unwrap() error { return e.err }

// splitDirPath validates an EnsureDir path and splits it into names.
func splitDirPath(path string) ([]string, error) {
	trimmed := strings.Trim(path, "/")
	if trimmed == "" {
		return nil, invalidInput("empty folder path %q", path)
	}
	names := strings.Split(trimmed, "/")
	for _, n := range names {
		if n == "." || n == ".." {
			return nil, invalidInput("folder path %q: %q is not a folder name", path, n)
		}
		if err := validateName(n); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// findDir looks for the folder name in parent, page by page, and reports
// whether a file (not a folder) of that name was seen. Callers read err
// first, then found, then isFile.
func findDir[ID comparable](ctx context.Context, f folders[ID], parent ID, name string) (found, isFile bool, id ID, err error) {
	page := func(ctx context.Context, cursor string) ([]folderEntry[ID], string, error) {
		return f.page(ctx, parent, cursor)
	}
	err = eachPage(ctx, parent, page, func(e folderEntry[ID]) bool {
		if e.name == name {
			if e.dir {
				found, id = true, e.id
				return false
			}
			isFile = true
		}
		return true
	})
	return found, isFile, id, err
}

// eachPage calls each with the entries of folder's listing, page by page
// from the first (cursor "") until the cursor "-1" or until each returns
// false. A cursor seen before ends the listing with ErrProtocol (the pages
// would cycle), and so does a listing that has no last page after
// maxListPages pages.
func eachPage[E any](ctx context.Context, folder any, page func(ctx context.Context, cursor string) ([]E, string, error), each func(E) bool) error {
	seen := map[string]bool{"": true}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages == maxListPages {
			return protocolError("listing of folder %#v: no last page after %d pages", folder, pages)
		}
		entries, next, err := page(ctx, cursor)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !each(e) {
				return nil
			}
		}
		if next == "-1" {
			return nil
		}
		if seen[next] {
			return protocolError("listing of folder %#v answered lastFileId %s after %s, a cursor it gave before", folder, next, cursor)
		}
		seen[next] = true
		cursor = next
	}
}
