package pan123test_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

// A Drop closes the connection at once: the client sees a reset or EOF,
// not a connection left open until its own deadline.
func TestDropEndsTheConnectionAtOnce(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	s.Inject(pan123test.Fault{Op: pan123test.OpMkdir, Drop: true})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second) // a hang guard, far above a prompt close
	defer cancel()
	resp, err := c.hc.Do(c.apiRequest(pan123test.OpMkdir, map[string]any{"name": "a", "parentID": 0}).WithContext(ctx))
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err)
	require.NoError(t, ctx.Err(), "the dropped call waited for the hang guard: %v", err)
}

// A Drop of a PUT with no Content-Length (chunked) reads 32 KiB before it
// closes the connection.
func TestDropOfAChunkedPutReads32KiB(t *testing.T) {
	t.Parallel()
	s := newServer(t, pan123test.WithSliceSize(64<<10))
	c := newClient(t, s)
	data := payload(100<<10, 3)
	var cr createData
	c.data(pan123test.OpCreate, families[0].createBody("chunked", data), &cr)
	var u urlData
	c.data(pan123test.OpGetUploadURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": 1}, &u)
	s.Inject(pan123test.Fault{Op: pan123test.OpPut, Drop: true})

	// A reader of unknown length: the transport sends it chunked.
	req, err := http.NewRequest(http.MethodPut, u.PresignedURL, io.MultiReader(bytes.NewReader(sliceOf(data, 64<<10, 1))))
	require.NoError(t, err)
	if resp, err := c.hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped PUT answered %d", resp.StatusCode)
	}
	reqs := s.Requests()
	last := reqs[len(reqs)-1]
	require.Equal(t, pan123test.OpPut, last.Op)
	assert.EqualValues(t, 32<<10, last.Bytes)
}

// get_upload_url of the image bed is logged with its slice number, so a
// Fault for one slice hits that slice only.
func TestOSSGetUploadURLFaultBySlice(t *testing.T) {
	t.Parallel()
	s := newServer(t, pan123test.WithImageSliceSize(64<<10))
	c := newClient(t, s)
	f := families[1]
	data := payload(150<<10, 4)
	var cr createData
	c.data(f.create, f.createBody("pic.png", data), &cr)
	s.Inject(pan123test.Fault{Op: f.getURL, SliceNo: 2, Code: 20103})
	c.wantCode(f.getURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": 1}, 0, "ok")
	c.wantCode(f.getURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": 3}, 0, "ok")
	c.wantCode(f.getURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": 2}, 20103, "")

	var got []int
	for _, r := range s.Requests() {
		if r.Op == f.getURL {
			got = append(got, r.SliceNo)
		}
	}
	assert.Equal(t, []int{1, 3, 2}, got)
}
