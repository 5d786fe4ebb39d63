package pan123

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestEnumStrings: every named value of the SDK's enums has a name of its
// own, and an unknown value says its type and number.
func TestEnumStrings(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{V1.String(), "v1"}, {V2.String(), "v2"}, {Auto.String(), "auto"}, {Protocol(9).String(), "Protocol(9)"},
		{DuplicateUnset.String(), "unset"}, {KeepBoth.String(), "keep-both"}, {Overwrite.String(), "overwrite"},
		{Duplicate(7).String(), "Duplicate(7)"},
		{ExistingSkip.String(), "skip"}, {ExistingOverwrite.String(), "overwrite"}, {ExistingKeepBoth.String(), "keep-both"},
		{ExistingPolicy(5).String(), "ExistingPolicy(5)"}, {Event(0).String(), "Event(0)"},
	} {
		assert.Equal(t, c.want, c.got)
	}
	seen := map[string]bool{}
	for e := EventBytes; e <= EventRestart; e++ {
		s := e.String()
		assert.NotContains(t, s, "Event(", "event %d has no name", int(e))
		assert.False(t, seen[s], "two events named %q", s)
		seen[s] = true
	}
}
