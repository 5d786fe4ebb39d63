// Package racemain is the TestMain of the repository's race-built test
// binaries: it ends a passing run without the race detector's one-second
// sleep at exit (GORACE's atexit_sleep_ms, 1000 by default, taken whenever
// other goroutines are alive, as they always are), a second of wall time
// per test binary of the README's test command. Nothing is lost: the
// testing package fails a test during which a race was seen, and a run with
// a race outside any test, before Run returns.
package racemain

import (
	"os"
	"syscall"
	"testing"
)

// Run runs m and exits with its code, skipping the exit sleep when the run
// passed and collects no coverage.
func Run(m *testing.M) {
	code := m.Run()
	if code == 0 && testing.CoverMode() == "" {
		syscall.Exit(0) // not os.Exit: that runs the race detector's finalizer
	}
	os.Exit(code)
}
