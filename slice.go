package pan123

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"sync"
)

// slicePlan is one slice of a file: 1-based number, offset and length.
type slicePlan struct {
	No   int
	Off  int64
	Size int64
}

// planSlices cuts [0, size) into slices of exactly sliceSize bytes, the last
// one shorter, numbered from 1. It refuses answers that would need more than
// maxSlices slices or a non-positive slice size.
func planSlices(size, sliceSize int64) ([]slicePlan, error) {
	if sliceSize <= 0 {
		return nil, protocolError("slice size %d", sliceSize)
	}
	if size <= 0 {
		return nil, protocolError("file size %d", size)
	}
	n := (size-1)/sliceSize + 1
	if n > maxSlices {
		return nil, protocolError("slice size %d would cut %d bytes into %d slices (more than %d)", sliceSize, size, n, maxSlices)
	}
	plan := make([]slicePlan, n)
	for i := range plan {
		off := int64(i) * sliceSize
		plan[i] = slicePlan{No: i + 1, Off: off, Size: min(sliceSize, size-off)}
	}
	return plan, nil
}

// hashBufSize is the read size of MD5 passes (and of spooling a stream).
// Measured on a file in the page cache, 64 KiB to 1 MiB reads hash at the
// same speed: the hash, not the syscalls, bounds a pass. 256 KiB keeps the
// syscalls negligible; the buffer's pages stay resident for the rest of the
// upload, so it is no bigger (it was 1 MiB).
const hashBufSize = 256 << 10

// hashBufs recycles hashing buffers: V2 and resume hash slice by slice, and
// a fresh buffer per slice was most of their garbage.
var hashBufs = sync.Pool{New: func() any { b := make([]byte, hashBufSize); return &b }}

// md5Of hashes n bytes of r from off, calling onRead with each chunk size.
// A source that yields fewer than n bytes is io.ErrUnexpectedEOF.
func md5Of(r io.ReaderAt, off, n int64, onRead func(int)) (string, error) {
	sum, _, err := hashPass(r, off, n, 0, onRead)
	return sum, err
}

// hashPass reads n bytes of r from off once and returns their MD5 and, when
// sliceSize > 0, the MD5 of each sliceSize piece (the last one shorter). The
// slice hasher runs on another goroutine over the same buffers (two hashers,
// one read), so on two cores the pass takes the time of one MD5. onRead gets
// each chunk size. A source that yields fewer than n bytes is
// io.ErrUnexpectedEOF.
func hashPass(r io.ReaderAt, off, n, sliceSize int64, onRead func(int)) (string, []string, error) {
	bp := hashBufs.Get().(*[]byte)
	defer hashBufs.Put(bp)
	free := make(chan []byte, 2) // buffers neither hasher is reading
	free <- *bp
	if sliceSize > 0 { // the slice hasher reads one while the next is filled
		bp2 := hashBufs.Get().(*[]byte)
		defer hashBufs.Put(bp2)
		free <- *bp2
	}
	var sums []string
	work := make(chan []byte, 1)
	hashed := make(chan struct{})
	if sliceSize > 0 {
		go func() {
			defer close(hashed)
			h, in := md5.New(), int64(0)
			for b := range work {
				for rest := b; len(rest) > 0; {
					k := min(int64(len(rest)), sliceSize-in)
					h.Write(rest[:k])
					rest, in = rest[k:], in+k
					if in == sliceSize {
						sums, in = append(sums, hex.EncodeToString(h.Sum(nil))), 0
						h.Reset()
					}
				}
				free <- b[:cap(b)]
			}
			if in > 0 {
				sums = append(sums, hex.EncodeToString(h.Sum(nil)))
			}
		}()
	} else {
		close(hashed)
	}
	end := func() { close(work); <-hashed }
	h := md5.New()
	sr := io.NewSectionReader(r, off, n)
	for done := int64(0); done < n; {
		buf := <-free
		k, err := io.ReadFull(sr, buf[:min(int64(len(buf)), n-done)])
		if k > 0 {
			if sliceSize > 0 {
				work <- buf[:k]
			} else {
				free <- buf
			}
			h.Write(buf[:k])
			done += int64(k)
			if onRead != nil {
				onRead(k)
			}
		} else {
			free <- buf
		}
		if err != nil {
			end()
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return "", nil, io.ErrUnexpectedEOF // the source shrank
			}
			return "", nil, err
		}
	}
	end()
	return hex.EncodeToString(h.Sum(nil)), sums, nil
}

// sliceBody is the body of one slice attempt: a fresh section reader that
// reports each read (progress and the stall detector) and remembers how many
// bytes left, so that a failed attempt can roll its progress back. Once the
// attempt is over (finish), further reads fail: net/http may still read a
// body after the request returned (when the server answered early), and
// those bytes must not count after the rollback. Every data-plane body is
// one, so the bandwidth caps are kept here: each read first waits (pace)
// until its bytes may leave, and is cut to what may.
type sliceBody struct {
	src    io.ReaderAt // the slice is src[off : off+size]
	off    int64
	size   int64
	r      io.Reader
	onRead func(n int)
	onEnd  func()                   // the last byte was read; may be nil
	pace   func(n int) (int, error) // nil: no cap

	mu   sync.Mutex
	sent int64
	done bool
}

func (b *sliceBody) Read(p []byte) (int, error) {
	if b.pace != nil && len(p) > 0 {
		b.mu.Lock()
		left, done := b.size-b.sent, b.done
		b.mu.Unlock()
		if !done && left > 0 {
			// Outside the lock: finish must not wait for a capped read.
			n, err := b.pace(int(min(int64(len(p)), left)))
			if err != nil {
				return 0, err
			}
			p = p[:n]
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return 0, errBodyFinished
	}
	n, err := b.r.Read(p)
	if n > 0 {
		b.sent += int64(n)
		b.onRead(n)
	}
	if err == io.EOF && b.onEnd != nil {
		b.onEnd()
	}
	return n, err
}

// finish ends the attempt and returns the bytes it read.
func (b *sliceBody) finish() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = true
	return b.sent
}

var errBodyFinished = errors.New("slice attempt already over")
