package pan123_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// SingleUpload takes sizes from 1 byte to MaxSingleUploadSize inclusive;
// anything else is refused before a request is sent.
func TestSingleUploadSizeBounds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	server := e.srv.UploadServers()[0]
	for _, size := range []int64{0, pan123.MaxSingleUploadSize + 1} {
		_, err := e.c.Drive.SingleUpload(t.Context(), server, &pan123.FileSingleUploadRequest{Filename: "s.bin", Etag: md5hex(nil), Size: size}, bytes.NewReader(nil))
		assert.ErrorIs(t, err, pan123.ErrInvalidInput, "size %d", size)
	}
	assert.Zero(t, e.tr.requests.Load(), "no request for a size out of bounds")

	// The largest size is valid: the request goes out (and fails, as the
	// body is far shorter than it says).
	_, err := e.c.Drive.SingleUpload(t.Context(), server, &pan123.FileSingleUploadRequest{Filename: "s.bin", Etag: md5hex(nil), Size: pan123.MaxSingleUploadSize}, bytes.NewReader([]byte("x")))
	assert.Error(t, err)
	assert.NotErrorIs(t, err, pan123.ErrInvalidInput)
	assert.Positive(t, e.tr.requests.Load(), "the request was sent")
}

// An upload server's answer of exactly 1 MiB is read; only a longer one is
// refused as oversized.
func TestUploadServerAnswerCapIsOneMiB(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const answer = `{"code":0,"message":"ok","data":{"fileID":5,"completed":true}}`
	data := []byte("single")
	req := &pan123.FileSingleUploadRequest{Filename: "s.bin", Etag: md5hex(data), Size: int64(len(data))}
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpV2Single, Body: answer + strings.Repeat(" ", 1<<20-len(answer))})
	r, err := e.c.Drive.SingleUpload(t.Context(), e.srv.UploadServers()[0], req, bytes.NewReader(data))
	if assert.NoError(t, err) {
		assert.EqualValues(t, 5, r.FileID)
	}
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpV2Single, Body: answer + strings.Repeat(" ", 1<<20+1-len(answer))})
	_, err = e.c.Drive.SingleUpload(t.Context(), e.srv.UploadServers()[0], req, bytes.NewReader(data))
	assert.Error(t, err)
}

// The slice size a V2 create answered is remembered in the checkpoint
// dir; an instant upload, whose answer has no slice size, keeps it.
func TestV2SliceSizeHintSurvivesAnInstantUpload(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dir := t.TempDir()
	path, _ := writeRandom(t, t.TempDir(), 2*testSlice+3, 49)
	up := e.uploader(pan123.WithProtocol(pan123.V2), pan123.WithCheckpointDir(dir))
	_, err := up.UploadFile(t.Context(), path, pan123.FileInput{Name: "first.bin"})
	require.NoError(t, err)
	hint := filepath.Join(dir, "v2-slice-size")
	b, err := os.ReadFile(hint)
	require.NoError(t, err)
	require.Equal(t, strconv.Itoa(testSlice), string(b))

	res, err := up.UploadFile(t.Context(), path, pan123.FileInput{Name: "second.bin"})
	require.NoError(t, err)
	require.True(t, res.Reused)
	b, err = os.ReadFile(hint)
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(testSlice), string(b))
}

// stripServers drops "servers" from V2 create answers.
type stripServers struct{ next http.RoundTripper }

func (s stripServers) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	if err != nil || r.URL.Path != string(pan123test.OpV2Create) {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var env map[string]any
	if json.Unmarshal(b, &env) == nil {
		if d, ok := env["data"].(map[string]any); ok {
			delete(d, "servers")
			b, _ = json.Marshal(env)
		}
	}
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// A V2 create answer without servers is completed by the domain endpoint's
// list, and the upload goes on.
func TestV2CreateWithoutServersAsksTheDomain(t *testing.T) {
	t.Parallel()
	srv := pan123test.NewServer(pan123test.WithSliceSize(testSlice))
	t.Cleanup(srv.Close)
	tr := stripServers{http.DefaultTransport.(*http.Transport).Clone()}
	c, err := pan123.New(srv.ClientID, srv.ClientSecret, pan123.WithBaseURL(srv.URL), pan123.WithHTTPClient(&http.Client{Transport: tr}),
		pan123.WithoutRateLimits(), pan123.WithRetry(3, time.Millisecond, 2*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	path, data := writeRandom(t, t.TempDir(), testSlice+5, 50)
	res, err := pan123.NewUploader(c, pan123.WithProtocol(pan123.V2)).UploadFile(t.Context(), path, pan123.FileInput{Name: "d.bin"})
	require.NoError(t, err)
	f, ok := srv.File(res.FileID)
	require.True(t, ok)
	assert.Equal(t, data, f.Data)
	assert.Equal(t, 1, srv.Count(pan123test.OpV2Domain))
}

// A single-step upload goes to the first upload server first.
func TestSingleStepStartsAtTheFirstServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pan123test.WithUploadServers(3))
	data := []byte("a small file, sent in one request")
	res, err := e.uploader(pan123.WithProtocol(pan123.Auto)).Upload(t.Context(), bytes.NewReader(data), pan123.FileInput{Name: "one.txt"})
	require.NoError(t, err)
	f, ok := e.srv.File(res.FileID)
	require.True(t, ok)
	assert.Equal(t, data, f.Data)
	var servers []int
	for _, r := range e.srv.Requests() {
		if r.Op == pan123test.OpV2Single {
			servers = append(servers, r.Server)
		}
	}
	assert.Equal(t, []int{1}, servers)
}

// A single-step answer "completed" without a file ID is not a stored file:
// the error says what the platform answered.
func TestSingleStepCompletedWithoutFileID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpV2Single, Body: `{"code":0,"message":"ok","data":{"fileID":0,"completed":true},"x-traceID":"t"}`})
	_, err := e.uploader(pan123.WithProtocol(pan123.Auto)).Upload(t.Context(), bytes.NewReader([]byte("small")), pan123.FileInput{Name: "zero.txt"})
	require.ErrorIs(t, err, pan123.ErrProtocol)
	assert.Contains(t, err.Error(), "single-step upload answered completed=true, fileID=0")
}

// A single-step upload refused outright (a business code) is not looked
// for in the folder: the refusal is clear, nothing was stored.
func TestSingleStepClearRefusalIsNotReconciled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpV2Single, Code: pan123test.CodeBadRequest, Times: -1})
	_, err := e.uploader(pan123.WithProtocol(pan123.Auto)).Upload(t.Context(), bytes.NewReader([]byte("small")), pan123.FileInput{Name: "no.txt"})
	require.Error(t, err)
	assert.Zero(t, e.srv.Count(pan123test.OpFileList), "the folder was listed")
}

// After an attempt whose answer was lost (and the folder could not be
// listed), a same-name refusal of the next attempt means the first one
// stored the file: it is found in the folder and the upload succeeds.
func TestSingleStepSameNameAfterALostAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpV2Single, Status: http.StatusBadGateway, Body: "<html>502</html>", Handle: true})
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpFileList, Status: http.StatusInternalServerError, Times: 6}) // every attempt of the first listing (newEnv: 6)
	data := []byte("stored on the first attempt")
	res, err := e.uploader(pan123.WithProtocol(pan123.Auto)).Upload(t.Context(), bytes.NewReader(data), pan123.FileInput{Name: "lost.txt"})
	require.NoError(t, err)
	f, ok := e.srv.File(res.FileID)
	require.True(t, ok)
	assert.Equal(t, data, f.Data)
	assert.Equal(t, 2, e.srv.Count(pan123test.OpV2Single))
}

// A single-step upload makes at most the attempts WithSliceRetry allows,
// and takes its bytes back out of the progress when it gives up.
func TestSingleStepAttemptBudget(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.Inject(pan123test.Fault{Op: pan123test.OpV2Single, Status: http.StatusServiceUnavailable, Times: -1})
	var log progressLog
	_, err := e.uploader(pan123.WithProtocol(pan123.Auto), pan123.WithSliceRetry(2, time.Millisecond, time.Millisecond), pan123.WithProgress(log.fn)).
		Upload(t.Context(), bytes.NewReader([]byte("small")), pan123.FileInput{Name: "busy.txt"})
	require.Error(t, err)
	assert.Equal(t, 2, e.srv.Count(pan123test.OpV2Single))
	log.mu.Lock()
	defer log.mu.Unlock()
	last := log.all[len(log.all)-1]
	assert.Zero(t, last.Done, "last report %+v", last)
}
