package pan123test_test

import (
	"io"
	"mime/multipart"
	"net/http"
	"runtime"
	"testing"

	"github.com/go-pan123/pan123/pan123test"
)

// zeros is an endless reader of zero bytes that allocates nothing.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestSliceBodiesStream checks that, outside StoreBytes mode, receiving a
// large slice does not buffer it: a slice allocates well under a quarter of
// its size (about 200 KiB for any size). It runs alone (not in parallel), as
// it counts the process's allocations.
func TestSliceBodiesStream(t *testing.T) {
	const size = 8 << 20
	s := newServer(t, pan123test.WithStore(pan123test.StoreHashes), pan123test.WithSliceSize(size))
	c := newClient(t, s)
	body := families[0].createBody("big", make([]byte, 2*size))

	allocated := func(send func()) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		send()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}

	var cr createData
	c.data(pan123test.OpCreate, body, &cr)
	var u urlData
	c.data(pan123test.OpGetUploadURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": 1}, &u)
	n := allocated(func() {
		req, _ := http.NewRequest(http.MethodPut, u.PresignedURL, io.LimitReader(zeros{}, size))
		req.ContentLength = size
		if status, b := c.send(req); status != 200 {
			t.Fatalf("PUT: %d %s", status, b)
		}
	})
	t.Logf("PUT of %d bytes allocated %d bytes", size, n)
	if n > size/4 {
		t.Errorf("PUT of %d bytes allocated %d bytes", size, n)
	}

	c.data(pan123test.OpV2Create, with(body, "filename", "big2"), &cr)
	sum := md5hex(make([]byte, size))
	n = allocated(func() {
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			_ = mw.WriteField("preuploadID", cr.PreuploadID)
			_ = mw.WriteField("sliceNo", "1")
			_ = mw.WriteField("sliceMD5", sum)
			fw, _ := mw.CreateFormFile("slice", "big2.part1")
			_, _ = io.Copy(fw, io.LimitReader(zeros{}, size))
			pw.CloseWithError(mw.Close())
		}()
		req := c.multipartRequest(cr.Servers[0]+string(pan123test.OpV2Slice), nil, "slice", nil)
		req.Body, req.ContentLength = pr, -1
		req.Header.Set("Content-Type", mw.FormDataContentType())
		if e := c.envelope(req); e.Code != 0 {
			t.Fatalf("slice: %+v", e)
		}
	})
	t.Logf("V2 slice of %d bytes allocated %d bytes", size, n)
	if n > size/4 {
		t.Errorf("V2 slice of %d bytes allocated %d bytes", size, n)
	}
	if p := s.Parts(cr.PreuploadID); len(p) != 1 || p[0].Size != size {
		t.Errorf("parts: %+v", p)
	}
}
