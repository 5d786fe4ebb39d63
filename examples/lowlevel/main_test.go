package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-pan123/pan123/pan123test"
)

func TestRunDrivesTheProtocol(t *testing.T) {
	t.Parallel()
	srv := pan123test.NewServer(pan123test.WithSliceSize(1<<20), pan123test.WithAsync(2))
	t.Cleanup(srv.Close)
	env := map[string]string{"PAN123_CLIENT_ID": srv.ClientID, "PAN123_CLIENT_SECRET": srv.ClientSecret}
	getenv := func(k string) string { return env[k] }

	data := make([]byte, 2<<20+100) // 3 slices
	_, _ = rand.Read(data)
	path := filepath.Join(t.TempDir(), "ll.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"-base-url", srv.URL, "-poll", "1ms", path}, getenv, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{
		"in 3 slices of 1048576 bytes",
		"slice 3/3: 100 bytes sent",
		"list_upload_parts: 3 parts, every etag matches",
		"upload_complete: async",
		"upload_async_result: not yet",
		"upload_async_result: done",
		"uploaded ll.bin: file ID ",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
	var found bool
	for _, f := range srv.Files() {
		found = found || (f.Name == "ll.bin" && bytes.Equal(f.Data, data))
	}
	if !found {
		t.Errorf("the fake has no ll.bin with the bytes sent: %+v", srv.Files())
	}

	// The same content again: an instant upload.
	stdout.Reset()
	if code := run(t.Context(), []string{"-base-url", srv.URL, "-name", "copy.bin", path}, getenv, &stdout, &stderr); code != 0 {
		t.Fatalf("second run: exit %d, stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "uploaded copy.bin: instant upload, file ID ") {
		t.Errorf("second run's stdout:\n%s", stdout.String())
	}
}

func TestRunBuiltInFake(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	env := map[string]string{"TMPDIR": tmp}
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"-poll", "1ms"}, func(k string) string { return env[k] }, &stdout, &stderr)
	if code != 0 || !strings.Contains(stderr.String(), "built-in fake platform") || !strings.Contains(stdout.String(), "uploaded lowlevel-demo.bin: file ID ") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("left in the temp dir: %v", entries)
	}
}
