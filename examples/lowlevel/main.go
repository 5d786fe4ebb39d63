// Command lowlevel uploads one file to the drive by driving the V1 protocol
// by hand with the Client's typed endpoint methods, one step at a time:
//
//	create → instant upload? done
//	       → for each slice: get_upload_url, then PUT the bytes
//	       → list_upload_parts (compare the platform's etags with ours)
//	       → upload_complete → poll upload_async_result while the platform assembles the file
//
// Use it as a map of the protocol, or as a start for a tool that needs a
// step the Uploader does not expose. For everything else use
// pan123.Uploader: it sends slices concurrently, retries them with fresh
// URLs, reports progress and cleans up.
//
//	lowlevel [-parent ID] [-name NAME] [-poll 1s] [FILE]
//
// Credentials come from PAN123_CLIENT_ID and PAN123_CLIENT_SECRET, or
// PAN123_ACCESS_TOKEN. Without them the upload goes to an in-process fake
// platform (pan123test) and, with no FILE, a generated 10 MiB file is used.
package main

import (
	"context"
	"crypto/md5"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

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
	fset := flag.NewFlagSet("lowlevel", flag.ContinueOnError)
	fset.SetOutput(stderr)
	parent := fset.Int64("parent", 0, "parent folder ID in the drive (0 = root)")
	name := fset.String("name", "", "remote name (default: the file's base name)")
	poll := fset.Duration("poll", time.Second, "wait between upload_async_result polls (the platform asks for at least 1s)")
	baseURL := fset.String("base-url", "", "API base URL, used with credentials (default "+pan123.DefaultBaseURL+")")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fset.NArg() > 1 || *poll <= 0 {
		fmt.Fprintln(stderr, "lowlevel: give at most one FILE and a positive -poll")
		return 2
	}

	client, fake, err := connect(env, *baseURL, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "lowlevel: %v\n", err)
		return 2
	}
	if fake != nil {
		defer fake.Close()
	}
	path := fset.Arg(0)
	if path == "" {
		if fake == nil {
			fmt.Fprintln(stderr, "lowlevel: no FILE given")
			return 2
		}
		dir, err := os.MkdirTemp(env("TMPDIR"), "pan123-lowlevel-")
		if err == nil {
			defer os.RemoveAll(dir)
			path = filepath.Join(dir, "lowlevel-demo.bin")
			err = writeRandomFile(path, 10<<20)
		}
		if err != nil {
			fmt.Fprintf(stderr, "lowlevel: demo file: %v\n", err)
			return 1
		}
	}
	if *name == "" {
		*name = filepath.Base(path)
	}

	id, reused, err := upload(ctx, client, path, *parent, *name, *poll, stdout)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "lowlevel: canceled")
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "lowlevel: %v\n", err)
		return 1
	case reused:
		fmt.Fprintf(stdout, "uploaded %s: instant upload, file ID %d\n", *name, id)
	default:
		fmt.Fprintf(stdout, "uploaded %s: file ID %d\n", *name, id)
	}
	return 0
}

// upload runs the V1 protocol for the file at path and returns the new file's ID.
func upload(ctx context.Context, c *pan123.Client, path string, parent int64, name string, poll time.Duration, out io.Writer) (fileID int64, reused bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, false, err
	}
	size := st.Size()

	// 1. The whole-file MD5 is the file's identity on the platform.
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return 0, false, err
	}
	etag := hex.EncodeToString(h.Sum(nil))

	// 2. create: either the platform knows the content (instant upload), or
	// it opens a session and says how big every slice must be.
	cr, err := c.Drive.Create(ctx, &pan123.FileCreateRequest{
		ParentFileID: parent, Filename: name, Etag: etag, Size: size, Duplicate: pan123.KeepBoth,
	})
	if err != nil {
		return 0, false, fmt.Errorf("create: %w", err)
	}
	if cr.Reuse {
		fmt.Fprintf(out, "create: the platform already has %s (md5 %s): nothing to send\n", name, etag)
		return cr.FileID, true, nil
	}
	if cr.SliceSize <= 0 {
		return 0, false, fmt.Errorf("create answered slice size %d", cr.SliceSize)
	}
	slices := int((size + cr.SliceSize - 1) / cr.SliceSize)
	fmt.Fprintf(out, "create: session %s, %d bytes in %d slices of %d bytes (md5 %s)\n", cr.PreuploadID, size, slices, cr.SliceSize, etag)

	// 3. Each slice: a presigned URL fetched right before its PUT (URLs
	// expire), then the raw bytes. A failed PUT is tried again with a fresh
	// URL and a fresh reader over the same bytes.
	sliceMD5s := make([]string, slices)
	for no := 1; no <= slices; no++ {
		off := int64(no-1) * cr.SliceSize
		n := min(cr.SliceSize, size-off)
		for attempt := 1; ; attempt++ {
			u, err := c.Drive.UploadURL(ctx, cr.PreuploadID, no)
			if err != nil {
				return 0, false, fmt.Errorf("get_upload_url for slice %d: %w", no, err)
			}
			sh := md5.New()
			body := io.TeeReader(io.NewSectionReader(f, off, n), sh)
			err = c.PutSlice(ctx, u.PresignedURL, body, n)
			if err == nil {
				sliceMD5s[no-1] = hex.EncodeToString(sh.Sum(nil))
				break
			}
			if attempt == 3 || ctx.Err() != nil {
				return 0, false, fmt.Errorf("put slice %d: %w", no, err)
			}
			fmt.Fprintf(out, "slice %d: %v; trying again\n", no, err)
		}
		fmt.Fprintf(out, "slice %d/%d: %d bytes sent (md5 %s)\n", no, slices, n, sliceMD5s[no-1])
	}

	// 4. Optional check: the platform's etag of each part is the MD5 of the
	// bytes it received. It lists nothing for a file smaller than one slice.
	if slices > 1 {
		parts, err := c.Drive.ListParts(ctx, cr.PreuploadID)
		if err != nil {
			return 0, false, fmt.Errorf("list_upload_parts: %w", err)
		}
		for _, p := range parts {
			if p.PartNumber < 1 || p.PartNumber > slices || p.Etag != sliceMD5s[p.PartNumber-1] {
				return 0, false, fmt.Errorf("part %d: the platform has etag %s, we sent md5 %s", p.PartNumber, p.Etag, sliceMD5s[max(0, min(p.PartNumber, slices)-1)])
			}
		}
		fmt.Fprintf(out, "list_upload_parts: %d parts, every etag matches\n", len(parts))
	}

	// 5. upload_complete. The platform may still be verifying (code 20103,
	// which the Client retries a few times on its own) or answer async: then
	// ask upload_async_result until the file exists, within a deadline.
	ctx, cancel := context.WithTimeout(ctx, pan123.DefaultCompleteTimeout(size))
	defer cancel()
	for {
		done, err := c.Drive.Complete(ctx, cr.PreuploadID)
		if err == nil && done.Completed && done.FileID != 0 {
			fmt.Fprintln(out, "upload_complete: done")
			return done.FileID, false, nil
		}
		if err == nil && done.Async {
			break
		}
		if err != nil && !errors.Is(err, pan123.ErrVerifying) {
			return 0, false, fmt.Errorf("upload_complete: %w", err)
		}
		fmt.Fprintln(out, "upload_complete: not finished yet")
		if err := sleep(ctx, poll); err != nil {
			return 0, false, err
		}
	}
	fmt.Fprintf(out, "upload_complete: async, polling upload_async_result every %v\n", poll)
	for {
		if err := sleep(ctx, poll); err != nil {
			return 0, false, err
		}
		r, err := c.Drive.AsyncResult(ctx, cr.PreuploadID)
		switch {
		case errors.Is(err, pan123.ErrVerifying):
			// code 20103: still verifying; ask again
		case err != nil:
			return 0, false, fmt.Errorf("upload_async_result: %w", err)
		case r.Completed && r.FileID != 0:
			fmt.Fprintln(out, "upload_async_result: done")
			return r.FileID, false, nil
		}
		fmt.Fprintln(out, "upload_async_result: not yet")
	}
}

// sleep waits for d, or less when ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// connect returns a Client for the credentials in the environment or,
// without any, for an in-process fake platform (the caller closes fake).
// The fake is set to show the whole protocol on a small file: 4 MiB slices
// and an asynchronous completion.
func connect(env func(string) string, baseURL string, stderr io.Writer) (c *pan123.Client, fake *pan123test.Server, err error) {
	id, secret, token := env("PAN123_CLIENT_ID"), env("PAN123_CLIENT_SECRET"), env("PAN123_ACCESS_TOKEN")
	if id == "" && secret == "" && token == "" {
		srv := pan123test.NewServer(pan123test.WithSliceSize(4<<20), pan123test.WithAsync(2))
		fmt.Fprintln(stderr, "lowlevel: no credentials found (PAN123_CLIENT_ID/PAN123_CLIENT_SECRET or PAN123_ACCESS_TOKEN): "+
			"running against the built-in fake platform (pan123test, in-process)")
		c, err := pan123.New(srv.ClientID, srv.ClientSecret, pan123.WithBaseURL(srv.URL))
		if err != nil {
			srv.Close()
			return nil, nil, err
		}
		return c, srv, nil
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
	return c, nil, nil
}

// writeRandomFile writes size random bytes to path.
func writeRandomFile(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, crand.Reader, size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
