package pan123test

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// State files: SaveState writes stateFile and one blob per distinct content
// under blobDir, named by its MD5.
const (
	stateFile    = "state.json"
	blobDir      = "blobs"
	stateVersion = 1
)

// savedState is what SaveState keeps: everything but presigned URLs,
// faults and the request log. Bytes are blob names, not JSON.
type savedState struct {
	Version  int
	NextID   int64
	Files    []savedFile
	Images   []savedFile
	Sessions []savedSession
	Finished []savedFinished
	Tokens   map[string]time.Time
	Issued   int
}

type savedFile struct {
	File        // Data is always nil here
	Blob string // the bytes' blob; "" when none are kept
}

type savedSession struct {
	ID, Parent, Name, Etag string
	Kind                   int
	Size, SliceSize        int64
	Duplicate              int
	Created                time.Time
	Parts                  []savedPart
	Verifying              bool
	Polls                  int
	Blob                   string // the assembled file, once verified
}

type savedPart struct {
	SliceNo int
	Size    int64
	MD5     string
	Blob    string
}

type savedFinished struct {
	ID     string
	Kind   int
	FileID string // an int64 in decimal for the file family
}

// SaveState writes the fake's files and folders (both families), live
// upload sessions with the slices received, completion results and live
// access tokens to dir, which it creates if needed; [Server.LoadState]
// restores them, e.g. in the next run of a standalone fake. Bytes kept
// under [StoreBytes] go to dir/blobs, one file per distinct content named by
// its MD5; the rest to dir/state.json, replaced atomically. Presigned URLs,
// faults and the request log are not kept.
func (s *Server) SaveState(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, blobDir), 0o755); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := savedState{Version: stateVersion, NextID: s.nextID, Tokens: s.tokens, Issued: s.issued}
	used := map[string]bool{}
	blob := func(b []byte) (string, error) {
		if b == nil {
			return "", nil
		}
		sum := md5.Sum(b)
		name := hex.EncodeToString(sum[:])
		used[name] = true
		path := filepath.Join(dir, blobDir, name)
		if fi, err := os.Stat(path); err == nil && fi.Size() == int64(len(b)) {
			return name, nil // the same content is there already
		}
		return name, writeAtomic(path, b)
	}
	for _, t := range []*tree{s.files, s.images} {
		var out []savedFile
		for _, k := range t.order {
			f := copyFile(t.nodes[k])
			name, err := blob(f.Data)
			if err != nil {
				return err
			}
			f.Data = nil
			out = append(out, savedFile{File: f, Blob: name})
		}
		if t.oss {
			st.Images = out
		} else {
			st.Files = out
		}
	}
	for _, ss := range s.sessions {
		sv := savedSession{ID: ss.id, Kind: int(ss.kind), Parent: ss.parent, Name: ss.name, Size: ss.size, Etag: ss.etag,
			SliceSize: ss.sliceSize, Duplicate: ss.duplicate, Created: ss.created, Verifying: ss.verifying, Polls: ss.polls}
		var err error
		if sv.Blob, err = blob(ss.data); err != nil {
			return err
		}
		for n, p := range ss.parts {
			name, err := blob(p.data)
			if err != nil {
				return err
			}
			sv.Parts = append(sv.Parts, savedPart{SliceNo: n, Size: p.size, MD5: p.md5, Blob: name})
		}
		st.Sessions = append(st.Sessions, sv)
	}
	for id, f := range s.finished {
		st.Finished = append(st.Finished, savedFinished{ID: id, Kind: int(f.kind), FileID: fmt.Sprint(f.fileID)})
	}
	b, err := json.MarshalIndent(st, "", "\t")
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, stateFile), b); err != nil {
		return err
	}
	// Blobs nothing refers to any more (overwritten files, finished sessions).
	entries, err := os.ReadDir(filepath.Join(dir, blobDir))
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !used[e.Name()] {
			_ = os.Remove(filepath.Join(dir, blobDir, e.Name()))
		}
	}
	return nil
}

// LoadState replaces the fake's files, folders, upload sessions, completion
// results and tokens with those [Server.SaveState] wrote to dir. A dir
// without a saved state leaves the fake empty and is not an error. Call it
// before the fake gets requests.
func (s *Server) LoadState(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var st savedState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("pan123test: %s: %w", filepath.Join(dir, stateFile), err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("pan123test: %s: state version %d, want %d", filepath.Join(dir, stateFile), st.Version, stateVersion)
	}
	read := func(name string) ([]byte, error) {
		if name == "" {
			return nil, nil
		}
		return os.ReadFile(filepath.Join(dir, blobDir, filepath.Base(name)))
	}
	files, images := newTree(false), newTree(true)
	for _, t := range []*tree{files, images} {
		list := st.Files
		if t.oss {
			list = st.Images
		}
		for _, sf := range list {
			f := sf.File
			if f.Data, err = read(sf.Blob); err != nil {
				return err
			}
			k := t.key(&f)
			t.nodes[k] = &f
			t.order = append(t.order, k)
		}
	}
	sessions := map[string]*session{}
	for _, sv := range st.Sessions {
		ss := &session{id: sv.ID, kind: kind(sv.Kind), parent: sv.Parent, name: sv.Name, size: sv.Size, etag: sv.Etag,
			sliceSize: sv.SliceSize, duplicate: sv.Duplicate, created: sv.Created, parts: map[int]part{},
			verifying: sv.Verifying, polls: sv.Polls}
		if ss.data, err = read(sv.Blob); err != nil {
			return err
		}
		for _, p := range sv.Parts {
			data, err := read(p.Blob)
			if err != nil {
				return err
			}
			ss.parts[p.SliceNo] = part{size: p.Size, md5: p.MD5, data: data}
		}
		sessions[ss.id] = ss
	}
	finishedIDs := map[string]finished{}
	for _, f := range st.Finished {
		var id any = f.FileID
		if kind(f.Kind) != kindOSS {
			if id, err = strconv.ParseInt(f.FileID, 10, 64); err != nil {
				return fmt.Errorf("pan123test: saved file ID %q: %w", f.FileID, err)
			}
		}
		finishedIDs[f.ID] = finished{kind: kind(f.Kind), fileID: id}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files, s.images, s.sessions, s.finished = files, images, sessions, finishedIDs
	s.nextID = max(st.NextID, firstFileID-1)
	s.tokens, s.issued = st.Tokens, st.Issued
	if s.tokens == nil {
		s.tokens = map[string]time.Time{}
	}
	return nil
}

// writeAtomic writes b to path through a temp file and a rename, so that a
// reader never sees half of it.
func writeAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
