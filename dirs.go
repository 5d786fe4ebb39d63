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

// MaxListLimit is the largest page [Client.ListFiles] may ask for.
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
	// LastFileID is the cursor of the next page: pass it to ListFiles as
	// lastFileID. It is -1 on the last page.
	LastFileID int64
}

// ListFiles lists one page of the drive folder parentFileID (0 = root), up
// to limit (1..MaxListLimit) entries, starting after lastFileID (0 for the
// first page) (GET /api/v2/file/list). The platform's answer includes files
// in the trash; ListFiles leaves them out, so a page may hold fewer than
// limit entries while more pages follow: page on until LastFileID is -1.
// The image bed has no documented listing.
func (c *Client) ListFiles(ctx context.Context, parentFileID, lastFileID int64, limit int) (*FileList, error) {
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
	if err := c.do(ctx, &call{method: http.MethodGet, path: pathFileList, query: q, out: &d, replay: true}); err != nil {
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

// codeBusiness is the platform's catch-all business code (api.md §8): mkdir
// answers it for an existing name, and also for a missing parent.
const codeBusiness = 1

// EnsureDir makes sure the "/"-separated folder path exists under the drive
// folder parentID (0 = root) and returns the ID of its last folder. Each
// missing folder is created with [Client.Mkdir]; for one that exists (mkdir
// answers code 1), its ID is found by listing its parent. Code 1 is the
// platform's catch-all, so EnsureDir does not read its message: when the
// listing holds no folder of that name (say, the parent is gone), or only a
// file, the mkdir error is returned. Leading and trailing slashes are
// ignored; an empty path or component, "." or "..", and any name the
// platform refuses are ErrInvalidInput, before any request.
//
// EnsureDir is safe against concurrent creators of the same folders (the
// loser of a mkdir race finds the winner's folder), but each component costs
// a mkdir and, when it exists, a listing of its parent (5 per second each
// by [DefaultRateLimits]). It works in the drive only: the image bed has no
// documented listing, so an existing image-bed folder's ID cannot be found.
func (c *Client) EnsureDir(ctx context.Context, parentID int64, path string) (int64, error) {
	if err := checkCtx(ctx); err != nil {
		return 0, err
	}
	if parentID < 0 {
		return 0, invalidInput("negative parentID %d", parentID)
	}
	names, err := splitDirPath(path)
	if err != nil {
		return 0, err
	}
	id := parentID
	for _, name := range names {
		next, err := c.Mkdir(ctx, id, name)
		note := ""
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == codeBusiness {
			found, isFile, dirID, lerr := c.findDir(ctx, id, name)
			switch {
			case lerr != nil:
				err = lerr
			case found:
				next, err = dirID, nil
			case isFile:
				note = "a file holds the name" // err stays mkdir's
			}
			// Neither: the parent is gone, say; err stays mkdir's.
		}
		if err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, &dirError{path: path, name: name, parent: id, note: note, err: err}
		}
		id = next
	}
	return id, nil
}

// dirError is a failed EnsureDir step; Unwrap gives the platform's error.
type dirError struct {
	path, name string
	parent     int64
	note       string // e.g. that a file holds the name
	err        error
}

func (e *dirError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pan123: ensure dir %q: %q in folder %d: ", e.path, e.name, e.parent)
	if e.note != "" {
		b.WriteString(e.note + ": ")
	}
	b.WriteString(strings.TrimPrefix(e.err.Error(), "pan123: "))
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
// whether a file (not a folder) of that name was seen.
func (c *Client) findDir(ctx context.Context, parent int64, name string) (found, isFile bool, id int64, err error) {
	var cursor int64
	for {
		page, err := c.ListFiles(ctx, parent, cursor, MaxListLimit)
		if err != nil {
			return false, false, 0, err
		}
		for _, f := range page.Files {
			if f.Filename != name {
				continue
			}
			if f.Dir {
				return true, false, f.FileID, nil
			}
			isFile = true
		}
		if page.LastFileID == -1 {
			return false, isFile, 0, nil
		}
		if page.LastFileID <= 0 || page.LastFileID == cursor {
			return false, false, 0, protocolError("file list of folder %d answered lastFileId %d after %d", parent, page.LastFileID, cursor)
		}
		cursor = page.LastFileID
	}
}
