package pan123test_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/go-pan123/pan123/pan123test"
)

func TestV2Flow(t *testing.T) {
	t.Parallel()
	s := newServer(t, pan123test.WithSliceSize(1000), pan123test.WithUploadServers(2), pan123test.WithAsync(2))
	c := newClient(t, s)
	data := payload(2300, 11)

	var cr createData
	c.data(pan123test.OpV2Create, families[0].createBody("v2.bin", data), &cr)
	if cr.Reuse || cr.SliceSize != 1000 || len(cr.Servers) != 2 || cr.Servers[0] == cr.Servers[1] || string(cr.FileID) != "0" {
		t.Fatalf("create: %+v", cr)
	}
	slice := func(server string, n int, b []byte, sum string) env {
		return c.envelope(c.multipartRequest(server+string(pan123test.OpV2Slice), []part{
			{"preuploadID", cr.PreuploadID}, {"sliceNo", strconv.Itoa(n)}, {"sliceMD5", sum},
		}, "slice", b))
	}
	for n := 1; n <= 3; n++ {
		b := sliceOf(data, 1000, n)
		if e := slice(cr.Servers[n%2], n, b, md5hex(b)); e.Code != 0 || string(e.Data) != "null" {
			t.Fatalf("slice %d: %+v", n, e)
		}
	}
	if e := slice(cr.Servers[0], 1, data[:1000], md5hex(data[1:1001])); e.Code != pan123test.CodeInternal {
		t.Errorf("sliceMD5 mismatch: %+v", e)
	}
	if e := slice(cr.Servers[0], 1, data[:999], md5hex(data[:999])); e.Code != pan123test.CodeBadRequest {
		t.Errorf("short slice: %+v", e)
	}
	if e := slice(cr.Servers[0], 4, data[:300], md5hex(data[:300])); e.Code != pan123test.CodeBadRequest {
		t.Errorf("sliceNo 4: %+v", e)
	}
	req := c.multipartRequest(cr.Servers[0]+string(pan123test.OpV2Slice), []part{{"preuploadID", cr.PreuploadID}, {"sliceNo", "1"}, {"sliceMD5", md5hex(data[:1000])}}, "slice", data[:1000])
	req.Header.Del("Authorization")
	if e := c.envelope(req); e.Code != 401 {
		t.Errorf("slice without token: %+v", e)
	}
	req, _ = http.NewRequest(http.MethodPost, s.URL+string(pan123test.OpV2Slice), nil)
	if status, _ := c.send(req); status != http.StatusNotFound {
		t.Errorf("slice on the API host: HTTP %d", status)
	}
	// V2 sessions can be listed through the V1 endpoint (for resume).
	var lp struct{ Parts []struct{ PartNumber string } }
	c.data(pan123test.OpListUploadParts, map[string]any{"preuploadID": cr.PreuploadID}, &lp)
	if len(lp.Parts) != 3 {
		t.Errorf("list V2 parts: %+v", lp)
	}

	id := map[string]any{"preuploadID": cr.PreuploadID}
	var r completeData
	for i := range 2 {
		c.data(pan123test.OpV2Complete, id, &r)
		if r.Completed || string(r.FileID) != "0" {
			t.Fatalf("complete %d: %+v", i, r)
		}
	}
	c.data(pan123test.OpV2Complete, id, &r)
	if !r.Completed {
		t.Fatal("not completed after 2 polls")
	}
	if got := stored(t, s, families[0], r.FileID); !bytes.Equal(got.Data, data) || got.SHA1 != sha1hex(data) {
		t.Error("data differs")
	}
	var again completeData
	c.data(pan123test.OpV2Complete, id, &again)
	if !again.Completed || string(again.FileID) != string(r.FileID) {
		t.Errorf("complete again: %+v", again)
	}
	if n := s.Requests()[len(s.Requests())-1].Server; n != 0 {
		t.Errorf("complete logged on server %d", n)
	}
	for _, rq := range s.Requests() {
		if rq.Op == pan123test.OpV2Slice && rq.Server == 0 && rq.Status != http.StatusNotFound {
			t.Errorf("slice logged on the API host")
		}
	}
}

func TestV2CompleteMismatch(t *testing.T) {
	t.Parallel()
	s := newServer(t, pan123test.WithSliceSize(1000))
	c := newClient(t, s)
	data := payload(500, 1)
	body := families[0].createBody("m", data)
	body["etag"] = md5hex([]byte("other"))
	var cr createData
	c.data(pan123test.OpV2Create, body, &cr)
	e := c.envelope(c.multipartRequest(cr.Servers[0]+string(pan123test.OpV2Slice), []part{
		{"preuploadID", cr.PreuploadID}, {"sliceNo", "1"}, {"sliceMD5", md5hex(data)},
	}, "slice", data))
	if e.Code != 0 {
		t.Fatal(e)
	}
	c.wantCode(pan123test.OpV2Complete, map[string]any{"preuploadID": cr.PreuploadID}, pan123test.CodeInternal, "文件上传失败")
	c.wantCode(pan123test.OpComplete, map[string]any{"preuploadID": cr.PreuploadID}, pan123test.CodeInternal, "preuploadID") // not a V1 session
}

func TestV2Domain(t *testing.T) {
	t.Parallel()
	s := newServer(t, pan123test.WithUploadServers(3))
	c := newClient(t, s)
	req, _ := http.NewRequest(http.MethodGet, s.URL+string(pan123test.OpV2Domain), nil)
	req.Header.Set("Platform", "open_platform")
	req.Header.Set("Authorization", "Bearer "+c.token)
	e := c.envelope(req)
	var servers []string
	if err := json.Unmarshal(e.Data, &servers); err != nil || len(servers) != 3 {
		t.Fatalf("domain data %s: %v", e.Data, err)
	}
	for i, u := range s.UploadServers() {
		if servers[i] != u {
			t.Errorf("server %d = %q, want %q", i, servers[i], u)
		}
	}

	s.CloseUploadServer(2)
	s.CloseUploadServer(2) // idempotent
	if _, err := http.Post(servers[1]+string(pan123test.OpV2Slice), "text/plain", nil); err == nil {
		t.Error("closed upload server still answers")
	}
	req, _ = http.NewRequest(http.MethodPost, servers[2]+string(pan123test.OpV2Slice), nil)
	if status, _ := c.send(req); status != http.StatusOK {
		t.Errorf("other upload server: HTTP %d", status)
	}
}

func TestV2Single(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	data := payload(3000, 12)
	fields := func(name string, extra ...part) []part {
		return append([]part{{"parentFileID", "0"}, {"filename", name}, {"etag", md5hex(data)}, {"size", "3000"}}, extra...)
	}
	single := s.UploadServers()[0] + string(pan123test.OpV2Single)

	e := c.envelope(c.multipartRequest(single, fields("s.bin"), "file", data))
	var got struct {
		FileID    int64
		Completed bool
	}
	if err := json.Unmarshal(e.Data, &got); err != nil || !got.Completed || e.Code != 0 {
		t.Fatalf("single: %+v", e)
	}
	if f, _ := s.File(got.FileID); !bytes.Equal(f.Data, data) || f.Name != "s.bin" {
		t.Errorf("stored: %+v", f)
	}

	tests := []struct {
		name   string
		fields []part
		data   []byte
		code   int
		msg    string
	}{
		{"conflict", fields("s.bin"), data, pan123test.CodeInternal, "同名文件"},
		{"wrong md5", fields("t.bin"), payload(3000, 13), pan123test.CodeInternal, "文件上传失败"},
		{"wrong size", fields("t.bin"), data[:2999], pan123test.CodeInternal, "文件上传失败"},
		{"too large", []part{{"parentFileID", "0"}, {"filename", "big"}, {"etag", md5hex(data)}, {"size", strconv.Itoa(1<<30 + 1)}}, data, pan123test.CodeInternal, "单文件大小超出限制"},
		{"unknown field", fields("t.bin", part{"parentFileId", "0"}), data, pan123test.CodeBadRequest, "parentFileId"},
		{"bad containDir", fields("t.bin", part{"containDir", "yes"}), data, pan123test.CodeBadRequest, "containDir"},
		{"missing size", fields("t.bin")[:3], data, pan123test.CodeBadRequest, "size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := c.envelope(c.multipartRequest(single, tt.fields, "file", tt.data))
			if e.Code != tt.code || !bytes.Contains([]byte(e.Message), []byte(tt.msg)) {
				t.Errorf("got %d %q, want %d %q", e.Code, e.Message, tt.code, tt.msg)
			}
		})
	}

	e = c.envelope(c.multipartRequest(single, fields("s.bin", part{"duplicate", "1"}), "file", data))
	_ = json.Unmarshal(e.Data, &got)
	if f, _ := s.File(got.FileID); e.Code != 0 || f.Name != "s(1).bin" {
		t.Errorf("duplicate=1: %+v %+v", e, f)
	}
	e = c.envelope(c.multipartRequest(single, fields("a/b.bin", part{"containDir", "true"}), "file", data))
	_ = json.Unmarshal(e.Data, &got)
	if f, _ := s.File(got.FileID); e.Code != 0 || f.Name != "b.bin" || f.ParentID == 0 {
		t.Errorf("containDir: %+v %+v", e, f)
	}
}

func TestSHA1Reuse(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	data := payload(777, 14)
	c.upload(families[0], "orig", data)
	seeded := s.SeedFile(pan123test.File{Name: "seeded", Size: 5, MD5: md5hex([]byte("abcde")), SHA1: sha1hex([]byte("abcde"))})

	type reuse struct {
		FileID int64
		Reuse  bool
	}
	var r reuse
	c.data(pan123test.OpV2SHA1Reuse, map[string]any{"parentFileID": 0, "filename": "copy", "sha1": sha1hex(data), "size": 777}, &r)
	if f, _ := s.File(r.FileID); !r.Reuse || !f.Reused || !bytes.Equal(f.Data, data) {
		t.Errorf("reuse of an uploaded file: %+v %+v", r, f)
	}
	c.data(pan123test.OpV2SHA1Reuse, map[string]any{"parentFileID": 0, "filename": "copy2", "sha1": seeded.SHA1, "size": 5}, &r)
	if !r.Reuse || r.FileID == seeded.ID {
		t.Errorf("reuse of a seeded file: %+v", r)
	}
	c.data(pan123test.OpV2SHA1Reuse, map[string]any{"parentFileID": 0, "filename": "x", "sha1": seeded.SHA1, "size": 6}, &r)
	if r.Reuse || r.FileID != 0 {
		t.Errorf("size mismatch: %+v", r)
	}
	c.wantCode(pan123test.OpV2SHA1Reuse, map[string]any{"parentFileID": 0, "filename": "copy", "sha1": sha1hex(data), "size": 777}, pan123test.CodeInternal, "同名文件")
	c.wantCode(pan123test.OpV2SHA1Reuse, map[string]any{"parentFileID": 0, "filename": "y", "sha1": md5hex(data), "size": 777}, pan123test.CodeBadRequest, "sha1")
	c.data(pan123test.OpV2SHA1Reuse, map[string]any{"parentFileID": 0, "filename": "copy", "sha1": sha1hex(data), "size": 777, "duplicate": 2}, &r)
	if !r.Reuse {
		t.Errorf("overwrite: %+v", r)
	}
}
