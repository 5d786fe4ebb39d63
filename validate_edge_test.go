package pan123

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestValidateNameSpacesAndControls: a space (0x20) inside a name is a plain
// character; the control characters below it and DEL (0x7f) are refused.
func TestValidateNameSpacesAndControls(t *testing.T) {
	for _, ok := range []string{"a b.txt", "my file (1).mp4", "~ !@#.txt", "\u00a0x"} {
		assert.NoError(t, validateName(ok), "%q", ok)
	}
	for _, bad := range []string{"a\x1fb", "a\tb", "a\x00", "a\x7fb"} {
		assert.ErrorIs(t, validateName(bad), ErrInvalidInput, "%q", bad)
	}
}
