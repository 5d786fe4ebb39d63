package pan123test_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/go-pan123/pan123/pan123test"
)

type listAnswer struct {
	LastFileID int64 `json:"lastFileId"`
	FileList   []struct {
		FileID       int64  `json:"fileId"`
		Filename     string `json:"filename"`
		Type         int    `json:"type"`
		Size         int64  `json:"size"`
		Etag         string `json:"etag"`
		Status       int    `json:"status"`
		ParentFileID int64  `json:"parentFileId"`
		Category     int    `json:"category"`
		Trashed      int    `json:"trashed"`
	} `json:"fileList"`
}

// list sends GET /api/v2/file/list?query with the documented headers.
func (c *client) list(query string, mod func(*http.Request)) env {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.s.URL+string(pan123test.OpFileList)+"?"+query, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Platform", "open_platform")
	req.Header.Set("Authorization", "Bearer "+c.token)
	if mod != nil {
		mod(req)
	}
	return c.envelope(req)
}

func (c *client) listPage(query string) listAnswer {
	c.t.Helper()
	e := c.list(query, nil)
	if e.Code != 0 {
		c.t.Fatalf("list %s: code %d %s", query, e.Code, e.Message)
	}
	var a listAnswer
	if err := json.Unmarshal(e.Data, &a); err != nil {
		c.t.Fatalf("list %s: data %s: %v", query, e.Data, err)
	}
	return a
}

func TestFileList(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	dir := s.SeedFile(pan123test.File{Name: "docs", Dir: true})
	data := payload(1234, 3)
	var want []int64
	for _, n := range []string{"a.txt", "b.txt", "c.txt", "d.txt", "e.txt"} {
		want = append(want, s.SeedFile(pan123test.File{ParentID: dir.ID, Name: n, Data: data}).ID)
	}
	sub := s.SeedFile(pan123test.File{ParentID: dir.ID, Name: "sub", Dir: true})
	want = append(want, sub.ID)
	s.SeedFile(pan123test.File{Name: "root.txt", Data: data}) // elsewhere: not listed

	// Pages of 2 in ID order; lastFileId is the cursor, -1 on the last page.
	var got []int64
	query := "parentFileId=" + itoa(dir.ID) + "&limit=2"
	last := int64(0)
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		q := query
		if last > 0 {
			q += "&lastFileId=" + itoa(last)
		}
		a := c.listPage(q)
		for _, f := range a.FileList {
			got = append(got, f.FileID)
			if f.ParentFileID != dir.ID || f.Trashed != 0 || f.Status != 0 {
				t.Errorf("entry %+v", f)
			}
			switch f.Filename {
			case "sub":
				if f.Type != 1 || f.Size != 0 || f.Etag != "" {
					t.Errorf("folder entry %+v", f)
				}
			default:
				if f.Type != 0 || f.Size != 1234 || f.Etag != md5hex(data) {
					t.Errorf("file entry %+v", f)
				}
			}
		}
		if a.LastFileID == -1 {
			if len(a.FileList) == 0 {
				t.Error("an empty last page after a full one: lastFileId should have been -1 already")
			}
			break
		}
		if len(a.FileList) != 2 || a.LastFileID != a.FileList[1].FileID {
			t.Fatalf("page %d: %+v", pages, a)
		}
		last = a.LastFileID
	}
	if !equalIDs(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}

	// A full page that is the last one says so.
	if a := c.listPage("parentFileId=" + itoa(dir.ID) + "&limit=6"); len(a.FileList) != 6 || a.LastFileID != -1 {
		t.Errorf("limit=6: %d entries, lastFileId %d", len(a.FileList), a.LastFileID)
	}
	// An empty folder answers an empty list, not null.
	if e := c.list("parentFileId="+itoa(sub.ID)+"&limit=100", nil); !strings.Contains(string(e.Data), `"fileList":[]`) {
		t.Errorf("empty folder: %s", e.Data)
	}
	// Search ignores the parent.
	if a := c.listPage("parentFileId=0&limit=100&searchData=.txt"); len(a.FileList) != 6 {
		t.Errorf("fuzzy search: %d entries", len(a.FileList))
	}
	if a := c.listPage("parentFileId=0&limit=100&searchData=a.txt&searchMode=1"); len(a.FileList) != 1 || a.FileList[0].FileID != want[0] {
		t.Errorf("exact search: %+v", a)
	}
}

func TestFileListRejects(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	file := s.SeedFile(pan123test.File{Name: "f.bin", Data: payload(10, 1)})
	for query, code := range map[string]int{
		"limit=10":                                    pan123test.CodeBadRequest, // parentFileId missing
		"parentFileId=0":                              pan123test.CodeBadRequest, // limit missing
		"parentFileID=0&limit=10":                     pan123test.CodeBadRequest, // misspelled key
		"parentFileId=0&limit=10&extra=1":             pan123test.CodeBadRequest,
		"parentFileId=0&parentFileId=0&limit=1":       pan123test.CodeBadRequest,
		"parentFileId=x&limit=10":                     pan123test.CodeBadRequest,
		"parentFileId=-1&limit=10":                    pan123test.CodeBadRequest,
		"parentFileId=0&limit=0":                      pan123test.CodeBadRequest,
		"parentFileId=0&limit=101":                    pan123test.CodeBadRequest,
		"parentFileId=0&limit=10&lastFileId=-1":       pan123test.CodeBadRequest,
		"parentFileId=0&limit=10&lastFileId=":         pan123test.CodeBadRequest,
		"parentFileId=0&limit=10&searchMode=2":        pan123test.CodeBadRequest,
		"parentFileId=0&limit=10&%zz":                 pan123test.CodeBadRequest,
		"parentFileId=99&limit=10":                    pan123test.CodeInternal, // no such folder
		"parentFileId=" + itoa(file.ID) + "&limit=10": pan123test.CodeInternal, // a file, not a folder
	} {
		if e := c.list(query, nil); e.Code != code {
			t.Errorf("%s: code %d %q, want %d", query, e.Code, e.Message, code)
		}
	}
	if e := c.list("parentFileId=0&limit=10", func(r *http.Request) { r.Header.Del("Authorization") }); e.Code != pan123test.CodeUnauthorized {
		t.Errorf("no token: code %d", e.Code)
	}
	if e := c.list("parentFileId=0&limit=10", func(r *http.Request) { r.Header.Del("Platform") }); e.Code != pan123test.CodeBadRequest {
		t.Errorf("no Platform: code %d", e.Code)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+string(pan123test.OpFileList), nil)
	if status, _ := c.send(req); status != http.StatusMethodNotAllowed {
		t.Errorf("POST: HTTP %d", status)
	}
	s.Inject(pan123test.Fault{Op: pan123test.OpFileList, Code: pan123test.CodeTooManyRequests})
	if e := c.list("parentFileId=0&limit=10", nil); e.Code != pan123test.CodeTooManyRequests {
		t.Errorf("fault: code %d", e.Code)
	}
	if n := s.Count(pan123test.OpFileList); n != 19 {
		t.Errorf("logged %d list requests, want 19", n)
	}
	for _, r := range s.Requests() {
		if r.Op == pan123test.OpFileList && r.Path != string(pan123test.OpFileList) {
			t.Errorf("logged path %s: the query is not part of it", r.Path)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestOSSFileList: the image bed's listing pages by string cursor in
// creation order, "-1" on the last page, and decodes its body strictly.
func TestOSSFileList(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	dir := s.SeedImage(pan123test.File{Name: "album", Dir: true})
	var want []string
	for i := range 5 {
		want = append(want, s.SeedImage(pan123test.File{ParentImageID: dir.ImageID, Name: "p" + strconv.Itoa(i), Data: []byte{byte(i)}}).ImageID)
	}
	type page struct {
		LastFileID string `json:"lastFileId"`
		FileList   []struct {
			FileID       string `json:"fileId"`
			Filename     string `json:"filename"`
			Type         int    `json:"type"`
			ParentFileID string `json:"parentFileId"`
		} `json:"fileList"`
	}
	var got []string
	body := map[string]any{"parentFileId": dir.ImageID, "limit": 2, "type": 1}
	for range 10 {
		var p page
		c.data(pan123test.OpOSSFileList, body, &p)
		for _, f := range p.FileList {
			got = append(got, f.FileID)
			if f.ParentFileID != dir.ImageID || f.Type != 0 {
				t.Errorf("entry %+v", f)
			}
		}
		if p.LastFileID == "-1" {
			break
		}
		body["lastFileId"] = p.LastFileID
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("listed %v, want %v", got, want)
	}
	var root page
	c.data(pan123test.OpOSSFileList, map[string]any{"limit": 100, "type": 1}, &root)
	if len(root.FileList) != 1 || root.FileList[0].Type != 1 || root.LastFileID != "-1" {
		t.Errorf("root without parentFileId: %+v", root)
	}
	c.wantCode(pan123test.OpOSSFileList, map[string]any{"parentFileId": "nope", "limit": 10, "type": 1}, pan123test.CodeInternal, "父级目录不存在")
	c.wantCode(pan123test.OpOSSFileList, map[string]any{"parentFileID": "", "limit": 10, "type": 1}, pan123test.CodeBadRequest, "parentFileID")
	c.wantCode(pan123test.OpOSSFileList, map[string]any{"limit": 101, "type": 1}, pan123test.CodeBadRequest, "limit")
	c.wantCode(pan123test.OpOSSFileList, map[string]any{"limit": 10}, pan123test.CodeBadRequest, "type")
	c.wantCode(pan123test.OpOSSFileList, map[string]any{"limit": 10, "type": 1, "lastFileId": "zz"}, pan123test.CodeBadRequest, "lastFileId")
}
