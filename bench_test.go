package pan123

// Benchmarks of the upload path's hot pieces. The end-to-end figures (ratio
// to the machine's floor, peak RSS, links) come from cmd/pan123bench.
//
//	go test -run '^$' -bench . -benchmem

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// benchFile writes size random bytes to a temporary file and returns it open.
func benchFile(b *testing.B, size int64) *os.File {
	b.Helper()
	f, err := os.Create(filepath.Join(b.TempDir(), "bench.bin"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		b.Fatal(err)
	}
	return f
}

func BenchmarkPlanSlices(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := planSlices(MaxFileSize, 16<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMD5Of is the hashing pass: in memory (the hash alone) and over a
// file in the page cache (the hash plus the reads).
func BenchmarkMD5Of(b *testing.B) {
	const size = 64 << 20
	data := make([]byte, size)
	_, _ = rand.Read(data)
	b.Run("memory", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := md5Of(bytes.NewReader(data), 0, size, func(int) {}); err != nil {
				b.Fatal(err)
			}
		}
	})
	f := benchFile(b, size)
	b.Run("file", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := md5Of(f, 0, size, func(int) {}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("slice1MiB", func(b *testing.B) { // V2 and resume hash one slice at a time
		b.SetBytes(1 << 20)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := md5Of(f, 3<<20, 1<<20, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSliceBody reads a 16 MiB slice through the body the Uploader
// hands to net/http, with the per-read work of an attempt (stall timer,
// progress), in the 32 KiB reads net/http makes.
func BenchmarkSliceBody(b *testing.B) {
	const size = 16 << 20
	f := benchFile(b, size)
	rep := newReporter(func(Progress) {}, "bench", size)
	stall := time.AfterFunc(time.Hour, func() {})
	defer stall.Stop()
	buf := make([]byte, 32<<10)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		body := &sliceBody{src: f, off: 0, r: io.NewSectionReader(f, 0, size), onRead: func(n int) {
			stall.Reset(time.Hour)
			rep.add(int64(n))
		}}
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{body}, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReporter(b *testing.B) {
	b.Run("nil", func(b *testing.B) {
		rep := newReporter(nil, "bench", 1<<40)
		b.ReportAllocs()
		for b.Loop() {
			rep.add(32 << 10)
		}
	})
	b.Run("fn", func(b *testing.B) {
		rep := newReporter(func(Progress) {}, "bench", 1<<40)
		b.ReportAllocs()
		for b.Loop() {
			rep.add(32 << 10)
		}
	})
	b.Run("fn-parallel", func(b *testing.B) {
		rep := newReporter(func(Progress) {}, "bench", 1<<40)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				rep.add(32 << 10)
			}
		})
	})
}

// BenchmarkPutSlice is one presigned PUT of a 16 MiB file-backed slice to a
// loopback server that discards it, on a kept-alive connection.
func BenchmarkPutSlice(b *testing.B) {
	const size = 16 << 20
	f := benchFile(b, size)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	c, err := New("", "", WithAccessToken("t"), WithBaseURL(srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseIdleConnections()
	ctx := context.Background()
	for _, conc := range []int{1, 4} {
		b.Run(map[int]string{1: "serial", 4: "parallel4"}[conc], func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			var mu sync.Mutex
			n := 0
			var wg sync.WaitGroup
			for range conc {
				wg.Go(func() {
					for {
						mu.Lock()
						ok := n < b.N
						n++
						mu.Unlock()
						if !ok {
							return
						}
						body := &sliceBody{src: f, r: io.NewSectionReader(f, 0, size), onRead: func(int) {}}
						if err := c.PutSlice(ctx, srv.URL+"/bucket/key?X-Amz-Signature=x", body, size); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}
