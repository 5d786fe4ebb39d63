package pan123test_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-pan123/pan123/pan123test"
)

func TestV1Flow(t *testing.T) {
	t.Parallel()
	for _, f := range families {
		t.Run(f.name, func(t *testing.T) {
			s := newServer(t, pan123test.WithSliceSize(1000), pan123test.WithImageSliceSize(1000))
			c := newClient(t, s)
			data := payload(2500, 3)

			var cr createData
			c.data(f.create, f.createBody("a.png", data), &cr)
			if cr.Reuse || cr.SliceSize != 1000 || !strings.Contains(cr.PreuploadID, "/") || len(cr.PreuploadID) < 40 {
				t.Fatalf("create: %+v", cr)
			}
			if want := map[string]string{"file": "0", "oss": `""`}[f.name]; string(cr.FileID) != want {
				t.Errorf("fileID before upload = %s, want %s", cr.FileID, want)
			}
			for n := 1; n <= 3; n++ {
				var u urlData
				c.data(f.getURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": n}, &u)
				pu, err := url.Parse(u.PresignedURL)
				if err != nil || !u.IsMultipart || !strings.HasPrefix(u.PresignedURL, s.URL+"/storage/") ||
					pu.Query().Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" || len(pu.Query().Get("X-Amz-Signature")) != 64 ||
					pu.Query().Get("X-Amz-Expires") != "600" {
					t.Fatalf("get_upload_url: %+v", u)
				}
				if status, b := c.put(u.PresignedURL, sliceOf(data, 1000, n), nil); status != 200 || len(b) != 0 {
					t.Fatalf("PUT %d: %d %s", n, status, b)
				}
			}
			c.wantCode(f.getURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": 4}, pan123test.CodeBadRequest, "sliceNo")
			c.wantCode(f.getURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": 0}, pan123test.CodeBadRequest, "sliceNo")

			e := c.call(f.list, map[string]any{"preuploadID": cr.PreuploadID})
			if !bytes.Contains(e.Data, []byte(`"partNumber":"1"`)) {
				t.Errorf("partNumber not a string: %s", e.Data)
			}
			var lp struct {
				Parts []struct {
					PartNumber string
					Size       int64
					ETag       string
				}
			}
			_ = json.Unmarshal(e.Data, &lp)
			if len(lp.Parts) != 3 || lp.Parts[2].PartNumber != "3" || lp.Parts[2].Size != 500 || lp.Parts[1].ETag != md5hex(sliceOf(data, 1000, 2)) {
				t.Errorf("list_upload_parts: %+v", lp)
			}
			if got := s.Parts(cr.PreuploadID); len(got) != 3 || got[0].SliceNo != 1 || got[0].MD5 != md5hex(data[:1000]) {
				t.Errorf("Parts: %+v", got)
			}

			var done completeData
			c.data(f.complete, map[string]any{"preuploadID": cr.PreuploadID}, &done)
			if done.Async || !done.Completed {
				t.Fatalf("complete: %+v", done)
			}
			got := stored(t, s, f, done.FileID)
			if !bytes.Equal(got.Data, data) || got.Name != "a.png" || got.MD5 != md5hex(data) || got.SHA1 != sha1hex(data) || len(got.SliceMD5s) != 3 || got.Reused {
				t.Errorf("stored: %+v", got)
			}
			// Idempotent completion; the session itself is gone.
			var again completeData
			c.data(f.complete, map[string]any{"preuploadID": cr.PreuploadID}, &again)
			if !again.Completed || string(again.FileID) != string(done.FileID) {
				t.Errorf("complete again: %+v", again)
			}
			c.wantCode(f.getURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": 1}, pan123test.CodeInternal, "preuploadID")
			if s.Parts(cr.PreuploadID) != nil {
				t.Error("Parts of a finished session")
			}
			if n := len(s.Files()) + len(s.Images()); n != 1 {
				t.Errorf("%d entries stored", n)
			}
		})
	}
}

func TestListPartsSmallFile(t *testing.T) {
	t.Parallel()
	s := newServer(t, pan123test.WithSliceSize(1000))
	c := newClient(t, s)
	cr := c.startUpload(families[0], "small", payload(999, 1))
	e := c.call(pan123test.OpListUploadParts, map[string]any{"preuploadID": cr.PreuploadID})
	if string(e.Data) != `{"parts":[]}` {
		t.Errorf("list for a file < sliceSize: %s", e.Data)
	}
	if len(s.Parts(cr.PreuploadID)) != 1 {
		t.Errorf("Parts: %+v", s.Parts(cr.PreuploadID))
	}
	var u urlData
	c.data(pan123test.OpGetUploadURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": 1}, &u)
	if u.IsMultipart {
		t.Error("isMultipart for one slice")
	}
}

func TestPutRejects(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := newServer(t, pan123test.WithSliceSize(1000), pan123test.WithClock(clk.Now), pan123test.WithURLTTL(time.Minute))
	c := newClient(t, s)
	data := payload(1500, 2)
	var cr createData
	c.data(pan123test.OpCreate, families[0].createBody("x", data), &cr)
	presign := func(n int) string {
		var u urlData
		c.data(pan123test.OpGetUploadURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": n}, &u)
		return u.PresignedURL
	}
	u1 := presign(1)

	tests := []struct {
		name   string
		url    string
		data   []byte
		mod    func(*http.Request)
		status int
		code   string
	}{
		{"short slice", u1, data[:999], nil, 400, "InvalidArgument"},
		{"long last slice", presign(2), data[:1000], nil, 400, "InvalidArgument"},
		{"authorization", u1, data[:1000], func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+c.token) }, 400, "InvalidArgument"},
		{"platform", u1, data[:1000], func(r *http.Request) { r.Header.Set("Platform", "open_platform") }, 400, "InvalidArgument"},
		{"chunked", u1, data[:1000], func(r *http.Request) {
			r.ContentLength = -1
			r.Body = io.NopCloser(struct{ io.Reader }{bytes.NewReader(data[:1000])})
		}, 400, "MissingContentLength"},
		{"bad signature", strings.Replace(u1, "X-Amz-Signature=", "X-Amz-Signature=00", 1), data[:1000], nil, 403, "SignatureDoesNotMatch"},
		{"other slice path", strings.Replace(u1, "/1?", "/2?", 1), data[:500], nil, 403, "SignatureDoesNotMatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, b := c.put(tt.url, tt.data, tt.mod)
			if status != tt.status || !bytes.Contains(b, []byte("<Code>"+tt.code+"</Code>")) || !bytes.HasPrefix(b, []byte("<?xml")) {
				t.Errorf("got %d %s, want %d %s", status, b, tt.status, tt.code)
			}
		})
	}
	if got := s.Parts(cr.PreuploadID); len(got) != 0 {
		t.Fatalf("rejected PUTs stored parts: %+v", got)
	}

	// A repeated PUT replaces the slice.
	if status, _ := c.put(u1, payload(1000, 9), nil); status != 200 {
		t.Fatal(status)
	}
	if status, _ := c.put(u1, data[:1000], nil); status != 200 {
		t.Fatal(status)
	}
	if got := s.Parts(cr.PreuploadID); len(got) != 1 || got[0].MD5 != md5hex(data[:1000]) {
		t.Errorf("replaced part: %+v", got)
	}

	// Expiry by clock, then by ExpireURLs.
	clk.Add(time.Minute)
	if status, b := c.put(u1, data[:1000], nil); status != 403 || !bytes.Contains(b, []byte("Request has expired")) {
		t.Errorf("after URL TTL: %d %s", status, b)
	}
	u2 := presign(2)
	s.ExpireURLs()
	if status, b := c.put(u2, data[1000:], nil); status != 403 || !bytes.Contains(b, []byte("Request has expired")) {
		t.Errorf("after ExpireURLs: %d %s", status, b)
	}
	if status, _ := c.put(presign(2), data[1000:], nil); status != 200 {
		t.Errorf("fresh URL after ExpireURLs: %d", status)
	}
	var done completeData
	c.data(pan123test.OpComplete, map[string]any{"preuploadID": cr.PreuploadID}, &done)
	if got := stored(t, s, families[0], done.FileID); !bytes.Equal(got.Data, data) {
		t.Error("data differs")
	}
}

func TestCompleteFailures(t *testing.T) {
	t.Parallel()
	s := newServer(t, pan123test.WithSliceSize(1000))
	c := newClient(t, s)
	data := payload(1500, 4)

	// Missing slice.
	var cr createData
	c.data(pan123test.OpCreate, families[0].createBody("m", data), &cr)
	c.wantCode(pan123test.OpComplete, map[string]any{"preuploadID": cr.PreuploadID}, pan123test.CodeInternal, "文件上传失败")

	// Content that does not match the declared etag.
	body := families[0].createBody("bad-md5", data)
	body["etag"] = md5hex(payload(1500, 5))
	c.data(pan123test.OpCreate, body, &cr)
	for n := 1; n <= 2; n++ {
		var u urlData
		c.data(pan123test.OpGetUploadURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": n}, &u)
		c.put(u.PresignedURL, sliceOf(data, 1000, n), nil)
	}
	c.wantCode(pan123test.OpComplete, map[string]any{"preuploadID": cr.PreuploadID}, pan123test.CodeInternal, "文件上传失败")
	c.wantCode(pan123test.OpAsyncResult, map[string]any{"preuploadID": cr.PreuploadID}, pan123test.CodeBadRequest, "upload_complete")
	c.wantCode(pan123test.OpComplete, map[string]any{"preuploadID": "nope"}, pan123test.CodeInternal, "preuploadID不存在或已过期")
	if len(s.Files()) != 0 {
		t.Errorf("files: %+v", s.Files())
	}
}

func TestInstantUpload(t *testing.T) {
	t.Parallel()
	for _, f := range families {
		t.Run(f.name, func(t *testing.T) {
			s := newServer(t, pan123test.WithSliceSize(1000), pan123test.WithImageSliceSize(1000))
			c := newClient(t, s)
			data := payload(1200, 6)
			first := c.upload(f, "one", data)
			var cr createData
			c.data(f.create, f.createBody("two", data), &cr)
			if !cr.Reuse || cr.PreuploadID != "" || string(cr.FileID) == string(first) {
				t.Fatalf("create of known content: %+v", cr)
			}
			got := stored(t, s, f, cr.FileID)
			if !got.Reused || got.Name != "two" || !bytes.Equal(got.Data, data) {
				t.Errorf("reused entry: %+v", got)
			}
		})
	}
	t.Run("seeded", func(t *testing.T) {
		s := newServer(t)
		c := newClient(t, s)
		dir := s.SeedFile(pan123test.File{Name: "dir", Dir: true})
		seeded := s.SeedFile(pan123test.File{Name: "old", ParentID: dir.ID, Data: []byte("hello")})
		if seeded.ID == 0 || seeded.MD5 != md5hex([]byte("hello")) || seeded.Size != 5 {
			t.Fatalf("seed: %+v", seeded)
		}
		var cr createData
		c.data(pan123test.OpCreate, families[0].createBody("new", []byte("hello")), &cr)
		if got := stored(t, s, families[0], cr.FileID); !cr.Reuse || got.ParentID != 0 || got.ID == seeded.ID {
			t.Errorf("reuse of a seeded file: %+v %+v", cr, got)
		}
		img := s.SeedImage(pan123test.File{Name: "p.png", Data: []byte("png")})
		if img.ImageID == "" || img.ID != 0 {
			t.Errorf("SeedImage: %+v", img)
		}
		if _, ok := s.Image(img.ImageID); !ok {
			t.Error("Image of a seeded image")
		}
	})
}

func TestAsyncCompletion(t *testing.T) {
	t.Parallel()
	for _, f := range families {
		t.Run(f.name, func(t *testing.T) {
			s := newServer(t, pan123test.WithAsync(2), pan123test.WithSliceSize(1000), pan123test.WithImageSliceSize(1000))
			c := newClient(t, s)
			data := payload(1800, 7)
			cr := c.startUpload(f, "async", data)
			id := map[string]any{"preuploadID": cr.PreuploadID}
			for i := range 2 {
				var done completeData
				c.data(f.complete, id, &done)
				if !done.Async || done.Completed || (string(done.FileID) != "0" && string(done.FileID) != `""`) {
					t.Fatalf("complete %d: %+v", i, done)
				}
			}
			var r completeData
			for i := range 2 {
				c.data(f.result, id, &r)
				if r.Completed {
					t.Fatalf("poll %d already completed", i)
				}
			}
			if len(s.Files())+len(s.Images()) != 0 {
				t.Error("file visible before completion")
			}
			c.data(f.result, id, &r)
			if !r.Completed {
				t.Fatal("not completed after 2 polls")
			}
			if got := stored(t, s, f, r.FileID); !bytes.Equal(got.Data, data) {
				t.Error("data differs")
			}
			var again completeData
			c.data(f.result, id, &again)
			if !again.Completed || string(again.FileID) != string(r.FileID) {
				t.Errorf("result again: %+v", again)
			}
			c.data(f.complete, id, &again)
			if !again.Completed || string(again.FileID) != string(r.FileID) {
				t.Errorf("complete after finish: %+v", again)
			}
		})
	}
}

func TestDuplicateAndContainDir(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	a, b := payload(10, 1), payload(10, 2)
	first := fileID(t, c.upload(families[0], "r.txt", a))

	c.wantCode(pan123test.OpCreate, families[0].createBody("r.txt", b), pan123test.CodeInternal, "同名文件")
	c.wantCode(pan123test.OpCreate, families[0].createBody("r.txt", a), pan123test.CodeInternal, "同名文件") // even for instant upload

	body := with(families[0].createBody("r.txt", b), "duplicate", 1)
	var cr createData
	c.data(pan123test.OpCreate, body, &cr)
	var done completeData
	c.startUploadSession(cr, b)
	c.data(pan123test.OpComplete, map[string]any{"preuploadID": cr.PreuploadID}, &done)
	if got, _ := s.File(fileID(t, done.FileID)); got.Name != "r(1).txt" {
		t.Errorf("keep both: name %q", got.Name)
	}

	c.data(pan123test.OpCreate, with(families[0].createBody("r.txt", payload(10, 3)), "duplicate", 2), &cr)
	c.startUploadSession(cr, payload(10, 3))
	c.data(pan123test.OpComplete, map[string]any{"preuploadID": cr.PreuploadID}, &done)
	if _, ok := s.File(first); ok {
		t.Error("overwritten file still there")
	}
	if got, _ := s.File(fileID(t, done.FileID)); got.Name != "r.txt" || !bytes.Equal(got.Data, payload(10, 3)) {
		t.Errorf("overwrite: %+v", got)
	}

	d := payload(10, 4)
	body = with(families[0].createBody("/你好/123/测试文件.mp4", d), "containDir", true)
	c.data(pan123test.OpCreate, body, &cr)
	c.startUploadSession(cr, d)
	c.data(pan123test.OpComplete, map[string]any{"preuploadID": cr.PreuploadID}, &done)
	got, _ := s.File(fileID(t, done.FileID))
	parent, _ := s.File(got.ParentID)
	grand, _ := s.File(parent.ParentID)
	if got.Name != "测试文件.mp4" || parent.Name != "123" || !parent.Dir || grand.Name != "你好" || grand.ParentID != 0 {
		t.Errorf("containDir: %+v in %+v in %+v", got, parent, grand)
	}
}

// startUploadSession PUTs every slice of an existing session.
func (c *client) startUploadSession(cr createData, data []byte) {
	c.t.Helper()
	for n := 1; n <= slices(len(data), cr.SliceSize); n++ {
		var u urlData
		c.data(pan123test.OpGetUploadURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": n}, &u)
		if status, b := c.put(u.PresignedURL, sliceOf(data, cr.SliceSize, n), nil); status != 200 {
			c.t.Fatalf("PUT %d: %d %s", n, status, b)
		}
	}
}

func TestMkdir(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	var d struct{ DirID int64 }
	c.data(pan123test.OpMkdir, map[string]any{"name": "docs", "parentID": 0}, &d)
	c.wantCode(pan123test.OpMkdir, map[string]any{"name": "docs", "parentID": 0}, pan123test.CodeInternal, "该目录下已经有同名文件夹,无法进行创建")
	c.wantCode(pan123test.OpMkdir, map[string]any{"name": "sub", "parentID": 12345}, pan123test.CodeInternal, "父级目录不存在")
	c.wantCode(pan123test.OpMkdir, map[string]any{"name": "a:b", "parentID": 0}, pan123test.CodeBadRequest, "file name")
	var sub struct{ DirID int64 }
	c.data(pan123test.OpMkdir, map[string]any{"name": "docs", "parentID": d.DirID}, &sub)
	if got, ok := s.File(sub.DirID); !ok || !got.Dir || got.ParentID != d.DirID {
		t.Errorf("sub dir: %+v", got)
	}

	var l struct {
		List []struct{ Filename, DirID string }
	}
	c.data(pan123test.OpOSSMkdir, map[string]any{"name": "pics", "parentID": "", "type": 1}, &l)
	if len(l.List) != 1 || l.List[0].Filename != "pics" || l.List[0].DirID == "" {
		t.Fatalf("oss mkdir string: %+v", l)
	}
	c.data(pan123test.OpOSSMkdir, map[string]any{"name": []string{"a", "b"}, "parentID": l.List[0].DirID, "type": 1}, &l)
	if len(l.List) != 2 || l.List[1].Filename != "b" {
		t.Fatalf("oss mkdir list: %+v", l)
	}
	if img, _ := s.Image(l.List[1].DirID); !img.Dir || img.ParentImageID == "" {
		t.Errorf("oss dir: %+v", img)
	}
	c.wantCode(pan123test.OpOSSMkdir, map[string]any{"name": []string{"pics"}, "parentID": "", "type": 1}, pan123test.CodeInternal, "同名文件夹")
	c.wantCode(pan123test.OpOSSMkdir, map[string]any{"name": "x", "parentID": 0, "type": 1}, pan123test.CodeBadRequest, "parentID")
	c.wantCode(pan123test.OpOSSMkdir, map[string]any{"name": []any{"x", 1}, "parentID": "", "type": 1}, pan123test.CodeBadRequest, "name")

	// Uploading into an image folder.
	var cr createData
	body := families[1].createBody("in.png", []byte("png!"))
	body["parentFileID"] = l.List[0].DirID
	c.data(pan123test.OpOSSCreate, body, &cr)
	if cr.SliceSize != pan123test.DefaultImageSliceSize {
		t.Errorf("oss sliceSize %d", cr.SliceSize)
	}
}

func TestPreuploadExpiry(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := newServer(t, pan123test.WithClock(clk.Now), pan123test.WithPreuploadTTL(time.Hour), pan123test.WithSliceSize(10))
	c := newClient(t, s)
	data := payload(15, 1)
	var cr createData
	c.data(pan123test.OpCreate, families[0].createBody("e", data), &cr)
	var u urlData
	c.data(pan123test.OpGetUploadURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": 1}, &u)
	c.put(u.PresignedURL, data[:10], nil)
	clk.Add(59 * time.Minute)
	if len(s.Parts(cr.PreuploadID)) != 1 {
		t.Fatal("parts lost before the TTL")
	}
	clk.Add(time.Minute)
	if s.Parts(cr.PreuploadID) != nil {
		t.Error("Parts after the TTL")
	}
	c.wantCode(pan123test.OpListUploadParts, map[string]any{"preuploadID": cr.PreuploadID}, pan123test.CodeInternal, "preuploadID不存在或已过期")

	c.token = s.IssueToken() // the token TTL is longer, but be explicit
	c.data(pan123test.OpCreate, families[0].createBody("f", data), &cr)
	c.data(pan123test.OpGetUploadURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": 2}, &u)
	s.ExpirePreuploads()
	c.wantCode(pan123test.OpComplete, map[string]any{"preuploadID": cr.PreuploadID}, pan123test.CodeInternal, "preuploadID")
	if status, b := c.put(u.PresignedURL, data[10:], nil); status != 404 || !bytes.Contains(b, []byte("NoSuchUpload")) {
		t.Errorf("PUT for a forgotten session: %d %s", status, b)
	}
}

func TestStoreModes(t *testing.T) {
	t.Parallel()
	for _, mode := range []pan123test.StoreMode{pan123test.StoreHashes, pan123test.StoreNothing} {
		s := newServer(t, pan123test.WithStore(mode), pan123test.WithSliceSize(1000))
		c := newClient(t, s)
		data := payload(2100, 8)
		body := families[0].createBody("h", data)
		body["etag"] = md5hex(payload(2100, 9)) // not checked in these modes
		var cr createData
		c.data(pan123test.OpCreate, body, &cr)
		c.startUploadSession(cr, data)
		parts := s.Parts(cr.PreuploadID)
		wantMD5 := map[pan123test.StoreMode]string{pan123test.StoreHashes: md5hex(data[:1000])}[mode]
		if len(parts) != 3 || parts[0].MD5 != wantMD5 || parts[2].Size != 100 {
			t.Errorf("mode %d parts: %+v", mode, parts)
		}
		var done completeData
		c.data(pan123test.OpComplete, map[string]any{"preuploadID": cr.PreuploadID}, &done)
		got := stored(t, s, families[0], done.FileID)
		if got.Data != nil || got.SHA1 != "" || got.Size != 2100 || (mode == pan123test.StoreHashes) != (len(got.SliceMD5s) == 3) {
			t.Errorf("mode %d stored: %+v", mode, got)
		}
	}
}
