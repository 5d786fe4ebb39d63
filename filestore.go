package pan123

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// FileTokenStore shares the access token between the processes of one
// machine through a file. It is a [TokenLeaser]: when the token must be
// renewed, an OS file lock (flock on Unix, LockFileEx on Windows) on a
// second file, the token file's path plus ".lock", lets one process mint
// while the others wait and load what it saved. The lock is released when
// its holder exits, even if it is killed. Keep the file on a local file
// system: over NFS, a lock may not exclude the other clients of one
// process. On systems without such locks (AIX, Plan 9, WebAssembly)
// TryLease fails and every process renews on its own. It is safe for
// concurrent use.
type FileTokenStore struct {
	path string
}

// fileLeaseTTL is how long processes wait for a file lock whose holder is
// alive but does not release it, before they renew without it (twice this).
const fileLeaseTTL = 30 * time.Second

// NewFileTokenStore returns a store that keeps the token in the file at
// path, as JSON with mode 0600 (the token grants access to the account).
// Its directory must exist. Pass it to [WithTokenStore].
func NewFileTokenStore(path string) *FileTokenStore {
	return &FileTokenStore{path: path}
}

// Load reads the stored token; a missing file is a zero Token.
func (s *FileTokenStore) Load(ctx context.Context) (Token, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return Token{}, nil
	}
	if err != nil {
		return Token{}, err
	}
	var t Token
	return t, json.Unmarshal(b, &t)
}

// Save replaces the stored token atomically: it writes a temporary file in
// the same directory and renames it over the old one, so that a reader
// never sees half a token.
func (s *FileTokenStore) Save(ctx context.Context, t Token) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(s.path), filepath.Base(s.path)+".*.tmp") // mode 0600
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = replaceFile(f.Name(), s.path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// TryLease takes the lock on the lock file without waiting; it returns a
// nil lease when another process (or another store value) holds it.
func (s *FileTokenStore) TryLease(ctx context.Context) (TokenLease, error) {
	f, err := os.OpenFile(s.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	ok, err := tryLock(f)
	if !ok {
		_ = f.Close()
		return nil, err
	}
	return &fileLease{store: s, f: f}, nil
}

// LeaseTTL returns 30 seconds. The OS releases a file lock as soon as its
// holder exits, so this only bounds the wait for a holder that is alive
// but stuck.
func (s *FileTokenStore) LeaseTTL() time.Duration { return fileLeaseTTL }

// fileLease is a held file lock. While its holder lives, the lock cannot
// lapse, so Save needs no fencing.
type fileLease struct {
	store *FileTokenStore
	f     *os.File
}

func (l *fileLease) Save(ctx context.Context, t Token) error { return l.store.Save(ctx, t) }

func (l *fileLease) Release(ctx context.Context) error {
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}
