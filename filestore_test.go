package pan123_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/internal/sharetest"
	"github.com/go-pan123/pan123/pan123test"
)

// Two clients, as if in two processes, share the token through a file: the
// second one uses the token the first one minted and saved.
func ExampleNewFileTokenStore() {
	srv := pan123test.NewServer() // the fake platform; in real use, leave out WithBaseURL
	defer srv.Close()
	dir, err := os.MkdirTemp("", "pan123-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "token.json")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	for range 2 {
		c, err := pan123.New(srv.ClientID, srv.ClientSecret,
			pan123.WithBaseURL(srv.URL),
			pan123.WithTokenStore(pan123.NewFileTokenStore(path)))
		if err != nil {
			panic(err)
		}
		if _, err := c.Drive.List(ctx, 0, 0, 100); err != nil {
			panic(err)
		}
	}
	fmt.Println("tokens minted:", srv.TokensIssued())
	// Output: tokens minted: 1
}

func newFileStore(path string) pan123.TokenStore { return pan123.NewFileTokenStore(path) }

// runFileProcesses runs cfg with a file store in a fresh directory.
func runFileProcesses(t *testing.T, cfg sharetest.Config) sharetest.Result {
	cfg.Store = filepath.Join(t.TempDir(), "token.json")
	res := sharetest.Run(t, cfg, pan123.NewFileTokenStore(cfg.Store))
	t.Logf("%d processes, lease=%v: %d tokens minted, %d requests with a replaced token, %d failed",
		cfg.Procs, os.Getenv(sharetest.EnvNoLease) == "", res.Minted, res.ReplacedUses, len(res.Failed))
	return res
}

// Eight processes (more than the platform's three live tokens) meet the
// expired token at once: one mints, the others load what it saved. With PAN123_SHARETEST_NOLEASE=1 the children use the
// file as a plain Load/Save store, and the test shows the storm.
func TestFileTokenStoreProcesses(t *testing.T) {
	sharetest.Child(newFileStore)
	t.Parallel() // waits on its children
	res := runFileProcesses(t, sharetest.Config{Test: "TestFileTokenStoreProcesses", Procs: 8})
	require.Empty(t, res.Failed)
	require.Equal(t, 1, res.Minted, "tokens minted for 8 processes")
	require.Zero(t, res.ReplacedUses, "requests with a token the platform had replaced")
}

// A process killed while it holds the lock delays nobody: the OS releases
// the lock at once, and one of the waiting processes mints.
func TestFileTokenStoreHolderKilled(t *testing.T) {
	sharetest.Child(newFileStore)
	t.Parallel() // waits on its children
	res := runFileProcesses(t, sharetest.Config{Test: "TestFileTokenStoreHolderKilled", Procs: 4, KillHolder: true})
	require.Empty(t, res.Failed)
	require.Equal(t, 1, res.Minted)
	require.Zero(t, res.ReplacedUses)
	delay := res.MintedAt.Sub(res.Killed)
	t.Logf("new token asked for %v after the holder was killed", delay)
	require.GreaterOrEqual(t, delay, time.Duration(0), "nobody minted while the holder lived")
	require.Less(t, delay, 5*time.Second)
}
