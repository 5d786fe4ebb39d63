// Command upload puts files into a 123pan drive or image bed, with a
// progress bar for the hashing and uploading phases.
//
//	upload [flags] FILE...
//
// Credentials come from the environment: PAN123_CLIENT_ID and
// PAN123_CLIENT_SECRET, or PAN123_ACCESS_TOKEN. Without any, upload starts
// pan123test (an in-process fake of the open platform), uploads there, and
// says so on stderr; with no FILE either, it uploads a generated demo file:
//
//	go run ./examples/upload                       # demo against the fake
//	PAN123_CLIENT_ID=… PAN123_CLIENT_SECRET=… go run ./examples/upload -parent 12345 backup.tar
//
// Exit status: 0 when every file was uploaded, 1 when an upload failed or
// was canceled (Ctrl-C), 2 for bad usage.
package main

import (
	"context"
	crand "crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first Ctrl-C the upload winds down cleanly; restoring the
		// default handling lets a second Ctrl-C end the process at once.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// Defaults of the flags that are not the SDK's own.
const (
	defaultDemoSize      = 200 << 20 // bytes
	defaultFakeBandwidth = 32 << 20  // bytes per second per connection
)

// config is the parsed command line.
type config struct {
	parent      string
	name        string
	image       bool
	duplicate   pan123.Duplicate
	concurrency int
	baseURL     string
	demoSize    int64
	fakeBW      int64
	limit       int64 // -limit: bytes per second for all uploads; 0 = none
	progress    string
	verbose     bool
	protocol    pan123.Protocol
	resume      bool
	recursive   bool // -r: a FILE that is a folder is uploaded as a tree
	cpDir       string
	files       []string
}

// errUsage marks a usage problem: exit 2.
var errUsage = errors.New("usage")

// errFlagParse is a usage problem the flag package has printed already.
var errFlagParse = fmt.Errorf("%w: bad flags", errUsage)

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// run is the whole command; main only wires the process to it.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if errors.Is(err, errFlagParse) {
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "upload: %v\nRun 'upload -h' for usage.\n", strings.TrimPrefix(err.Error(), "usage: "))
		return exitUsage
	}
	cred, err := credentials(env)
	if err == nil && cred.none() && cfg.baseURL != "" {
		err = usageErr("-base-url needs credentials (PAN123_CLIENT_ID and PAN123_CLIENT_SECRET, or PAN123_ACCESS_TOKEN)")
	}
	if err == nil && !cred.none() && len(cfg.files) == 0 {
		err = usageErr("no FILE given (the demo upload only runs against the built-in fake, without credentials)")
	}
	if err != nil {
		fmt.Fprintf(stderr, "upload: %v\nRun 'upload -h' for usage.\n", strings.TrimPrefix(err.Error(), "usage: "))
		return exitUsage
	}

	baseURL := cfg.baseURL
	if baseURL == "" {
		baseURL = pan123.DefaultBaseURL
	}
	if cred.none() {
		srv := pan123test.NewServer(
			pan123test.WithStore(pan123test.StoreHashes), // the fake keeps slice hashes, not 200 MiB of bytes
			pan123test.WithBandwidth(cfg.fakeBW),
		)
		defer srv.Close()
		cred = credential{id: srv.ClientID, secret: srv.ClientSecret}
		baseURL = srv.URL
		throttle := "not throttled"
		if cfg.fakeBW > 0 {
			throttle = "throttled to " + formatSize(cfg.fakeBW) + "/s per connection"
		}
		fmt.Fprintln(stderr, "upload: no credentials found (PAN123_CLIENT_ID and PAN123_CLIENT_SECRET, or PAN123_ACCESS_TOKEN)")
		fmt.Fprintf(stderr, "upload: running against the built-in fake platform (pan123test, in-process, %s); nothing leaves this machine\n", throttle)
	}

	var copts []pan123.Option
	copts = append(copts, pan123.WithBaseURL(baseURL), pan123.WithBandwidthLimit(cfg.limit))
	if cfg.verbose {
		copts = append(copts, pan123.WithLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	if cred.token != "" {
		copts = append(copts, pan123.WithAccessToken(cred.token))
	}
	client, err := pan123.New(cred.id, cred.secret, copts...)
	if err != nil {
		fmt.Fprintf(stderr, "upload: %v\n", oneLine(err))
		return exitUsage
	}
	uopts := []pan123.UploadOption{pan123.WithConcurrency(cfg.concurrency), pan123.WithTempDir(env("TMPDIR")), pan123.WithProtocol(cfg.protocol)}
	if cfg.resume {
		dir := cfg.cpDir
		if dir == "" {
			cache, err := os.UserCacheDir()
			if err != nil {
				fmt.Fprintf(stderr, "upload: -resume: no user cache dir (%v); give -checkpoint-dir\n", err)
				return exitUsage
			}
			dir = filepath.Join(cache, "pan123", "checkpoints")
		}
		uopts = append(uopts, pan123.WithCheckpointDir(dir))
	}
	up := pan123.NewUploader(client, uopts...)

	files := cfg.files
	if len(files) == 0 {
		dir, err := os.MkdirTemp(env("TMPDIR"), "pan123-demo-")
		if err != nil {
			fmt.Fprintf(stderr, "upload: demo file: %v\n", err)
			return exitFailed
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "pan123-demo.bin")
		fmt.Fprintf(stderr, "upload: no FILE given: uploading a generated %s demo file (-demo-size to change it)\n", formatSize(cfg.demoSize))
		if err := writeDemoFile(ctx, path, cfg.demoSize); err != nil {
			if ctx.Err() != nil {
				fmt.Fprintln(stderr, "upload: canceled")
			} else {
				fmt.Fprintf(stderr, "upload: demo file: %v\n", err)
			}
			return exitFailed
		}
		files = []string{path}
	}

	// Progress goes to stderr and results to stdout, so that
	// `upload *.tar > uploaded.txt` keeps only the results.
	view := newView(cfg.progress, stderr)
	code := exitOK
	for _, path := range files {
		var err error
		if st, serr := os.Stat(path); serr == nil && st.IsDir() && cfg.recursive {
			err = uploadTree(ctx, client, up, cfg, path, stdout, stderr)
			if errors.Is(err, errTreeFailed) {
				code = exitFailed
				continue
			}
		} else {
			err = uploadOne(ctx, up, cfg, path, view, stdout)
		}
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprintf(stderr, "upload: canceled: %s was not uploaded\n", path)
				return exitFailed
			}
			fmt.Fprintf(stderr, "upload: %s\n", describe(path, err))
			code = exitFailed
		}
	}
	return code
}

// parseArgs reads the flags; every error wraps errUsage (or is flag.ErrHelp).
func parseArgs(args []string, stderr io.Writer) (config, error) {
	cfg := config{demoSize: defaultDemoSize, fakeBW: defaultFakeBandwidth}
	fset := flag.NewFlagSet("upload", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprint(fset.Output(), `Usage: upload [flags] FILE...

Uploads each FILE to a 123pan drive (or image bed with -image), showing progress.
Credentials: PAN123_CLIENT_ID and PAN123_CLIENT_SECRET, or PAN123_ACCESS_TOKEN.
Without them it runs against pan123test, an in-process fake platform; with no
FILE either, it uploads a generated demo file.

Flags:
`)
		fset.PrintDefaults()
	}
	fset.StringVar(&cfg.parent, "parent", "", "parent folder ID: a number for the drive (default root), an image-bed folder ID with -image")
	fset.StringVar(&cfg.name, "name", "", "remote name (default: the file's base name; only with one FILE)")
	fset.BoolVar(&cfg.image, "image", false, "upload to the image bed (图床) instead of the drive")
	dup := fset.String("duplicate", "keep", "when the name exists in the folder: keep (both; the new one is renamed), overwrite, or none (the platform refuses)")
	fset.IntVar(&cfg.concurrency, "concurrency", pan123.DefaultConcurrency, fmt.Sprintf("slices in flight per file (1-%d)", pan123.MaxConcurrency))
	fset.StringVar(&cfg.baseURL, "base-url", "", "API base URL (default "+pan123.DefaultBaseURL+"; needs credentials)")
	demo := fset.String("demo-size", formatFlagSize(defaultDemoSize), "size of the generated demo file (no FILE, no credentials), e.g. 64MiB")
	limit := fset.String("limit", "0", "cap on the upload rate, per second (e.g. 10MiB; KiB, MiB, GiB suffixes or plain bytes); 0 = none")
	bw := fset.String("fake-bandwidth", formatFlagSize(defaultFakeBandwidth), "per-connection rate of the built-in fake platform, per second; 0 = unlimited")
	fset.StringVar(&cfg.progress, "progress", "auto", "progress display: auto (a bar on a terminal, plain lines otherwise), bar, plain, or none")
	fset.BoolVar(&cfg.verbose, "v", false, "log the SDK's requests to stderr")
	proto := fset.String("protocol", "v1", "drive upload protocol: v1 (presigned PUTs), v2 (multipart slices) or auto (single request for small files, v2 otherwise)")
	fset.BoolVar(&cfg.recursive, "r", false, "upload a FILE that is a folder as a tree: its folders are created, files already there are skipped")
	fset.BoolVar(&cfg.resume, "resume", false, "keep a checkpoint so that an interrupted upload continues where it stopped when run again (see -checkpoint-dir)")
	fset.StringVar(&cfg.cpDir, "checkpoint-dir", "", "where -resume keeps its records (default: pan123/checkpoints in the user cache dir)")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, errFlagParse // flag has printed the problem and the usage
	}
	cfg.files = fset.Args()
	set := map[string]bool{}
	fset.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var err error
	switch *dup {
	case "keep":
		cfg.duplicate = pan123.KeepBoth
	case "overwrite":
		cfg.duplicate = pan123.Overwrite
	case "none":
		cfg.duplicate = pan123.DuplicateUnset
	default:
		return cfg, usageErr("-duplicate %q: want keep, overwrite or none", *dup)
	}
	switch *proto {
	case "v1":
		cfg.protocol = pan123.V1
	case "v2":
		cfg.protocol = pan123.V2
	case "auto":
		cfg.protocol = pan123.Auto
	default:
		return cfg, usageErr("-protocol %q: want v1, v2 or auto", *proto)
	}
	switch {
	case cfg.image && set["protocol"]:
		return cfg, usageErr("-protocol does not apply to the image bed (it only has v1)")
	case set["checkpoint-dir"] && !cfg.resume:
		return cfg, usageErr("-checkpoint-dir needs -resume")
	case cfg.recursive && (cfg.image || cfg.name != ""):
		return cfg, usageErr("-r uploads into the drive under the folders' own names: not with -image or -name")
	case cfg.name != "" && len(cfg.files) > 1:
		return cfg, usageErr("-name works with one FILE, got %d", len(cfg.files))
	case cfg.image && set["duplicate"]:
		return cfg, usageErr("-duplicate does not apply to the image bed")
	case cfg.concurrency < 1 || cfg.concurrency > pan123.MaxConcurrency:
		return cfg, usageErr("-concurrency %d: want 1 to %d", cfg.concurrency, pan123.MaxConcurrency)
	case cfg.progress != "auto" && cfg.progress != "bar" && cfg.progress != "plain" && cfg.progress != "none":
		return cfg, usageErr("-progress %q: want auto, bar, plain or none", cfg.progress)
	}
	if !cfg.image && cfg.parent != "" {
		if id, perr := strconv.ParseInt(cfg.parent, 10, 64); perr != nil || id < 0 {
			return cfg, usageErr("-parent %q: a drive folder ID is a non-negative number", cfg.parent)
		}
	}
	if cfg.demoSize, err = parseSize(*demo); err != nil || cfg.demoSize <= 0 || cfg.demoSize > pan123.MaxFileSize {
		return cfg, usageErr("-demo-size %q: want a size from 1 byte to 10GiB, like 200MiB", *demo)
	}
	if cfg.limit, err = parseSize(*limit); err != nil {
		return cfg, usageErr("-limit %q: want a size per second, like 10MiB, or 0", *limit)
	}
	if cfg.fakeBW, err = parseSize(*bw); err != nil || cfg.fakeBW < 0 {
		return cfg, usageErr("-fake-bandwidth %q: want a size per second, like 32MiB, or 0", *bw)
	}
	return cfg, nil
}

// credential is what the environment gave.
type credential struct{ id, secret, token string }

func (c credential) none() bool { return c.id == "" && c.secret == "" && c.token == "" }

func credentials(env func(string) string) (credential, error) {
	c := credential{id: env("PAN123_CLIENT_ID"), secret: env("PAN123_CLIENT_SECRET"), token: env("PAN123_ACCESS_TOKEN")}
	if (c.id == "") != (c.secret == "") {
		return c, usageErr("set both PAN123_CLIENT_ID and PAN123_CLIENT_SECRET, or neither")
	}
	return c, nil
}

// uploadOne uploads one file and prints its final line.
func uploadOne(ctx context.Context, up *pan123.Uploader, cfg config, path string, view progressView, stdout io.Writer) error {
	// Check the path first: the SDK's own message for a missing file is
	// correct but wordier than a command line needs.
	st, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	if st.IsDir() {
		return errors.New("is a directory (-r uploads a folder tree)")
	}
	name := cfg.name
	if name == "" {
		name = filepath.Base(path)
	}
	progress := pan123.WithProgress(view.update)
	start := time.Now()
	if cfg.image {
		res, err := up.UploadImageFile(ctx, path, pan123.ImageInput{ParentID: cfg.parent, Name: name}, progress)
		view.end()
		if err != nil {
			return err
		}
		how := "image ID " + res.FileID
		if res.Reused {
			how = "instant upload, image ID " + res.FileID
		}
		fmt.Fprintf(stdout, "uploaded %s to the image bed: %s (%s, md5 %s, %s)\n", res.Name, how, formatSize(res.Size), res.MD5, since(start))
		return nil
	}
	parent, _ := strconv.ParseInt(cfg.parent, 10, 64) // checked by parseArgs; "" is 0, the root
	res, err := up.UploadFile(ctx, path, pan123.FileInput{ParentFileID: parent, Name: name, Duplicate: cfg.duplicate}, progress)
	view.end()
	if err != nil {
		return err
	}
	how := "file ID " + strconv.FormatInt(res.FileID, 10)
	if res.Reused {
		how = "instant upload, " + how
	}
	fmt.Fprintf(stdout, "uploaded %s: %s (%s, md5 %s, %s)\n", res.Name, how, formatSize(res.Size), res.MD5, since(start))
	return nil
}

func since(t time.Time) string { return time.Since(t).Round(time.Millisecond).String() }

// describe renders the failed upload of path as one line: the path once
// (and the remote name if it differs), the cause, an English hint for a
// platform answer the SDK knows, and the platform's trace ID when there is
// one (123pan support asks for it).
func describe(path string, err error) string {
	msg := oneLine(err)
	var ue *pan123.UploadError
	if errors.As(err, &ue) {
		// The SDK's error names the remote file; the line names the path.
		rest, ok := strings.CutPrefix(msg, "pan123: upload "+ue.FileName)
		if ok {
			msg = strings.TrimPrefix(rest, ": ")
			if ue.FileName != filepath.Base(path) {
				path += " (as " + ue.FileName + ")"
			}
		}
	}
	var ae *pan123.APIError
	if errors.As(err, &ae) {
		if h := ae.Hint(); h != "" {
			msg += " [" + h + "]"
		}
		if ae.TraceID != "" && !strings.Contains(msg, ae.TraceID) {
			msg += " (trace ID " + ae.TraceID + ")"
		}
	}
	return path + ": " + msg
}

// oneLine joins a multi-line error (errors.Join) into one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

// writeDemoFile writes size pseudo-random bytes to path; random content
// means the platform cannot answer with an instant upload.
func writeDemoFile(ctx context.Context, path string, size int64) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	var seed [32]byte
	_, _ = crand.Read(seed[:])
	src := rand.NewChaCha8(seed)
	buf := make([]byte, 4<<20)
	for left := size; left > 0; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(int64(len(buf)), left)
		_, _ = src.Read(buf[:n]) // never fails
		if _, err := f.Write(buf[:n]); err != nil {
			return err
		}
		left -= n
	}
	return nil
}

// Sizes: parseSize reads "200MiB", "64M", "1GiB", "1048576"; binary units.
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10},
	{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1},
}

func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if len(s) > len(u.suffix) && strings.EqualFold(s[len(s)-len(u.suffix):], u.suffix) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(f * float64(mult)), nil
}

// formatSize renders bytes for people: "200.0 MiB".
func formatSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// formatFlagSize renders a flag default: "200MiB".
func formatFlagSize(n int64) string {
	switch {
	case n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return strconv.FormatInt(n, 10)
}
