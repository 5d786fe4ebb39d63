package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-pan123/pan123/pan123test"
)

func TestRunStreamsATar(t *testing.T) {
	t.Parallel()
	srv := pan123test.NewServer(pan123test.WithSliceSize(1 << 20))
	t.Cleanup(srv.Close)
	tmp := t.TempDir()
	env := map[string]string{"PAN123_CLIENT_ID": srv.ClientID, "PAN123_CLIENT_SECRET": srv.ClientSecret, "TMPDIR": tmp}

	dir := filepath.Join(t.TempDir(), "photos")
	want := map[string][]byte{
		"a.txt":         []byte("hello\n"),
		"sub/b.bin":     bytes.Repeat([]byte{1, 2, 3}, 1<<20), // 3 MiB: several slices
		"sub/deep/c.md": []byte("# c\n"),
	}
	for name, data := range want {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"-base-url", srv.URL, dir}, func(k string) string { return env[k] }, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "uploaded photos.tar: file ID ") {
		t.Errorf("stdout = %q", stdout.String())
	}

	var stored []byte
	for _, f := range srv.Files() {
		if f.Name == "photos.tar" {
			stored = f.Data
		}
	}
	got := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(stored))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("stored photos.tar (%d bytes) is not a tar: %v", len(stored), err)
		}
		if hdr.Typeflag == tar.TypeReg {
			got[hdr.Name], _ = io.ReadAll(tr)
		}
	}
	if len(got) != len(want) {
		t.Errorf("tar holds %d files, want %d", len(got), len(want))
	}
	for name, data := range want {
		if !bytes.Equal(got[name], data) {
			t.Errorf("%s: %d bytes in the tar, want %d", name, len(got[name]), len(data))
		}
	}
	// The spool file is gone.
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("left in the temp dir: %v", entries)
	}
}

func TestRunBuiltInFake(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TMPDIR": t.TempDir()}
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{dir}, func(k string) string { return env[k] }, &stdout, &stderr)
	if code != 0 || !strings.Contains(stderr.String(), "built-in fake platform") || !strings.Contains(stdout.String(), "uploaded ") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
}

func TestRunNotADirectory(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{filepath.Join(t.TempDir(), "missing")}, func(string) string { return "" }, &stdout, &stderr)
	if code != 1 || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
	}
}
