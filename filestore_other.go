//go:build !(unix && !aix) && !windows

package pan123

import (
	"errors"
	"os"
)

// tryLock fails: this system has no file lock the store can use, so
// processes sharing a FileTokenStore renew on their own.
func tryLock(f *os.File) (bool, error) { return false, errors.ErrUnsupported }

func unlock(f *os.File) error { return errors.ErrUnsupported }

func replaceFile(tmp, path string) error { return os.Rename(tmp, path) }
