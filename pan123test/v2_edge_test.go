package pan123test_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

// A single-step upload stores its SHA1 and its one slice MD5 in
// StoreBytes mode, and neither in StoreNothing mode.
func TestSingleStoresItsHashes(t *testing.T) {
	t.Parallel()
	data := payload(3000, 21)
	for _, mode := range []pan123test.StoreMode{pan123test.StoreBytes, pan123test.StoreHashes, pan123test.StoreNothing} {
		s := newServer(t, pan123test.WithStore(mode))
		c := newClient(t, s)
		fields := []part{{"parentFileID", "0"}, {"filename", "s.bin"}, {"etag", md5hex(data)}, {"size", strconv.Itoa(len(data))}}
		e := c.envelope(c.multipartRequest(s.UploadServers()[0]+string(pan123test.OpV2Single), fields, "file", data))
		require.Zero(t, e.Code, e.Message)
		var got struct{ FileID int64 }
		require.NoError(t, json.Unmarshal(e.Data, &got))
		f, ok := s.File(got.FileID)
		require.True(t, ok)
		wantSHA1, wantSlices := sha1hex(data), []string{md5hex(data)}
		if mode != pan123test.StoreBytes {
			wantSHA1 = ""
		}
		if mode == pan123test.StoreNothing {
			wantSlices = nil
		}
		assert.Equal(t, wantSHA1, f.SHA1, "mode %d", mode)
		assert.Equal(t, wantSlices, f.SliceMD5s, "mode %d", mode)
	}
}

// A seeded file with bytes gets its SHA1, so sha1_reuse finds it.
func TestSeededFileCanBeReusedBySHA1(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	data := payload(500, 22)
	seeded := s.SeedFile(pan123test.File{Name: "seeded", Data: data})
	assert.Equal(t, sha1hex(data), seeded.SHA1)
	var r struct {
		FileID int64
		Reuse  bool
	}
	c.data(pan123test.OpV2SHA1Reuse, map[string]any{"parentFileID": 0, "filename": "copy", "sha1": sha1hex(data), "size": len(data)}, &r)
	assert.True(t, r.Reuse)
}

// A V2 slice's sliceMD5 must be 32 characters; a form field may be up to
// 4096 bytes long.
func TestV2SliceFormFields(t *testing.T) {
	t.Parallel()
	s := newServer(t, pan123test.WithSliceSize(64<<10))
	c := newClient(t, s)
	data := payload(100<<10, 23)
	var cr createData
	c.data(pan123test.OpV2Create, families[0].createBody("v", data), &cr)
	b := sliceOf(data, 64<<10, 1)
	post := func(id, sum string) env {
		return c.envelope(c.multipartRequest(cr.Servers[0]+string(pan123test.OpV2Slice), []part{
			{"preuploadID", id}, {"sliceNo", "1"}, {"sliceMD5", sum},
		}, "slice", b))
	}
	e := post(cr.PreuploadID, "abc")
	assert.Equal(t, pan123test.CodeBadRequest, e.Code)
	assert.Contains(t, e.Message, `sliceMD5 must be 32 hex digits, got "abc"`)

	e = post(strings.Repeat("x", 4096), md5hex(b)) // long, but not too long: no such session
	assert.Equal(t, pan123test.CodeInternal, e.Code, e.Message)
	e = post(strings.Repeat("x", 4097), md5hex(b))
	assert.Equal(t, pan123test.CodeBadRequest, e.Code)
	assert.Contains(t, e.Message, `form field "preuploadID" too long`)
}

// containDir of a single-step upload is exactly "true" or "false".
func TestSingleContainDirIsTrueOrFalse(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	data := payload(100, 24)
	single := s.UploadServers()[0] + string(pan123test.OpV2Single)
	for i, tc := range []struct {
		value string
		code  int
	}{{"false", 0}, {"true", 0}, {"1", pan123test.CodeBadRequest}, {"False", pan123test.CodeBadRequest}} {
		name := "f" + strconv.Itoa(i) + ".bin"
		fields := []part{{"parentFileID", "0"}, {"filename", name}, {"etag", md5hex(data)}, {"size", strconv.Itoa(len(data))}, {"containDir", tc.value}}
		e := c.envelope(c.multipartRequest(single, fields, "file", data))
		assert.Equal(t, tc.code, e.Code, "containDir=%s: %s", tc.value, e.Message)
	}
}
