package pan123test_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-pan123/pan123/pan123test"
)

// SaveState and LoadState carry files, folders, a half-done upload session
// and the tokens over to a new server; the bytes live in blob files.
func TestStateSurvivesARestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s1 := newServer(t, pan123test.WithSliceSize(1000), pan123test.WithImageSliceSize(1000))
	c1 := newClient(t, s1)
	done := payload(2500, 1)
	c1.upload(families[0], "done.bin", done)
	c1.upload(families[1], "cat.png", payload(1200, 2))
	dirData := s1.SeedFile(pan123test.File{Name: "backups", Dir: true})
	half := payload(3000, 3)
	var cr createData
	c1.data(pan123test.OpCreate, families[0].createBody("half.bin", half), &cr)
	var u urlData
	c1.data(pan123test.OpGetUploadURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": 1}, &u)
	if status, _ := c1.put(u.PresignedURL, sliceOf(half, 1000, 1), nil); status != 200 {
		t.Fatalf("PUT: %d", status)
	}
	if err := s1.SaveState(dir); err != nil {
		t.Fatal(err)
	}
	s1.Close()
	blobs, _ := os.ReadDir(filepath.Join(dir, "blobs"))
	if len(blobs) == 0 {
		t.Fatal("no blob files: the bytes went elsewhere")
	}
	if st, _ := os.ReadFile(filepath.Join(dir, "state.json")); bytes.Contains(st, []byte("Data\": \"")) || len(st) > 8<<10 {
		t.Errorf("state.json holds the bytes (%d bytes)", len(st))
	}

	s2 := newServer(t, pan123test.WithSliceSize(1000), pan123test.WithImageSliceSize(1000))
	if err := s2.LoadState(dir); err != nil {
		t.Fatal(err)
	}
	files := s2.Files()
	if len(files) != 2 || files[0].Name != "done.bin" || !bytes.Equal(files[0].Data, done) || files[1].ID != dirData.ID || !files[1].Dir {
		t.Fatalf("files after restart: %v", files)
	}
	if imgs := s2.Images(); len(imgs) != 1 || imgs[0].Name != "cat.png" || len(imgs[0].Data) != 1200 {
		t.Fatalf("images after restart: %v", imgs)
	}
	// The token of the first run still works, and the session goes on.
	c2 := newClient(t, s2)
	c2.token = c1.token
	if got := s2.Parts(cr.PreuploadID); len(got) != 1 || got[0].SliceNo != 1 {
		t.Fatalf("parts after restart: %+v", got)
	}
	for n := 2; n <= 3; n++ {
		c2.data(pan123test.OpGetUploadURL, map[string]any{"preuploadID": cr.PreuploadID, "sliceNo": n}, &u)
		if status, _ := c2.put(u.PresignedURL, sliceOf(half, 1000, n), nil); status != 200 {
			t.Fatalf("PUT %d: %d", n, status)
		}
	}
	var cd completeData
	c2.data(pan123test.OpComplete, map[string]any{"preuploadID": cr.PreuploadID}, &cd)
	if !cd.Completed {
		t.Fatalf("complete: %+v", cd)
	}
	if f := stored(t, s2, families[0], cd.FileID); !bytes.Equal(f.Data, half) || f.ID <= files[1].ID {
		t.Errorf("completed after restart: %v (IDs must not repeat)", f)
	}
	// A directory without state is an empty fake.
	if err := newServer(t).LoadState(t.TempDir()); err != nil {
		t.Errorf("LoadState of an empty dir: %v", err)
	}
}
