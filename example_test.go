package pan123_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

func ExampleNew() {
	// An in-process fake of the platform. With a real account, leave out
	// WithBaseURL and pass your developer client ID and secret.
	srv := pan123test.NewServer()
	defer srv.Close()

	c, err := pan123.New(srv.ClientID, srv.ClientSecret, pan123.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	up := pan123.NewUploader(c)
	res, err := up.Upload(context.Background(), strings.NewReader("hello, 123pan\n"),
		pan123.FileInput{ParentFileID: 0, Name: "hello.txt"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Name, res.Size, res.MD5, res.Reused)
	// Output: hello.txt 14 6628986af0418a4123f6dd8c51b2e380 false
}

func ExampleUploader_UploadFile() {
	srv := pan123test.NewServer()
	defer srv.Close()
	c, err := pan123.New(srv.ClientID, srv.ClientSecret, pan123.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	up := pan123.NewUploader(c, pan123.WithConcurrency(4))

	dir, err := os.MkdirTemp("", "pan123-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "report.csv")
	if err := os.WriteFile(path, []byte(strings.Repeat("day,visits\nmonday,42\n", 1000)), 0o600); err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	phases := pan123.WithProgress(func(p pan123.Progress) {
		if p.Event == pan123.EventPhase {
			fmt.Println("phase:", p.Phase)
		}
	})
	res, err := up.UploadFile(ctx, path, pan123.FileInput{ParentFileID: 0, Duplicate: pan123.KeepBoth}, phases)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d bytes, md5 %s, instant upload: %v\n", res.Name, res.Size, res.MD5, res.Reused)

	// The platform knows this content now: a second upload sends no bytes.
	res, err = up.UploadFile(ctx, path, pan123.FileInput{Name: "report-copy.csv", Duplicate: pan123.KeepBoth})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: instant upload: %v\n", res.Name, res.Reused)
	// Output:
	// phase: hashing
	// phase: uploading
	// phase: completing
	// phase: done
	// report.csv: 21000 bytes, md5 15b214cd91aa71d8f18b00e3d07bce73, instant upload: false
	// report-copy.csv: instant upload: true
}

func ExampleUploader_UploadImageFile() {
	srv := pan123test.NewServer()
	defer srv.Close()
	c, err := pan123.New(srv.ClientID, srv.ClientSecret, pan123.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	up := pan123.NewUploader(c)

	dir, err := os.MkdirTemp("", "pan123-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "cat.png")
	if err := os.WriteFile(path, []byte("\x89PNG\r\n\x1a\n not really a cat"), 0o600); err != nil {
		log.Fatal(err)
	}

	// The image bed (图床) has its own folders, with string IDs: "" is the root.
	img, err := up.UploadImageFile(context.Background(), path, pan123.ImageInput{ParentID: ""})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(img.Name, img.Size, img.MD5, img.Reused, img.FileID != "")
	// Output: cat.png 25 2fe5d7fdd4fa0dc9a9fda3bd7aa87002 false true
}

func ExampleAPIError() {
	srv := pan123test.NewServer()
	defer srv.Close()
	// Make the platform refuse every create with code 429 ("请求太频繁"). Like
	// most of its errors, it comes with HTTP status 200 and the code in the body.
	srv.Inject(pan123test.Fault{Op: pan123test.OpCreate, Code: 429, Times: -1})

	c, err := pan123.New(srv.ClientID, srv.ClientSecret, pan123.WithBaseURL(srv.URL),
		pan123.WithRetry(1, time.Millisecond, time.Millisecond)) // no retry, for the example
	if err != nil {
		log.Fatal(err)
	}
	up := pan123.NewUploader(c)
	_, err = up.Upload(context.Background(), strings.NewReader("some data"), pan123.FileInput{Name: "a.txt"})

	fmt.Println("rate limited:", errors.Is(err, pan123.ErrRateLimited))
	var ae *pan123.APIError
	if errors.As(err, &ae) {
		fmt.Println("code:", ae.Code, "http status:", ae.HTTPStatus, "path:", ae.Path)
		fmt.Println("trace ID for 123pan support:", ae.TraceID != "")
	}
	var ue *pan123.UploadError
	if errors.As(err, &ue) {
		fmt.Printf("upload of %s failed before a session existed: %v\n", ue.FileName, ue.PreuploadID == "")
	}
	// Output:
	// rate limited: true
	// code: 429 http status: 200 path: /upload/v1/file/create
	// trace ID for 123pan support: true
	// upload of a.txt failed before a session existed: true
}
