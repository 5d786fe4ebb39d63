package pan123_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
)

// TestEnsureDirZeroCursorIsProtocolError: a listing that answers
// lastFileId 0 (neither a file ID nor -1, the last page) is refused at
// once, not followed: as a cursor, 0 would ask for the first page again.
func TestEnsureDirZeroCursorIsProtocolError(t *testing.T) {
	t.Parallel()
	p := newListPlatform(t, map[string]string{
		"": `{"lastFileId":0,"fileList":[` + entry(5, "y", 1, 0) + `]}`,
	})
	_, err := p.client(t).Drive.EnsureDir(t.Context(), 7, "x")
	require.ErrorIs(t, err, pan123.ErrProtocol)
	assert.Contains(t, err.Error(), "answered lastFileId 0")
	assert.Len(t, p.queries, 1, "list requests")
}
