package pan123_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

func TestListFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := e.srv.SeedFile(pan123test.File{Name: "big", Dir: true})
	var want []int64
	for i := range 130 {
		f := e.srv.SeedFile(pan123test.File{ParentID: dir.ID, Name: fmt.Sprintf("f%03d.txt", i), Data: []byte{byte(i)}})
		want = append(want, f.ID)
	}
	sub := e.srv.SeedFile(pan123test.File{ParentID: dir.ID, Name: "sub", Dir: true})
	want = append(want, sub.ID)

	var got []pan123.FileInfo
	var cursor int64
	pages := 0
	for {
		require.Less(t, pages, 3, "the listing does not end") // a bound, so that a cursor not sent fails instead of looping
		page, err := e.c.Drive.List(t.Context(), dir.ID, cursor, pan123.MaxListLimit)
		require.NoError(t, err)
		got = append(got, page.Files...)
		pages++
		if page.LastFileID == -1 {
			break
		}
		cursor = page.LastFileID
	}
	assert.Equal(t, 2, pages)
	require.Len(t, got, len(want))
	for i, f := range got {
		assert.Equal(t, want[i], f.FileID)
		assert.Equal(t, dir.ID, f.ParentFileID)
	}
	assert.Equal(t, pan123.FileInfo{FileID: want[0], Filename: "f000.txt", Size: 1, Etag: md5hex([]byte{0}), ParentFileID: dir.ID}, got[0])
	assert.True(t, got[130].Dir)
	assert.Equal(t, "sub", got[130].Filename)

	for _, r := range e.srv.Requests() {
		if r.Op == pan123test.OpFileList {
			assert.Equal(t, http.MethodGet, r.Method)
			assert.True(t, strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "))
			assert.Equal(t, "open_platform", r.Header.Get("Platform"))
		}
	}

	empty, err := e.c.Drive.List(t.Context(), sub.ID, 0, 10)
	require.NoError(t, err)
	assert.Empty(t, empty.Files)
	assert.Equal(t, int64(-1), empty.LastFileID)
}

func TestListFilesBadInputSendsNothing(t *testing.T) {
	e := newEnv(t)
	for name, args := range map[string][3]int64{
		"negative parent": {-1, 0, 10},
		"last page":       {0, -1, 10},
		"zero limit":      {0, 0, 0},
		"limit over 100":  {0, 0, 101},
	} {
		_, err := e.c.Drive.List(t.Context(), args[0], args[1], int(args[2]))
		require.ErrorIs(t, err, pan123.ErrInvalidInput, name)
	}
	assert.Empty(t, e.srv.Requests())
}

// listPlatform is a scripted API host for what pan123test cannot show:
// trashed entries (the fake has no trash) and the query on the wire.
type listPlatform struct {
	URL     string
	mu      sync.Mutex
	queries []string
	pages   map[string]string // lastFileId ("" = first page) -> data JSON
	mkdirs  int
}

func newListPlatform(t *testing.T, pages map[string]string) *listPlatform {
	t.Helper()
	p := &listPlatform{pages: pages}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer := func(code int, data string) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"code":%d,"message":"m","data":%s,"x-traceID":"t"}`, code, data)
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		switch r.URL.Path {
		case "/api/v1/access_token":
			answer(0, `{"accessToken":"tok","expiredAt":"2099-01-01T00:00:00+08:00"}`)
		case "/upload/v1/file/mkdir":
			p.mkdirs++
			answer(1, "null") // exists
		case "/api/v2/file/list":
			p.queries = append(p.queries, r.URL.RawQuery)
			page, ok := p.pages[r.URL.Query().Get("lastFileId")]
			if !ok {
				answer(5066, "null")
				return
			}
			answer(0, page)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *listPlatform) client(t *testing.T, opts ...pan123.Option) *pan123.Client {
	t.Helper()
	c, err := pan123.New("id", "secret", append([]pan123.Option{pan123.WithBaseURL(p.URL), pan123.WithoutRateLimits(),
		pan123.WithRetry(2, time.Millisecond, time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func entry(id int64, name string, typ, trashed int) string {
	b, _ := json.Marshal(map[string]any{"fileId": id, "filename": name, "type": typ, "size": 0, "etag": "",
		"status": 0, "parentFileId": 7, "category": 0, "trashed": trashed})
	return string(b)
}

func TestListFilesSkipsTrashedAndKeepsQueryPrivate(t *testing.T) {
	p := newListPlatform(t, map[string]string{
		"":   `{"lastFileId":11,"fileList":[` + entry(10, "old", 1, 1) + `,` + entry(11, "a.txt", 0, 0) + `]}`,
		"11": `{"lastFileId":-1,"fileList":[` + entry(12, "gone.txt", 0, 1) + `]}`,
	})
	var logs bytes.Buffer
	var mu sync.Mutex
	c := p.client(t, pan123.WithLogger(slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))))

	page, err := c.Drive.List(t.Context(), 7, 0, 50)
	require.NoError(t, err)
	assert.Equal(t, int64(11), page.LastFileID)
	require.Len(t, page.Files, 1, "the trashed folder is left out")
	assert.Equal(t, "a.txt", page.Files[0].Filename)
	page, err = c.Drive.List(t.Context(), 7, 11, 50)
	require.NoError(t, err)
	assert.Empty(t, page.Files, "a page of trashed entries only is empty")
	assert.Equal(t, int64(-1), page.LastFileID)

	// Documented spelling on the wire; no lastFileId on the first page.
	assert.Equal(t, []string{"limit=50&parentFileId=7", "lastFileId=11&limit=50&parentFileId=7"}, p.queries)

	// An error names the path, never the query; neither do the logs.
	_, err = c.Drive.List(t.Context(), 7, 99, 50)
	var ae *pan123.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "/api/v2/file/list", ae.Path)
	assert.NotContains(t, err.Error(), "parentFileId")
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, logs.String(), "/api/v2/file/list")
	assert.NotContains(t, logs.String(), "parentFileId")
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func TestEnsureDirSkipsTrashed(t *testing.T) {
	t.Parallel()
	p := newListPlatform(t, map[string]string{
		"": `{"lastFileId":-1,"fileList":[` + entry(20, "x", 1, 1) + `,` + entry(21, "x", 1, 0) + `]}`,
	})
	id, err := p.client(t).Drive.EnsureDir(t.Context(), 7, "x")
	require.NoError(t, err)
	assert.Equal(t, int64(21), id, "the live folder, not the trashed one")

	// Only a trashed folder of that name: mkdir's error stands.
	p = newListPlatform(t, map[string]string{"": `{"lastFileId":-1,"fileList":[` + entry(20, "x", 1, 1) + `]}`})
	_, err = p.client(t).Drive.EnsureDir(t.Context(), 7, "x")
	var ae *pan123.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 1, ae.Code)
	assert.Equal(t, "/upload/v1/file/mkdir", ae.Path)

	// A listing whose cursor does not move is refused, not followed forever.
	p = newListPlatform(t, map[string]string{"": `{"lastFileId":0,"fileList":[]}`})
	_, err = p.client(t).Drive.EnsureDir(t.Context(), 7, "x")
	require.ErrorIs(t, err, pan123.ErrProtocol)
}

func TestEnsureDir(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	parent := func(id int64) (int64, string) {
		f, ok := e.srv.File(id)
		require.True(t, ok)
		require.True(t, f.Dir, "%d is not a folder", id)
		return f.ParentID, f.Name
	}

	id, err := e.c.Drive.EnsureDir(ctx, 0, "/a/b/c/")
	require.NoError(t, err)
	pb, name := parent(id)
	assert.Equal(t, "c", name)
	pa, name := parent(pb)
	assert.Equal(t, "b", name)
	root, name := parent(pa)
	assert.Equal(t, "a", name)
	assert.Zero(t, root)
	assert.Equal(t, 3, e.srv.Count(pan123test.OpMkdir))
	assert.Zero(t, e.srv.Count(pan123test.OpFileList), "nothing existed: no listing")

	// Again: every mkdir answers code 1, and each folder is found by listing.
	e.srv.ResetRequests()
	again, err := e.c.Drive.EnsureDir(ctx, 0, "a/b/c")
	require.NoError(t, err)
	assert.Equal(t, id, again)
	assert.Equal(t, 3, e.srv.Count(pan123test.OpMkdir))
	assert.Equal(t, 3, e.srv.Count(pan123test.OpFileList))

	// Partly there.
	d, err := e.c.Drive.EnsureDir(ctx, 0, "a/b/d")
	require.NoError(t, err)
	pd, name := parent(d)
	assert.Equal(t, "d", name)
	assert.Equal(t, pb, pd)

	// Found past the first page of the listing.
	crowded, err := e.c.Drive.EnsureDir(ctx, 0, "crowded")
	require.NoError(t, err)
	for i := range 120 {
		e.srv.SeedFile(pan123test.File{ParentID: crowded, Name: fmt.Sprintf("%03d", i), Data: []byte{1}})
	}
	late := e.srv.SeedFile(pan123test.File{ParentID: crowded, Name: "late", Dir: true})
	e.srv.ResetRequests()
	got, err := e.c.Drive.EnsureDir(ctx, crowded, "late")
	require.NoError(t, err)
	assert.Equal(t, late.ID, got)
	assert.Equal(t, 2, e.srv.Count(pan123test.OpFileList))

	// A file holds the name.
	e.srv.SeedFile(pan123test.File{ParentID: crowded, Name: "plain", Data: []byte("x")})
	_, err = e.c.Drive.EnsureDir(ctx, crowded, "plain/sub")
	var ae *pan123.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 1, ae.Code)
	assert.Contains(t, err.Error(), "a file holds the name")
	assert.Contains(t, err.Error(), `"plain"`)

	// The parent does not exist.
	_, err = e.c.Drive.EnsureDir(ctx, 987654, "x")
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 1, ae.Code)
}

func TestEnsureDirConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 6
	ids := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id, err := e.c.Drive.EnsureDir(t.Context(), 0, "shared/deeper")
			assert.NoError(t, err)
			ids[i] = id
		})
	}
	wg.Wait()
	for _, id := range ids {
		assert.Equal(t, ids[0], id)
	}
	names := map[string]int{}
	for _, f := range e.srv.Files() {
		names[f.Name]++
	}
	assert.Equal(t, map[string]int{"shared": 1, "deeper": 1}, names, "each folder created once")
}

func TestEnsureDirBadInputSendsNothing(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"", "/", "//", "a//b", "a/./b", "a/../b", "..", "a/b?c", "a/" + strings.Repeat("x", 256), "a/ "} {
		_, err := e.c.Drive.EnsureDir(t.Context(), 0, path)
		require.ErrorIs(t, err, pan123.ErrInvalidInput, "%q", path)
	}
	_, err := e.c.Drive.EnsureDir(t.Context(), -1, "a")
	require.ErrorIs(t, err, pan123.ErrInvalidInput)
	assert.Empty(t, e.srv.Requests())
}

// TestEveryAPICallSendsJSONContentType: the platform's common headers list
// Content-Type: application/json for every call, GETs (domain, file list)
// included; uploads to storage and V2 upload servers are not API calls.
func TestEveryAPICallSendsJSONContentType(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.uploader(pan123.WithProtocol(pan123.Auto)).Upload(t.Context(), strings.NewReader("hello"), pan123.FileInput{Name: "a.txt"})
	require.NoError(t, err)
	_, err = e.c.Drive.List(t.Context(), 0, 0, 10)
	require.NoError(t, err)
	_, err = e.c.Drive.EnsureDir(t.Context(), 0, "d")
	require.NoError(t, err)
	seen := map[pan123test.Op]bool{}
	for _, r := range e.srv.Requests() {
		switch r.Op {
		case pan123test.OpPut, pan123test.OpV2Slice, pan123test.OpV2Single:
			continue
		}
		seen[r.Op] = true
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"), "%s %s", r.Method, r.Op)
	}
	assert.True(t, seen[pan123test.OpV2Domain] && seen[pan123test.OpFileList], "GETs were checked: %v", seen)
}

// TestEnsureDirCursorCycle: a listing whose cursor comes back to a value
// seen before (5 -> 6 -> 5) ends with ErrProtocol after three pages, not
// after thousands.
func TestEnsureDirCursorCycle(t *testing.T) {
	p := newListPlatform(t, map[string]string{
		"":  `{"lastFileId":5,"fileList":[` + entry(5, "y", 1, 0) + `]}`,
		"5": `{"lastFileId":6,"fileList":[` + entry(6, "z", 1, 0) + `]}`,
		"6": `{"lastFileId":5,"fileList":[` + entry(5, "y", 1, 0) + `]}`,
	})
	_, err := p.client(t).Drive.EnsureDir(t.Context(), 7, "x")
	require.ErrorIs(t, err, pan123.ErrProtocol)
	assert.Len(t, p.queries, 3)
}

// emptyPage is a listing answer without entries, as a lagging listing
// gives right after a mkdir.
const emptyPage = `{"code":0,"message":"ok","data":{"lastFileId":-1,"fileList":[]},"x-traceID":"t"}`

// TestEnsureDirListingLag: mkdir says the folder exists but the listing
// does not show it yet: EnsureDir lists again (with backoff, a bounded
// number of times) instead of failing.
func TestEnsureDirListingLag(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, err := e.c.Drive.EnsureDir(t.Context(), 0, "a")
	require.NoError(t, err)
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpFileList, Body: emptyPage, Times: 2})
	again, err := e.c.Drive.EnsureDir(t.Context(), 0, "a")
	require.NoError(t, err)
	assert.Equal(t, id, again)
	assert.Equal(t, 3, e.srv.Count(pan123test.OpFileList))

	// A listing that never shows it: mkdir's error, after a bounded number of listings.
	e.srv.ResetRequests()
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpFileList, Body: emptyPage, Times: -1})
	_, err = e.c.Drive.EnsureDir(t.Context(), 0, "a")
	var ae *pan123.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "/upload/v1/file/mkdir", ae.Path)
	assert.Equal(t, 4, e.srv.Count(pan123test.OpFileList))
}

func TestListImages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := e.srv.SeedImage(pan123test.File{Name: "album", Dir: true})
	var want []string
	for i := range 130 {
		f := e.srv.SeedImage(pan123test.File{ParentImageID: dir.ImageID, Name: fmt.Sprintf("p%03d.png", i), Data: []byte{byte(i)}})
		want = append(want, f.ImageID)
	}
	e.srv.SeedImage(pan123test.File{Name: "elsewhere.png", Data: []byte("x")})

	var got []pan123.ImageInfo
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 3, "the listing does not end") // a bound, so that a cursor not sent fails instead of looping
		page, err := e.c.Image.List(t.Context(), dir.ImageID, cursor, pan123.MaxListLimit)
		require.NoError(t, err)
		got = append(got, page.Files...)
		if page.LastFileID == "-1" {
			break
		}
		cursor = page.LastFileID
	}
	require.Len(t, got, len(want))
	for i, f := range got {
		assert.Equal(t, want[i], f.FileID)
	}
	assert.Equal(t, pan123.ImageInfo{FileID: want[0], Filename: "p000.png", Size: 1, Etag: md5hex([]byte{0})}, got[0])

	root, err := e.c.Image.List(t.Context(), "", "", 10)
	require.NoError(t, err)
	require.Len(t, root.Files, 2)
	assert.True(t, root.Files[0].Dir)
	assert.Equal(t, "-1", root.LastFileID)

	n := len(e.srv.Requests())
	_, err = e.c.Image.List(t.Context(), "", "-1", 10)
	require.ErrorIs(t, err, pan123.ErrInvalidInput)
	_, err = e.c.Image.List(t.Context(), "", "", 101)
	require.ErrorIs(t, err, pan123.ErrInvalidInput)
	assert.Len(t, e.srv.Requests(), n, "bad input sends nothing")
}

func TestEnsureImageDir(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	id, err := e.c.Image.EnsureDir(ctx, "", "/a/b/")
	require.NoError(t, err)
	b, ok := e.srv.Image(id)
	require.True(t, ok)
	assert.Equal(t, "b", b.Name)
	a, ok := e.srv.Image(b.ParentImageID)
	require.True(t, ok)
	assert.Equal(t, "a", a.Name)
	assert.Empty(t, a.ParentImageID)
	assert.Zero(t, e.srv.Count(pan123test.OpOSSFileList), "nothing existed: no listing")

	// Again: each mkdir answers code 1 and each folder is found by listing.
	e.srv.ResetRequests()
	again, err := e.c.Image.EnsureDir(ctx, "", "a/b")
	require.NoError(t, err)
	assert.Equal(t, id, again)
	assert.Equal(t, 2, e.srv.Count(pan123test.OpOSSMkdir))
	assert.Equal(t, 2, e.srv.Count(pan123test.OpOSSFileList))

	// Found past the first page; a file holding the name is not a folder.
	for i := range 120 {
		e.srv.SeedImage(pan123test.File{ParentImageID: id, Name: fmt.Sprintf("%03d.png", i), Data: []byte{byte(i), 1}})
	}
	late := e.srv.SeedImage(pan123test.File{ParentImageID: id, Name: "late", Dir: true})
	got, err := e.c.Image.EnsureDir(ctx, id, "late")
	require.NoError(t, err)
	assert.Equal(t, late.ImageID, got)
	_, err = e.c.Image.EnsureDir(ctx, id, "007.png/x")
	assert.Contains(t, err.Error(), "a file holds the name")

	// The listing lags the mkdir.
	e.srv.ResetRequests()
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpOSSFileList, Body: `{"code":0,"message":"ok","data":{"lastFileId":"-1","fileList":[]},"x-traceID":""}`, Times: 2})
	again, err = e.c.Image.EnsureDir(ctx, "", "a")
	require.NoError(t, err)
	assert.Equal(t, b.ParentImageID, again)
	assert.Equal(t, 3, e.srv.Count(pan123test.OpOSSFileList))

	// A cursor that cycles (p1 -> p2 -> p1) ends the listing.
	e.srv.ResetRequests()
	for range 5 {
		for _, next := range []string{"p1", "p2"} {
			e.srv.Inject(pan123test.Fault{Op: pan123test.OpOSSFileList, Body: `{"code":0,"message":"ok","data":{"lastFileId":"` + next + `","fileList":[]},"x-traceID":""}`})
		}
	}
	_, err = e.c.Image.EnsureDir(ctx, "", "a")
	require.ErrorIs(t, err, pan123.ErrProtocol)
	assert.Equal(t, 3, e.srv.Count(pan123test.OpOSSFileList))
	e.srv.ClearFaults()

	_, err = e.c.Image.EnsureDir(ctx, "", "a/../b")
	require.ErrorIs(t, err, pan123.ErrInvalidInput)
}
