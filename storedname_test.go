package pan123_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// Under KeepBoth the platform stores a taken name with a suffix;
// WithStoredName(true) reports that name, for one listing call.
func TestStoredNameUnderKeepBoth(t *testing.T) {
	t.Parallel()
	for _, p := range driveProtocols {
		t.Run(protocolName(p), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.srv.SeedFile(pan123test.File{Name: "backup.tar", Data: []byte("an older backup")})
			path, _ := writeRandom(t, t.TempDir(), 3*testSlice+1, 71)
			up := e.uploader(pan123.WithProtocol(p))
			keep := pan123.FileInput{Name: "backup.tar", Duplicate: pan123.KeepBoth}

			res, err := up.UploadFile(t.Context(), path, keep, pan123.WithStoredName(true))
			require.NoError(t, err)
			assert.Equal(t, "backup(1).tar", res.Name)
			assert.Equal(t, 1, e.srv.Count(pan123test.OpFileList), "one listing call")
			f, _ := e.srv.File(res.FileID)
			assert.Equal(t, "backup(1).tar", f.Name)

			// The same content again (an instant upload, except single-step)
			// gets the next suffix.
			res, err = up.UploadFile(t.Context(), path, keep, pan123.WithStoredName(true))
			require.NoError(t, err)
			assert.Equal(t, "backup(2).tar", res.Name)

			// Without the option: the name asked for, no listing.
			e.srv.ResetRequests()
			res, err = up.UploadFile(t.Context(), path, keep)
			require.NoError(t, err)
			assert.Equal(t, "backup.tar", res.Name)
			assert.Zero(t, e.srv.Count(pan123test.OpFileList))

			// Overwrite keeps the name: no listing needed.
			res, err = up.UploadFile(t.Context(), path, pan123.FileInput{Name: "backup.tar", Duplicate: pan123.Overwrite}, pan123.WithStoredName(true))
			require.NoError(t, err)
			assert.Equal(t, "backup.tar", res.Name)
			assert.Zero(t, e.srv.Count(pan123test.OpFileList))
		})
	}
}

// A failed listing does not fail the upload: Name stays the name asked for.
func TestStoredNameListingFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpFileList, Code: 5066, Times: -1})
	res, err := e.uploader().Upload(t.Context(), strings.NewReader("x"), pan123.FileInput{Name: "a.txt", Duplicate: pan123.KeepBoth}, pan123.WithStoredName(true))
	require.NoError(t, err)
	assert.Equal(t, "a.txt", res.Name)
}
