// Command stream uploads a directory as one tar archive without writing the
// archive anywhere first: archive/tar writes into an io.Pipe, and
// Uploader.Upload reads the other end. The SDK needs the whole-file MD5
// before it may send a byte, so it spools a stream that cannot seek to a
// temporary file once, hashing it on the way (memory stays small; the file is
// removed when Upload returns).
//
//	stream [-parent ID] [-name NAME] [DIR]
//
// DIR defaults to the current directory. Credentials come from
// PAN123_CLIENT_ID and PAN123_CLIENT_SECRET, or PAN123_ACCESS_TOKEN; without
// them the upload goes to an in-process fake platform (pan123test).
package main

import (
	"archive/tar"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("stream", flag.ContinueOnError)
	fset.SetOutput(stderr)
	parent := fset.Int64("parent", 0, "parent folder ID in the drive (0 = root)")
	name := fset.String("name", "", "remote name (default: the directory's name + .tar)")
	baseURL := fset.String("base-url", "", "API base URL, used with credentials (default "+pan123.DefaultBaseURL+")")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fset.NArg() > 1 {
		fmt.Fprintln(stderr, "stream: give at most one DIR")
		return 2
	}
	dir := "."
	if fset.NArg() == 1 {
		dir = fset.Arg(0)
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		var st os.FileInfo
		if st, err = os.Stat(abs); err == nil && !st.IsDir() {
			err = errors.New("not a directory")
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "stream: %s: %v\n", dir, err)
		return 1
	}
	if *name == "" {
		*name = filepath.Base(abs) + ".tar"
	}

	client, closeFake, err := connect(env, *baseURL, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "stream: %v\n", err)
		return 2
	}
	defer closeFake()
	up := pan123.NewUploader(client)

	// The tar writer runs in its own goroutine and stops when the pipe is
	// closed from the reading side, so it never outlives run.
	pr, pw := io.Pipe()
	tarDone := make(chan error, 1)
	go func() {
		err := writeTar(ctx, pw, abs)
		pw.CloseWithError(err) // nil: the reader sees EOF
		tarDone <- err
	}()
	res, err := up.Upload(ctx, pr, pan123.FileInput{ParentFileID: *parent, Name: *name, Duplicate: pan123.KeepBoth},
		pan123.WithTempDir(env("TMPDIR")))
	pr.CloseWithError(errors.New("upload stopped reading")) // unblocks the writer if Upload returned early
	if tarErr := <-tarDone; tarErr != nil && err != nil && ctx.Err() == nil {
		err = fmt.Errorf("tar %s: %w", dir, tarErr) // the root cause, not the read error it caused
	}
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "stream: canceled")
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "stream: %v\n", err)
		return 1
	}
	how := "file ID"
	if res.Reused {
		how = "instant upload, file ID"
	}
	fmt.Fprintf(stdout, "uploaded %s: %s %d (%d bytes, md5 %s)\n", res.Name, how, res.FileID, res.Size, res.MD5)
	return 0
}

// writeTar writes the tree under root as a tar archive to w.
func writeTar(ctx context.Context, w io.Writer, root string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err // sockets and devices have no tar form
		}
		hdr.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// connect returns a Client for the credentials in the environment or,
// without any, for an in-process fake platform (closeFake stops it).
func connect(env func(string) string, baseURL string, stderr io.Writer) (c *pan123.Client, closeFake func(), err error) {
	id, secret, token := env("PAN123_CLIENT_ID"), env("PAN123_CLIENT_SECRET"), env("PAN123_ACCESS_TOKEN")
	if id == "" && secret == "" && token == "" {
		srv := pan123test.NewServer()
		fmt.Fprintln(stderr, "stream: no credentials found (PAN123_CLIENT_ID/PAN123_CLIENT_SECRET or PAN123_ACCESS_TOKEN): "+
			"running against the built-in fake platform (pan123test, in-process)")
		c, err := pan123.New(srv.ClientID, srv.ClientSecret, pan123.WithBaseURL(srv.URL))
		if err != nil {
			srv.Close()
			return nil, nil, err
		}
		return c, srv.Close, nil
	}
	var opts []pan123.Option
	if baseURL != "" {
		opts = append(opts, pan123.WithBaseURL(baseURL))
	}
	if token != "" {
		opts = append(opts, pan123.WithAccessToken(token))
	}
	if c, err = pan123.New(id, secret, opts...); err != nil {
		return nil, nil, err
	}
	return c, func() {}, nil
}
