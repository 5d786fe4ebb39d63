package pan123_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// Upload a stream (a pipe, an HTTP body, a tar being written) and follow
// its progress. The stream is read once: hashed while it is spooled to a
// temporary file, then sent in slices from there.
func ExampleUploader_Upload() {
	srv := pan123test.NewServer(pan123test.WithSliceSize(64 << 10))
	defer srv.Close()
	c, err := pan123.New(srv.ClientID, srv.ClientSecret, pan123.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	pr, pw := io.Pipe()
	go func() {
		for i := range 10000 {
			fmt.Fprintf(pw, "line %05d\n", i) // 110000 bytes
		}
		pw.Close()
	}()

	var last pan123.Progress
	progress := pan123.WithProgress(func(p pan123.Progress) {
		if p.Event == pan123.EventPhase {
			fmt.Println("phase:", p.Phase)
		}
		last = p // called one at a time: no lock needed here
	})
	up := pan123.NewUploader(c, progress)
	res, err := up.Upload(context.Background(), pr, pan123.FileInput{Name: "lines.txt"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d bytes in %d slices, md5 %s\n", res.Name, res.Size, last.Slices, res.MD5)
	// Output:
	// phase: hashing
	// phase: uploading
	// phase: completing
	// phase: done
	// lines.txt: 110000 bytes in 2 slices, md5 7a8b09b7e466c32e7c179e2b7df7eebf
}

// Continue a failed upload in the same platform session: only the slices
// the platform does not hold are sent again. WithCheckpointDir does the
// same across processes.
func ExampleUploader_ResumeFile() {
	srv := pan123test.NewServer(pan123test.WithSliceSize(1024))
	defer srv.Close()
	// Slice 2 fails, however often it is sent: a link that broke halfway.
	srv.Inject(pan123test.Fault{Op: pan123test.OpPut, SliceNo: 2, Status: 500, Times: -1})
	c, err := pan123.New(srv.ClientID, srv.ClientSecret, pan123.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	up := pan123.NewUploader(c, pan123.WithConcurrency(1), pan123.WithSliceRetry(2, time.Millisecond, time.Millisecond))

	dir, err := os.MkdirTemp("", "pan123-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "backup.tar")
	if err := os.WriteFile(path, []byte(strings.Repeat("x", 3000)), 0o600); err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	_, err = up.UploadFile(ctx, path, pan123.FileInput{})
	var ue *pan123.UploadError
	if !errors.As(err, &ue) {
		log.Fatal(err)
	}
	fmt.Printf("failed at slice %d of session %v\n", ue.SliceNo, ue.PreuploadID != "")

	srv.ClearFaults() // the link is back
	skipped := pan123.WithProgress(func(p pan123.Progress) {
		if p.Event == pan123.EventSliceSkipped {
			fmt.Printf("slice %d is on the platform already\n", p.SliceNo)
		}
	})
	res, err := up.ResumeFile(ctx, ue, skipped)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Name, res.Size)
	// Output:
	// failed at slice 2 of session true
	// slice 1 is on the platform already
	// backup.tar 3000
}

// Create a folder path (like mkdir -p) and upload into it. EnsureDir is
// safe to call again: existing folders are found, not duplicated.
func ExampleDriveService_EnsureDir() {
	srv := pan123test.NewServer()
	defer srv.Close()
	c, err := pan123.New(srv.ClientID, srv.ClientSecret, pan123.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	dirID, err := c.Drive.EnsureDir(ctx, 0, "backups/2026/03")
	if err != nil {
		log.Fatal(err)
	}
	again, err := c.Drive.EnsureDir(ctx, 0, "backups/2026/03")
	if err != nil {
		log.Fatal(err)
	}
	up := pan123.NewUploader(c)
	res, err := up.Upload(ctx, strings.NewReader("nightly dump"), pan123.FileInput{ParentFileID: dirID, Name: "db.dump"})
	if err != nil {
		log.Fatal(err)
	}
	f, _ := srv.File(res.FileID)
	fmt.Println("same folder the second time:", again == dirID)
	fmt.Println("uploaded into it:", f.ParentID == dirID)
	// Output:
	// same folder the second time: true
	// uploaded into it: true
}

// Test your own code against pan123test, the fake platform: inject a fault,
// run the code, and look at what the "platform" holds. A stored file prints
// as its ID, name, size and MD5.
func Example_testingWithPan123test() {
	srv := pan123test.NewServer(pan123test.WithSliceSize(1024))
	defer srv.Close()
	// The first PUT of slice 2 fails with HTTP 500, as on a flaky network.
	srv.Inject(pan123test.Fault{Op: pan123test.OpPut, SliceNo: 2, Status: 500})

	c, err := pan123.New(srv.ClientID, srv.ClientSecret, pan123.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	up := pan123.NewUploader(c, pan123.WithSliceRetry(3, time.Millisecond, time.Millisecond))
	if _, err := up.Upload(context.Background(), strings.NewReader(strings.Repeat("y", 2500)), pan123.FileInput{Name: "db.dump"}); err != nil {
		log.Fatal(err) // in a test: t.Fatal(err)
	}
	fmt.Println(srv.Files())
	fmt.Println("PUTs:", srv.Count(pan123test.OpPut))
	// Output:
	// [file 10000001 "db.dump" (2500 bytes, md5 8cb3c1a2921043307c7836ce6fdb721b)]
	// PUTs: 4
}
