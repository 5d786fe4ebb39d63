package pan123test_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-pan123/pan123/pan123test"
)

// env is the response envelope.
type env struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
	TraceID string          `json:"x-traceID"`
}

// client is a minimal hand-written client of the fake (not the SDK).
type client struct {
	t     *testing.T
	s     *pan123test.Server
	hc    *http.Client
	token string
}

func newServer(t *testing.T, opts ...pan123test.Option) *pan123test.Server {
	t.Helper()
	s := pan123test.NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, s *pan123test.Server) *client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c := &client{t: t, s: s, hc: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
	var tok struct{ AccessToken string }
	c.data(pan123test.OpAccessToken, map[string]any{"clientID": s.ClientID, "clientSecret": s.ClientSecret}, &tok)
	c.token = tok.AccessToken
	return c
}

// send does a request and returns status and body.
func (c *client) send(req *http.Request) (int, []byte) {
	c.t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read: %v", req.Method, req.URL.Path, err)
	}
	return resp.StatusCode, b
}

// apiRequest builds a JSON API request with the documented headers.
// body is a raw JSON string or a value to marshal.
func (c *client) apiRequest(op pan123test.Op, body any) *http.Request {
	c.t.Helper()
	raw, ok := body.(string)
	if !ok {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		raw = string(b)
	}
	req, err := http.NewRequest(http.MethodPost, c.s.URL+string(op), strings.NewReader(raw))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Platform", "open_platform")
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" && op != pan123test.OpAccessToken {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req
}

// envelope does a request and decodes the envelope, which must come with HTTP 200.
func (c *client) envelope(req *http.Request) env {
	c.t.Helper()
	status, b := c.send(req)
	var e env
	if err := json.Unmarshal(b, &e); err != nil {
		c.t.Fatalf("%s: bad envelope %q: %v", req.URL.Path, b, err)
	}
	if status != http.StatusOK {
		c.t.Fatalf("%s: HTTP %d, want 200 (%s)", req.URL.Path, status, b)
	}
	if e.TraceID == "" {
		c.t.Errorf("%s: empty x-traceID", req.URL.Path)
	}
	if e.Code != 0 && string(e.Data) != "null" {
		c.t.Errorf("%s: error envelope with data %s", req.URL.Path, e.Data)
	}
	return e
}

func (c *client) call(op pan123test.Op, body any) env {
	c.t.Helper()
	return c.envelope(c.apiRequest(op, body))
}

// data calls op, requires code 0 and decodes data into out.
func (c *client) data(op pan123test.Op, body, out any) {
	c.t.Helper()
	e := c.call(op, body)
	if e.Code != 0 {
		c.t.Fatalf("%s: code %d %s", op, e.Code, e.Message)
	}
	if out != nil {
		if err := json.Unmarshal(e.Data, out); err != nil {
			c.t.Fatalf("%s: data %s: %v", op, e.Data, err)
		}
	}
}

// wantCode calls op and requires the envelope code (and message substring).
func (c *client) wantCode(op pan123test.Op, body any, code int, msg string) env {
	c.t.Helper()
	e := c.call(op, body)
	if e.Code != code || !strings.Contains(e.Message, msg) {
		c.t.Fatalf("%s %v: got code %d %q, want %d %q", op, body, e.Code, e.Message, code, msg)
	}
	return e
}

// put sends a slice to a presigned URL like a correct client.
func (c *client) put(url string, data []byte, mod func(*http.Request)) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(data))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if mod != nil {
		mod(req)
	}
	return c.send(req)
}

type part struct{ name, value string }

// multipartRequest builds a V2 multipart request: text fields, then the file part.
func (c *client) multipartRequest(url string, fields []part, fileField string, data []byte) *http.Request {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		_ = mw.WriteField(f.name, f.value)
	}
	fw, _ := mw.CreateFormFile(fileField, "blob.part")
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, err := http.NewRequest(http.MethodPost, url, &buf)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Platform", "open_platform")
	req.Header.Set("Authorization", "Bearer "+c.token)
	return req
}

func md5hex(b []byte) string  { s := md5.Sum(b); return hex.EncodeToString(s[:]) }
func sha1hex(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }

// payload returns n deterministic bytes that differ per seed.
func payload(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed
	}
	return b
}

// family describes the V1-style flow of the file family or the image bed.
type family struct {
	name                                   string
	create, getURL, list, complete, result pan123test.Op
	root                                   any // parent ID of the root
	extra                                  map[string]any
}

var families = []family{
	{"file", pan123test.OpCreate, pan123test.OpGetUploadURL, pan123test.OpListUploadParts, pan123test.OpComplete, pan123test.OpAsyncResult, 0, nil},
	{"oss", pan123test.OpOSSCreate, pan123test.OpOSSGetUploadURL, pan123test.OpOSSListUploadParts, pan123test.OpOSSComplete, pan123test.OpOSSAsyncResult, "", map[string]any{"type": 1}},
}

func (f family) createBody(name string, data []byte) map[string]any {
	m := map[string]any{"parentFileID": f.root, "filename": name, "etag": md5hex(data), "size": len(data)}
	for k, v := range f.extra {
		m[k] = v
	}
	return m
}

type createData struct {
	FileID      json.RawMessage `json:"fileID"`
	PreuploadID string          `json:"preuploadID"`
	Reuse       bool            `json:"reuse"`
	SliceSize   int64           `json:"sliceSize"`
	Servers     []string        `json:"servers"`
}

type urlData struct {
	PresignedURL string `json:"presignedURL"`
	IsMultipart  bool   `json:"isMultipart"`
}

type completeData struct {
	Async     bool            `json:"async"`
	Completed bool            `json:"completed"`
	FileID    json.RawMessage `json:"fileID"`
}

// sliceOf returns slice n (1-based) of data.
func sliceOf(data []byte, size int64, n int) []byte {
	lo := int64(n-1) * size
	return data[lo:min(lo+size, int64(len(data)))]
}

func slices(size int, sliceSize int64) int { return int((int64(size) + sliceSize - 1) / sliceSize) }

// startUpload creates a session and PUTs every slice.
func (c *client) startUpload(f family, name string, data []byte) createData {
	c.t.Helper()
	var cr createData
	c.data(f.create, f.createBody(name, data), &cr)
	if cr.Reuse {
		return cr
	}
	for n := 1; n <= slices(len(data), cr.SliceSize); n++ {
		var u urlData
		c.data(f.getURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": n}, &u)
		if status, b := c.put(u.PresignedURL, sliceOf(data, cr.SliceSize, n), nil); status != http.StatusOK || len(b) != 0 {
			c.t.Fatalf("PUT slice %d: %d %s", n, status, b)
		}
	}
	return cr
}

// upload runs the whole V1-style flow synchronously and returns the fileID.
func (c *client) upload(f family, name string, data []byte) json.RawMessage {
	c.t.Helper()
	cr := c.startUpload(f, name, data)
	if cr.Reuse {
		return cr.FileID
	}
	var done completeData
	c.data(f.complete, map[string]any{"preuploadID": cr.PreuploadID}, &done)
	if done.Async || !done.Completed {
		c.t.Fatalf("complete: %+v", done)
	}
	return done.FileID
}

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func fileID(t *testing.T, raw json.RawMessage) int64 {
	t.Helper()
	var id int64
	if err := json.Unmarshal(raw, &id); err != nil || id == 0 {
		t.Fatalf("fileID %s: want a non-zero number", raw)
	}
	return id
}

func imageID(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var id string
	if err := json.Unmarshal(raw, &id); err != nil || id == "" {
		t.Fatalf("fileID %s: want a non-empty string", raw)
	}
	return id
}

// stored returns the stored entry for a fileID answered by family f.
func stored(t *testing.T, s *pan123test.Server, f family, raw json.RawMessage) pan123test.File {
	t.Helper()
	var got pan123test.File
	var ok bool
	if f.name == "oss" {
		got, ok = s.Image(imageID(t, raw))
	} else {
		got, ok = s.File(fileID(t, raw))
	}
	if !ok {
		t.Fatalf("fileID %s not stored", raw)
	}
	return got
}

var _ = fmt.Sprintf
