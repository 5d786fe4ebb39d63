package pan123

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// fileStamp is what says that a file did not change since its MD5 was
// computed: its modification time and, where the system has them, its
// inode and change time (which no tool can set back).
type fileStamp struct {
	MTime int64  `json:"m"` // Unix nanoseconds
	Inode uint64 `json:"i,omitempty"`
	CTime int64  `json:"c,omitempty"` // Unix nanoseconds
}

// hashEntry is one line of the hash cache.
type hashEntry struct {
	Path string `json:"p"`
	Size int64  `json:"s"`
	fileStamp
	MD5 string `json:"h"`
}

// hashCache remembers file MD5s across runs in a file of JSON lines, one
// appended per new MD5: a run killed mid-way loses at most a partial last
// line, which loading skips. The file is rewritten without the stale lines
// when they outnumber the live ones. A nil *hashCache remembers nothing.
type hashCache struct {
	mu  sync.Mutex
	m   map[string]hashEntry
	f   *os.File
	err error // the first write error; later writes are skipped
}

func openHashCache(file string) (*hashCache, error) {
	if file == "" {
		return nil, nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, wrapf(err, "hash cache")
	}
	c := &hashCache{m: map[string]hashEntry{}}
	lines := 0
	if f, err := os.Open(file); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var e hashEntry
			if json.Unmarshal(sc.Bytes(), &e) == nil && e.Path != "" && len(e.MD5) == 32 {
				c.m[e.Path] = e
				lines++
			}
		}
		f.Close()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, wrapf(err, "hash cache")
	}
	if lines > 2*len(c.m)+64 {
		if err := c.rewrite(file); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, wrapf(err, "hash cache")
	}
	c.f = f
	return c, nil
}

// rewrite replaces file with the live entries only (temp file + rename).
func (c *hashCache) rewrite(file string) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+tempSuffix+"*")
	if err != nil {
		return wrapf(err, "hash cache")
	}
	w := bufio.NewWriter(tmp)
	enc := json.NewEncoder(w)
	for _, e := range c.m {
		err = errors.Join(err, enc.Encode(e))
	}
	err = errors.Join(err, w.Flush(), tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return wrapf(err, "hash cache")
	}
	return nil
}

// get returns the remembered MD5 of the file at abs if it did not change.
func (c *hashCache) get(abs string, size int64, st fileStamp) string {
	if c == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[abs]
	if !ok || e.Size != size || e.fileStamp != st || st.MTime == 0 {
		return ""
	}
	return e.MD5
}

// put remembers the MD5 of the file at abs.
func (c *hashCache) put(abs string, size int64, st fileStamp, sum string) {
	if c == nil || sum == "" {
		return
	}
	e := hashEntry{Path: abs, Size: size, fileStamp: st, MD5: sum}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[abs] == e || c.err != nil {
		return
	}
	c.m[abs] = e
	b, err := json.Marshal(e)
	if err == nil {
		_, err = c.f.Write(append(b, '\n'))
	}
	c.err = err
}

func (c *hashCache) close() {
	if c != nil {
		c.f.Close()
	}
}
