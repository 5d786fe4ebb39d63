package pan123test_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123/pan123test"
)

// duplicate=1 keeps both entries: the new one gets the smallest free
// "(n)" before the extension; a leading dot is part of the name, not an
// extension.
func TestDuplicateKeepBothNames(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	data := payload(100, 1)
	s.SeedFile(pan123test.File{Name: "a.txt", Data: data})
	s.SeedFile(pan123test.File{Name: "a(1).txt", Data: data})
	s.SeedFile(pan123test.File{Name: ".env", Data: data})
	for name, want := range map[string]string{"a.txt": "a(2).txt", ".env": ".env(1)"} {
		var cr createData // an instant upload: the same bytes are stored
		c.data(pan123test.OpCreate, with(families[0].createBody(name, data), "duplicate", 1), &cr)
		require.True(t, cr.Reuse)
		got, ok := s.File(fileID(t, cr.FileID))
		require.True(t, ok)
		assert.Equal(t, want, got.Name)
	}
}
