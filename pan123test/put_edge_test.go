package pan123test_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

// presign creates a session for data and returns the URL of slice 1.
func presign(c *client, data []byte) (createData, string) {
	var cr createData
	c.data(pan123test.OpCreate, families[0].createBody("f.bin", data), &cr)
	var u urlData
	c.data(pan123test.OpGetUploadURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": 1}, &u)
	return cr, u.PresignedURL
}

// A stored slice is answered with its MD5 as the quoted ETag, like S3; in
// StoreNothing mode nothing is hashed and there is no ETag.
func TestPutAnswersTheSliceETag(t *testing.T) {
	t.Parallel()
	data := payload(1000, 7)
	for _, mode := range []pan123test.StoreMode{pan123test.StoreBytes, pan123test.StoreNothing} {
		s := newServer(t, pan123test.WithStore(mode))
		c := newClient(t, s)
		_, u := presign(c, data)
		req, err := http.NewRequest(http.MethodPut, u, strings.NewReader(string(data)))
		require.NoError(t, err)
		resp, err := c.hc.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		want := `"` + md5hex(data) + `"`
		if mode == pan123test.StoreNothing {
			want = ""
		}
		assert.Equal(t, want, resp.Header.Get("ETag"), "mode %d", mode)
		_, has := resp.Header["Etag"]
		assert.Equal(t, want != "", has, "mode %d: ETag header present", mode)
	}
}

// An empty PUT has a Content-Length (0): it is rejected for its length,
// not as a request without one.
func TestEmptyPutIsTheWrongLength(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	_, u := presign(c, payload(1000, 8))
	status, b := c.put(u, nil, nil)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, string(b), "<Code>InvalidArgument</Code>")
	assert.Contains(t, string(b), "slice 1 must be exactly 1000 bytes, Content-Length is 0")
}

// A file of exactly one slice size lists its part (only smaller files
// list none).
func TestListPartsOfAFileOfExactlyOneSlice(t *testing.T) {
	t.Parallel()
	const size = 64 << 10
	s := newServer(t, pan123test.WithSliceSize(size))
	c := newClient(t, s)
	data := payload(size, 9)
	cr := c.startUpload(families[0], "exact.bin", data)
	var parts struct {
		Parts []struct {
			PartNumber string `json:"partNumber"`
			Size       int64  `json:"size"`
			ETag       string `json:"etag"`
		} `json:"parts"`
	}
	c.data(pan123test.OpListUploadParts, map[string]any{"preuploadID": cr.PreuploadID}, &parts)
	require.Len(t, parts.Parts, 1)
	assert.Equal(t, "1", parts.Parts[0].PartNumber)
	assert.EqualValues(t, size, parts.Parts[0].Size)
	assert.Equal(t, md5hex(data), parts.Parts[0].ETag)
}
