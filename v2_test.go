package pan123_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// sliceArrivals maps each V2 slice to the upload server that accepted it,
// and counts the posts each server saw (accepted or not).
func sliceArrivals(reqs []pan123test.Request) (accepted map[int]int, posts map[int]int) {
	accepted, posts = map[int]int{}, map[int]int{}
	for _, r := range reqs {
		if r.Op != pan123test.OpV2Slice {
			continue
		}
		posts[r.Server]++
		if r.Code == 0 {
			accepted[r.SliceNo] = r.Server
		}
	}
	return accepted, posts
}

// TestV2Failover: with upload server 2 of 3 dead, every slice still
// arrives. Slice n goes to server (n-1)%3+1 and each retry to the next one,
// so slices meant for server 2 land on server 3 at their second attempt.
func TestV2Failover(t *testing.T) {
	t.Parallel()
	const n = 9
	for name, kill := range map[string]func(*pan123test.Server){
		"closed server": func(s *pan123test.Server) { s.CloseUploadServer(2) },
		"dropped every time": func(s *pan123test.Server) {
			s.Inject(pan123test.Fault{Op: pan123test.OpV2Slice, Server: 2, Times: -1, Drop: true})
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, pan123test.WithUploadServers(3))
			kill(e.srv)
			path, data := writeRandom(t, t.TempDir(), n*testSlice, 21)
			res, err := e.uploader(pan123.WithProtocol(pan123.V2)).UploadFile(t.Context(), path, pan123.FileInput{})
			require.NoError(t, err)
			f, ok := e.srv.File(res.FileID)
			require.True(t, ok)
			require.True(t, bytes.Equal(data, f.Data))

			accepted, posts := sliceArrivals(e.srv.Requests())
			require.Len(t, accepted, n, "every slice arrived")
			for no := 1; no <= n; no++ {
				want := map[int]int{0: 1, 1: 3, 2: 3}[(no-1)%3] // round-robin; server 2's share fails over to 3
				assert.Equal(t, want, accepted[no], "slice %d", no)
			}
			assert.Equal(t, 3, posts[1], "server 1 got its share, once each")
			assert.Equal(t, 6, posts[3], "server 3 got its share and server 2's")
			if name == "dropped every time" {
				assert.Equal(t, 3, posts[2], "one failed post per slice meant for server 2")
			} else {
				assert.Zero(t, posts[2], "a closed server sees nothing")
			}
		})
	}
}

// TestV2FailoverPerSlice: a transient failure of one slice on one server
// moves that slice, and only it, to the next server.
func TestV2FailoverPerSlice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pan123test.WithUploadServers(2))
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpV2Slice, Server: 1, SliceNo: 3, Status: 502, Body: htmlError(502)})
	path, _ := writeRandom(t, t.TempDir(), 4*testSlice, 22)
	_, err := e.uploader(pan123.WithProtocol(pan123.V2)).UploadFile(t.Context(), path, pan123.FileInput{})
	require.NoError(t, err)
	accepted, _ := sliceArrivals(e.srv.Requests())
	assert.Equal(t, map[int]int{1: 1, 2: 2, 3: 2, 4: 2}, accepted)
}

func TestV2AllServersDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pan123test.WithUploadServers(2))
	e.srv.CloseUploadServer(1)
	e.srv.CloseUploadServer(2)
	path, _ := writeRandom(t, t.TempDir(), 2*testSlice, 23)
	_, err := e.uploader(pan123.WithProtocol(pan123.V2), pan123.WithConcurrency(1)).UploadFile(t.Context(), path, pan123.FileInput{})
	var ue *pan123.UploadError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, 1, ue.SliceNo)
	assert.NotEmpty(t, ue.PreuploadID)
	assert.Zero(t, e.srv.Count(pan123test.OpV2Complete))
}

// failingReader counts every read and fails it: a source that must not be read.
type failingReader struct{ reads atomic.Int64 }

var errMustNotRead = errors.New("the source was read")

func (r *failingReader) Read([]byte) (int, error) { r.reads.Add(1); return 0, errMustNotRead }

func (r *failingReader) Reads() int64 { return r.reads.Load() }

// failingReaderAt is a seekable source (read in place) that must not be read.
type failingReaderAt struct {
	failingReader
	size int64
}

func (r *failingReaderAt) ReadAt([]byte, int64) (int, error) {
	r.reads.Add(1)
	return 0, errMustNotRead
}

func (r *failingReaderAt) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekEnd {
		return r.size + off, nil
	}
	return off, nil // the tests only ask for the current offset (0) and go back to it
}

func sha1hex(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }

// TestUploadSHA1Reuse: a SHA-1 the platform knows makes an instant upload
// without reading the source, in every protocol.
func TestUploadSHA1Reuse(t *testing.T) {
	t.Parallel()
	const size int64 = 3*testSlice + 5
	for _, p := range driveProtocols {
		t.Run(protocolName(p), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			_, data := writeRandom(t, t.TempDir(), size, 31)
			sum := sha1hex(data)
			// Known by SHA-1 and size only: no bytes, no MD5.
			e.srv.SeedFile(pan123test.File{Name: "seed.bin", Size: size, SHA1: sum})
			up := e.uploader(pan123.WithProtocol(p))

			for name, src := range map[string]interface {
				io.Reader
				Reads() int64
			}{
				"stream":   &failingReader{},
				"seekable": &failingReaderAt{size: size},
			} {
				e.srv.ResetRequests()
				res, err := up.Upload(t.Context(), src, pan123.FileInput{Name: "reused-" + name + ".bin", Size: size, SHA1: strings.ToUpper(sum)})
				require.NoError(t, err, name)
				assert.True(t, res.Reused, name)
				assert.Zero(t, src.Reads(), "%s: the source was read", name)
				assert.Empty(t, res.MD5, "no MD5 without reading")
				assert.Equal(t, size, res.Size)
				f, ok := e.srv.File(res.FileID)
				require.True(t, ok, name)
				assert.True(t, f.Reused)
				assert.Equal(t, "reused-"+name+".bin", f.Name)
				got := ops(e.srv)
				if len(got) > 0 && got[0] == pan123test.OpAccessToken {
					got = got[1:]
				}
				assert.Equal(t, []pan123test.Op{pan123test.OpV2SHA1Reuse}, got, name)
			}
			var body struct{ SHA1 string }
			for _, r := range e.srv.Requests() {
				if r.Op == pan123test.OpV2SHA1Reuse {
					require.NoError(t, json.Unmarshal(r.Body, &body))
				}
			}
			assert.Equal(t, sum, body.SHA1, "sent lowercase")
		})
	}
}

// TestUploadSHA1Unknown: a SHA-1 the platform does not know is asked for
// once, then the upload goes on as usual.
func TestUploadSHA1Unknown(t *testing.T) {
	t.Parallel()
	const size = 2*testSlice + 9
	for _, p := range driveProtocols {
		t.Run(protocolName(p), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			path, data := writeRandom(t, t.TempDir(), size, 32)
			up := e.uploader(pan123.WithProtocol(p))
			res, err := up.UploadFile(t.Context(), path, pan123.FileInput{SHA1: sha1hex(data)})
			require.NoError(t, err)
			assert.False(t, res.Reused)
			assert.Equal(t, md5hex(data), res.MD5)
			f, ok := e.srv.File(res.FileID)
			require.True(t, ok)
			require.True(t, bytes.Equal(data, f.Data))
			reqs := e.srv.Requests()
			if reqs[0].Op == pan123test.OpAccessToken {
				reqs = reqs[1:]
			}
			require.Equal(t, pan123test.OpV2SHA1Reuse, reqs[0].Op)
			assertDriveSequence(t, reqs[1:], p, size, 3)

			// Unknown, from a source that cannot be read: the upload reads it and fails.
			src := &failingReader{}
			_, err = up.Upload(t.Context(), src, pan123.FileInput{Name: "x.bin", Size: size, SHA1: strings.Repeat("ab", 20)})
			require.ErrorIs(t, err, errMustNotRead)
			assert.Positive(t, src.reads.Load())

			// Now the platform knows it (StoreBytes computed the SHA-1).
			e.srv.ResetRequests()
			res, err = up.Upload(t.Context(), &failingReader{}, pan123.FileInput{Name: "again.bin", Size: size, SHA1: sha1hex(data)})
			require.NoError(t, err)
			assert.True(t, res.Reused)
		})
	}
}

func TestUploadSHA1ReuseConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.SeedFile(pan123test.File{Name: "taken.bin", Data: []byte("hello")})
	_, err := e.uploader().Upload(t.Context(), &failingReader{}, pan123.FileInput{Name: "taken.bin", Size: 5, SHA1: sha1hex([]byte("hello"))})
	var ae *pan123.APIError
	require.ErrorAs(t, err, &ae, "a same-name conflict is an error, not a reason to upload")
	assert.Equal(t, 1, ae.Code)
	assert.Zero(t, e.srv.Count(pan123test.OpCreate))

	res, err := e.uploader().Upload(t.Context(), &failingReader{}, pan123.FileInput{Name: "taken.bin", Size: 5, SHA1: sha1hex([]byte("hello")), Duplicate: pan123.KeepBoth})
	require.NoError(t, err)
	f, _ := e.srv.File(res.FileID)
	assert.Equal(t, "taken(1).bin", f.Name)
}

// TestUploadImageIgnoresProtocol: the image bed has V1 only.
func TestUploadImageIgnoresProtocol(t *testing.T) {
	t.Parallel()
	for _, p := range []pan123.Protocol{pan123.V2, pan123.Auto} {
		t.Run(protocolName(p), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			path, data := writeRandom(t, t.TempDir(), 3*testSlice, 33)
			res, err := e.uploader(pan123.WithProtocol(p)).UploadImageFile(t.Context(), path, pan123.ImageInput{})
			require.NoError(t, err)
			f, ok := e.srv.Image(res.FileID)
			require.True(t, ok)
			require.True(t, bytes.Equal(data, f.Data))
			assertV1Sequence(t, e.srv.Requests(), true, 3)
		})
	}
}

// TestV2LowLevel: the exported V2 calls check what they are given.
func TestV2LowLevel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	hosts, err := e.c.Drive.UploadDomains(ctx)
	require.NoError(t, err)
	assert.Equal(t, e.srv.UploadServers(), hosts)

	err = e.c.Drive.UploadSliceV2(ctx, "ftp://upload.example", "p", 1, md5hex(nil), strings.NewReader("x"), 1)
	require.ErrorIs(t, err, pan123.ErrProtocol, "another scheme (a bare host is taken as https)")
	_, err = e.c.Drive.SingleUpload(ctx, hosts[0], &pan123.FileSingleUploadRequest{Filename: "a", Etag: md5hex(nil), Size: pan123.MaxSingleUploadSize + 1}, strings.NewReader(""))
	require.ErrorIs(t, err, pan123.ErrInvalidInput)
	_, err = e.c.Drive.SHA1Reuse(ctx, nil)
	require.ErrorIs(t, err, pan123.ErrInvalidInput)
	assert.Equal(t, []pan123test.Op{pan123test.OpAccessToken, pan123test.OpV2Domain}, ops(e.srv))

	// A whole single-step upload by hand.
	data := []byte("single-step body")
	r, err := e.c.Drive.SingleUpload(ctx, hosts[0], &pan123.FileSingleUploadRequest{Filename: "s.txt", Etag: md5hex(data), Size: int64(len(data))}, bytes.NewReader(data))
	require.NoError(t, err)
	assert.True(t, r.Completed)
	f, ok := e.srv.File(r.FileID)
	require.True(t, ok)
	assert.Equal(t, data, f.Data)

	// And a V2 session by hand: create, one slice, complete.
	cr, err := e.c.Drive.CreateV2(ctx, &pan123.FileCreateRequest{Filename: "v2.txt", Etag: md5hex(append(data, '!')), Size: int64(len(data)) + 1})
	require.NoError(t, err)
	require.NotEmpty(t, cr.Servers)
	body := append(append([]byte(nil), data...), '!')
	require.NoError(t, e.c.Drive.UploadSliceV2(ctx, cr.Servers[0], cr.PreuploadID, 1, md5hex(body), bytes.NewReader(body), int64(len(body))))
	done, err := e.c.Drive.CompleteV2(ctx, cr.PreuploadID)
	require.NoError(t, err)
	assert.True(t, done.Completed)
	assert.NotZero(t, done.FileID)

	// A wrong slice MD5 is the platform's business error, not retried.
	cr, err = e.c.Drive.CreateV2(ctx, &pan123.FileCreateRequest{Filename: "bad.txt", Etag: md5hex([]byte("xyz")), Size: 3})
	require.NoError(t, err)
	err = e.c.Drive.UploadSliceV2(ctx, cr.Servers[0], cr.PreuploadID, 1, md5hex([]byte("abc")), strings.NewReader("xyz"), 3)
	var ae *pan123.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 1, ae.Code)
}

// BenchmarkUploadProtocols compares V1 and V2 on a 256 MiB file against the
// fake in StoreNothing mode (16 MiB slices). "md5-given" skips the hashing
// pass (a fresh MD5 each round keeps instant upload away), so what differs
// is the transfer: V2 also hashes each slice just before posting it.
// "full" hashes the file too (a fresh fake each round).
func BenchmarkUploadProtocols(b *testing.B) {
	const size = 256 << 20
	dir := b.TempDir()
	path := dir + "/big.bin"
	f, err := os.Create(path)
	require.NoError(b, err)
	buf := make([]byte, 1<<20)
	for i := 0; i < size>>20; i++ {
		for j := range buf {
			buf[j] = byte(i*31 + j*7)
		}
		_, err = f.Write(buf)
		require.NoError(b, err)
	}
	require.NoError(b, f.Close())

	newClient := func(b *testing.B, s *pan123test.Server) *pan123.Client {
		c, err := pan123.New(s.ClientID, s.ClientSecret, pan123.WithBaseURL(s.URL), pan123.WithoutRateLimits())
		require.NoError(b, err)
		b.Cleanup(c.CloseIdleConnections)
		return c
	}
	for _, p := range []pan123.Protocol{pan123.V1, pan123.V2} {
		b.Run(protocolName(p)+"/md5-given", func(b *testing.B) {
			s := pan123test.NewServer(pan123test.WithStore(pan123test.StoreNothing))
			b.Cleanup(s.Close)
			up := pan123.NewUploader(newClient(b, s), pan123.WithProtocol(p))
			b.SetBytes(size)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				sum := md5.Sum([]byte(fmt.Sprint(i)))
				_, err := up.UploadFile(b.Context(), path, pan123.FileInput{Name: fmt.Sprintf("f%d.bin", i), MD5: hex.EncodeToString(sum[:])})
				require.NoError(b, err)
			}
		})
		b.Run(protocolName(p)+"/full", func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				s := pan123test.NewServer(pan123test.WithStore(pan123test.StoreNothing))
				up := pan123.NewUploader(newClient(b, s), pan123.WithProtocol(p))
				b.StartTimer()
				_, err := up.UploadFile(b.Context(), path, pan123.FileInput{})
				require.NoError(b, err)
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
		})
	}
}

// TestSingleStepReusesUploadHosts: domain is asked once for many
// single-step uploads through one Client, and again after a failed one.
func TestSingleStepReusesUploadHosts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	up := e.uploader(pan123.WithProtocol(pan123.Auto))
	for i := range 3 {
		_, err := up.Upload(t.Context(), bytes.NewReader([]byte(fmt.Sprint("file ", i))), pan123.FileInput{Name: fmt.Sprint("f", i)})
		require.NoError(t, err)
	}
	assert.Equal(t, 1, e.srv.Count(pan123test.OpV2Domain))
	assert.Equal(t, 3, e.srv.Count(pan123test.OpV2Single))

	e.srv.Inject(pan123test.Fault{Op: pan123test.OpV2Single, Times: -1, Status: 500, Body: htmlError(500)})
	_, err := up.Upload(t.Context(), bytes.NewReader([]byte("refused")), pan123.FileInput{Name: "r"})
	require.Error(t, err)
	e.srv.ClearFaults()
	_, err = up.Upload(t.Context(), bytes.NewReader([]byte("again")), pan123.FileInput{Name: "a"})
	require.NoError(t, err)
	assert.Equal(t, 2, e.srv.Count(pan123test.OpV2Domain), "the hosts are asked again after a failure")
}

// countingReaderAt counts the bytes read from it.
type countingReaderAt struct {
	*bytes.Reader
	n atomic.Int64
}

func (r *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.Reader.ReadAt(p, off)
	r.n.Add(int64(n))
	return n, err
}

// TestV2SliceMD5sFromTheHashingPass: V2 reads the source once for the
// hashes and once to send it, when the hashing pass knew the slice size
// (the last V2 create's answer); otherwise each slice is hashed again before
// its post.
func TestV2SliceMD5sFromTheHashingPass(t *testing.T) {
	t.Parallel()
	const slice = 64 << 10
	e := newEnv(t, pan123test.WithSliceSize(slice))
	up := e.uploader(pan123.WithProtocol(pan123.V2))
	for i, reads := range []int64{3, 2} { // the first upload learns the slice size
		_, data := writeRandom(t, t.TempDir(), 5*slice+100, uint64(40+i))
		src := &countingReaderAt{Reader: bytes.NewReader(data)}
		res, err := up.Upload(t.Context(), src, pan123.FileInput{Name: fmt.Sprintf("v2-%d.bin", i)})
		require.NoError(t, err)
		f, ok := e.srv.File(res.FileID)
		require.True(t, ok)
		require.True(t, bytes.Equal(data, f.Data))
		assert.Equal(t, reads*int64(len(data)), src.n.Load(), "upload %d: bytes read", i+1)
	}
}

// TestV2SliceSizeRememberedInCheckpointDir: a Client that has not made a V2
// upload yet (another process) guesses the slice size that the last V2
// create answered into the same checkpoint dir, so its hashing pass
// computes the right slice MD5s: the source is read twice, not three times.
func TestV2SliceSizeRememberedInCheckpointDir(t *testing.T) {
	t.Parallel()
	const slice = 64 << 10
	dir := t.TempDir()
	for i, reads := range []int64{3, 2} {
		e := newEnv(t, pan123test.WithSliceSize(slice)) // a fresh Client each time
		_, data := writeRandom(t, t.TempDir(), 5*slice+100, uint64(50+i))
		src := &countingReaderAt{Reader: bytes.NewReader(data)}
		_, err := e.uploader(pan123.WithProtocol(pan123.V2), pan123.WithCheckpointDir(dir)).Upload(t.Context(), src,
			pan123.FileInput{Name: fmt.Sprintf("v2-%d.bin", i)})
		require.NoError(t, err)
		assert.Equal(t, reads*int64(len(data)), src.n.Load(), "upload %d: bytes read", i+1)
	}
}
