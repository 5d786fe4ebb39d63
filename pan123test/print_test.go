package pan123test_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/go-pan123/pan123/pan123test"
)

// A stored file prints as its name, size and MD5, never as its bytes: a
// failing test's t.Fatalf("stored %+v", files) stays one short line.
func TestFilePrintsWithoutBytes(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	data := bytes.Repeat([]byte("x"), 3<<20)
	f := s.SeedFile(pan123test.File{Name: "db.dump", Data: data})
	for _, verb := range []string{"%v", "%+v", "%s"} {
		got := fmt.Sprintf(verb, s.Files())
		if len(got) > 200 || strings.Contains(got, "xxxx") {
			t.Fatalf("%s of the file list is %d bytes: %.200s", verb, len(got), got)
		}
		for _, want := range []string{"db.dump", "3145728", f.MD5} {
			if !strings.Contains(got, want) {
				t.Errorf("%s = %q: missing %q", verb, got, want)
			}
		}
	}
	if got := fmt.Sprintf("%#v", f); len(got) > 400 {
		t.Errorf("%%#v is %d bytes", len(got))
	}
}
