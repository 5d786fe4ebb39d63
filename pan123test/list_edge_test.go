package pan123test_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

// The image bed's listing pages one entry at a time (limit 1 is valid),
// and lastFileId may name the very first entry the fake ever stored.
func TestOSSListOneAtATimeFromTheFirstEntry(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	first := s.SeedImage(pan123test.File{Name: "a.png", Data: []byte("a")})
	second := s.SeedImage(pan123test.File{Name: "b.png", Data: []byte("b")})
	type page struct {
		LastFileID string `json:"lastFileId"`
		FileList   []struct {
			FileID string `json:"fileId"`
		} `json:"fileList"`
	}

	var p page
	c.data(pan123test.OpOSSFileList, map[string]any{"limit": 1, "type": 1}, &p)
	require.Len(t, p.FileList, 1)
	assert.Equal(t, first.ImageID, p.FileList[0].FileID)
	require.Equal(t, first.ImageID, p.LastFileID)

	p = page{}
	c.data(pan123test.OpOSSFileList, map[string]any{"limit": 1, "type": 1, "lastFileId": first.ImageID}, &p)
	require.Len(t, p.FileList, 1)
	assert.Equal(t, second.ImageID, p.FileList[0].FileID)
	assert.Equal(t, "-1", p.LastFileID)
}
