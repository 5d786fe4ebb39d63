package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-pan123/pan123/pan123test"
)

// -r uploads a folder tree into a folder of its name; a second run sends
// nothing.
func TestRunRecursive(t *testing.T) {
	t.Parallel()
	srv, env := newServer(t)
	root := filepath.Join(t.TempDir(), "photos")
	if err := os.MkdirAll(filepath.Join(root, "2026", "march"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "a.jpg", 1000)
	writeFile(t, filepath.Join(root, "2026"), "b.jpg", 2000)
	writeFile(t, filepath.Join(root, "2026", "march"), "c.jpg", 3000)
	args := []string{"-base-url", srv.URL, "-r", root}
	r := runCLI(t.Context(), env, nil, args...)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if want := "3 uploaded"; !strings.Contains(r.stdout, want) {
		t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
	}
	names := map[string]bool{}
	for _, f := range srv.Files() {
		names[f.Name] = true
	}
	for _, want := range []string{"photos", "2026", "march", "a.jpg", "b.jpg", "c.jpg"} {
		if !names[want] {
			t.Errorf("the fake holds no %s: %v", want, names)
		}
	}
	puts := srv.Count(pan123test.OpPut)
	r = runCLI(t.Context(), env, nil, args...)
	if r.code != 0 || !strings.Contains(r.stdout, "3 already there") {
		t.Fatalf("second run: exit %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if n := srv.Count(pan123test.OpPut) - puts; n != 0 {
		t.Errorf("second run sent %d slices", n)
	}
	// Without -r a folder is refused.
	if r := runCLI(t.Context(), env, nil, "-base-url", srv.URL, root); r.code != 1 || !strings.Contains(r.stderr, "-r uploads a folder tree") {
		t.Errorf("a folder without -r: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}
