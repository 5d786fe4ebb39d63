//go:build windows

package pan123

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// tryLock takes an exclusive lock on the first byte of f without waiting;
// false means another handle holds it.
func tryLock(f *os.File) (bool, error) {
	err := windows.LockFileEx(windows.Handle(f.Fd()),
		windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, new(windows.Overlapped))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION):
		return false, nil
	}
	return false, err
}

func unlock(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, new(windows.Overlapped))
}

// replaceFile renames tmp over path. Windows refuses to replace a file that
// another process is reading at that instant, so it tries again a few
// times, 5 ms apart (at most 100 ms in all).
func replaceFile(tmp, path string) error {
	var err error
	for range 20 {
		if err = os.Rename(tmp, path); err == nil {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return err
}
