package pan123_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// TestV2UploadFromReaderOffset: a seekable reader positioned past its start
// is uploaded through V2 from that position. The content is new on the
// fake, so every slice is really sent with its sliceMD5, which the fake
// checks against the bytes: a slice hashed at the plan's offset instead of
// the source's fails with "分片MD5校验失败".
func TestV2UploadFromReaderOffset(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	up := r.uploader(pan123.WithProtocol(pan123.V2), pan123.WithConcurrency(2))
	// Twice: the first upload hashes its slices before each post (the
	// Client has not yet seen the slice size), the second in the
	// whole-file hashing pass.
	for i, seed := range []uint64{41, 42} {
		_, data := rigFile(t, 3*rigSlice+1000, seed)
		const skip = 7
		rd := bytes.NewReader(data)
		_, err := rd.Seek(skip, io.SeekStart)
		require.NoError(t, err)
		res, err := up.Upload(t.Context(), rd, pan123.FileInput{Name: fmt.Sprintf("offset%d.bin", i)})
		require.NoError(t, err)
		assert.False(t, res.Reused, "fresh content: slices were sent")
		assert.Equal(t, 4*(i+1), r.srv.Count(pan123test.OpV2Slice), "one accepted post per slice")
		f, ok := r.srv.File(res.FileID)
		require.True(t, ok)
		assert.True(t, bytes.Equal(data[skip:], f.Data), "the fake stored other bytes")
	}
}

// gateSource is a seekable source whose reads that reach blockAt wait for
// the upload's context to end, then hold on until release (or hold passes,
// so that a correct Upload, which waits for the read, is not stuck). It
// counts the reads running when the upload returned, and those started after.
type gateSource struct {
	*bytes.Reader
	blockAt int64
	ctx     context.Context
	hold    time.Duration
	release chan struct{}
	entered chan struct{}
	once    sync.Once

	inflight atomic.Int32
	returned atomic.Bool
	late     atomic.Int32
}

func (s *gateSource) ReadAt(p []byte, off int64) (int, error) {
	s.inflight.Add(1) // before the check: returnedNow sees it, or it sees returned
	defer s.inflight.Add(-1)
	if s.returned.Load() {
		s.late.Add(1)
	}
	if off+int64(len(p)) > s.blockAt {
		s.once.Do(func() { close(s.entered) })
		<-s.ctx.Done()
		t := time.NewTimer(s.hold)
		defer t.Stop()
		select {
		case <-s.release:
		case <-t.C:
		}
	}
	return s.Reader.ReadAt(p, off)
}

// returnedNow marks the upload as returned and reports the reads running.
func (s *gateSource) returnedNow() int32 {
	s.returned.Store(true)
	return s.inflight.Load()
}

// TestUploadCancelWaitsForSliceReads: Upload cancelled while a slice's read
// of the source is blocked returns only after that read ended, and no read
// of the source starts after it returned (no worker outlives the call). A
// read held past the cancel would still be running at the return of an
// Upload that skipped waiting for its workers.
func TestUploadCancelWaitsForSliceReads(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	_, data := rigFile(t, 3*rigSlice, 43)
	sum := md5.Sum(data)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	src := &gateSource{Reader: bytes.NewReader(data), blockAt: rigSlice + 1, ctx: ctx, hold: 500 * time.Millisecond,
		release: make(chan struct{}), entered: make(chan struct{})}

	type result struct {
		err      error
		inflight int32
	}
	done := make(chan result, 1)
	go func() {
		// The MD5 is given: every read of src is a slice read.
		_, err := r.uploader(pan123.WithConcurrency(2)).Upload(ctx, src,
			pan123.FileInput{Name: "cancel.bin", MD5: hex.EncodeToString(sum[:])})
		done <- result{err, src.returnedNow()}
	}()
	<-src.entered
	cancel()
	res := <-done
	close(src.release)
	require.ErrorIs(t, res.err, context.Canceled)
	assert.Zero(t, res.inflight, "a read of the source was still running when Upload returned")
	assert.Zero(t, src.late.Load(), "a read of the source started after Upload returned")
}
