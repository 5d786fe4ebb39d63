package pan123_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

// Image-bed mkdir takes the dirID of the entry named like the folder; a
// lone entry is taken whatever its name says.
func TestImageMkdirPicksTheFolderEntry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	answer := func(list string) {
		e.srv.Inject(pan123test.Fault{Op: pan123test.OpOSSMkdir, Body: `{"code":0,"message":"ok","data":{"list":` + list + `},"x-traceID":"t"}`})
	}
	answer(`[{"filename":"other","dirID":"A"},{"filename":"pics","dirID":"B"}]`)
	id, err := e.c.Image.Mkdir(t.Context(), "", "pics")
	require.NoError(t, err)
	assert.Equal(t, "B", id)

	answer(`[{"filename":"PICS","dirID":"C"}]`)
	id, err = e.c.Image.Mkdir(t.Context(), "", "pics")
	require.NoError(t, err)
	assert.Equal(t, "C", id)
}
