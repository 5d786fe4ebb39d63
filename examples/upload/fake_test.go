package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-pan123/pan123"
)

// fakeProc is pan123fake (pan123test/cmd/pan123fake) running in a process
// of its own.
type fakeProc struct {
	cmd          *exec.Cmd
	url, id, sec string
	stderr       syncBuffer
}

// buildFake builds pan123fake, with -race when this test runs under it so
// that the packages come from the cache.
func buildFake(t *testing.T) string {
	t.Helper()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	bin := filepath.Join(t.TempDir(), "pan123fake")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.Command(gocmd, append(args, "github.com/go-pan123/pan123/pan123test/cmd/pan123fake")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build pan123fake: %v\n%s", err, out)
	}
	return bin
}

// startFake runs the fake on a free port and reads the lines it prints.
func startFake(t *testing.T, bin string, args ...string) *fakeProc {
	t.Helper()
	f := &fakeProc{cmd: exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)}
	// Built with -race, the fake would sleep a second at each exit.
	f.cmd.Env = append(os.Environ(), "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	f.cmd.Stderr = &f.stderr
	out, err := f.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.cmd.Process.Kill(); _ = f.cmd.Wait() })
	sc := bufio.NewScanner(out)
	for f.sec == "" && sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "PAN123_BASE_URL":
			f.url = v
		case "PAN123_CLIENT_ID":
			f.id = v
		case "PAN123_CLIENT_SECRET":
			f.sec = v
		}
	}
	if f.url == "" || f.id == "" || f.sec == "" {
		t.Fatalf("pan123fake printed no URL and credentials; stderr:\n%s", f.stderr.String())
	}
	return f
}

// stop ends the fake as Ctrl-C would; it saves its state and exits 0.
func (f *fakeProc) stop(t *testing.T) {
	t.Helper()
	if err := f.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := f.cmd.Wait(); err != nil {
		t.Fatalf("pan123fake: %v; stderr:\n%s", err, f.stderr.String())
	}
}

func (f *fakeProc) env(tmp string) map[string]string {
	return map[string]string{"PAN123_CLIENT_ID": f.id, "PAN123_CLIENT_SECRET": f.sec, "TMPDIR": tmp}
}

// TestRunResumeAcrossFakeRestart is the README's resume demo against the
// standalone fake: an upload interrupted halfway, the fake restarted with
// the same -state directory, and the CLI's -resume continuing the same
// session. A third start of the fake still lists the file.
func TestRunResumeAcrossFakeRestart(t *testing.T) {
	t.Parallel()
	bin := buildFake(t)
	state, cpDir, tmp := t.TempDir(), t.TempDir(), t.TempDir()
	fakeArgs := []string{"-state", state, "-slice-size", "1048576", "-bandwidth", "8388608"}
	path, data, sum := writeFile(t, t.TempDir(), "resume.bin", 8<<20)

	fake := startFake(t, bin, fakeArgs...)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stderr := &syncBuffer{onWrite: func(s string) {
		if strings.Contains(s, "uploading") && (strings.Contains(s, " 50%") || strings.Contains(s, " 60%")) {
			cancel()
		}
	}}
	args := []string{"-resume", "-checkpoint-dir", cpDir, "-concurrency", "2", "-progress", "plain", path}
	if r := runCLI(ctx, fake.env(tmp), stderr, append([]string{"-base-url", fake.url}, args...)...); r.code != 1 {
		t.Fatalf("first run: exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	fake.stop(t)

	fake = startFake(t, bin, fakeArgs...) // a new port, the same state
	r := runCLI(t.Context(), fake.env(tmp), nil, append([]string{"-base-url", fake.url}, args...)...)
	if r.code != 0 {
		t.Fatalf("second run: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "resume.bin: resuming: ") {
		t.Errorf("the second run did not resume:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "uploaded resume.bin: file ID ") || !strings.Contains(r.stdout, sum) {
		t.Errorf("stdout: %s", r.stdout)
	}
	fake.stop(t)

	fake = startFake(t, bin, fakeArgs...)
	c, err := pan123.New(fake.id, fake.sec, pan123.WithBaseURL(fake.url))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	ctx2, cancel2 := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel2()
	list, err := c.Drive.List(ctx2, 0, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range list.Files {
		found = found || (f.Filename == "resume.bin" && f.Size == int64(len(data)) && f.Etag == sum)
	}
	if !found {
		t.Errorf("after a restart the fake lists %+v, without resume.bin", list.Files)
	}
	fake.stop(t)
	if blobs, _ := os.ReadDir(filepath.Join(state, "blobs")); len(blobs) != 1 {
		t.Errorf("state keeps %d blobs, want the one file", len(blobs))
	}
}
