// Package sharetest runs many OS processes that share one pan123.TokenStore
// against a pan123test server, for the tests of the token stores. The test
// binary re-executes itself: the children run the same test function, whose
// first statement is a call to [Child].
package sharetest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// Environment of a child process.
const (
	envRole  = "PAN123_SHARETEST_ROLE" // "client" or "holder"
	envURL   = "PAN123_SHARETEST_URL"
	envStore = "PAN123_SHARETEST_STORE"
	// EnvNoLease makes the children use the store without its lease (as a
	// plain Load/Save store), to measure the mint storm the lease prevents.
	EnvNoLease = "PAN123_SHARETEST_NOLEASE"
)

// Lines a child prints on stdout; other output is ignored.
const (
	lineReady = "sharetest:ready" // client: first call done, waiting for "go"
	lineHeld  = "sharetest:held"  // holder: lease taken
	lineDone  = "sharetest:done"  // client: second call done
)

// childTimeout bounds a child's whole run and the parent's waits.
const childTimeout = 60 * time.Second

// Config describes a run.
type Config struct {
	Test  string // the test function the children run, e.g. "TestFileTokenStoreProcesses"
	Store string // argument of the store constructor, the same in every process
	Procs int    // client processes
	// KillHolder makes one more child take the lease first and be killed
	// (SIGKILL) once every client has met the expired token.
	KillHolder bool
}

// Result is what a run measured.
type Result struct {
	Minted       int       // access tokens issued by the fake after the expiry
	ReplacedUses int       // requests that carried a token logged out by newer ones
	Failed       []string  // clients that failed, with their stderr
	Held, Killed time.Time // when the holder took the lease, and was killed
	MintedAt     time.Time // when the first new token was asked for (zero if none)
}

// Child does the work of a child process and exits when the test binary
// runs as one; otherwise it returns at once. newStore builds the store
// from [Config.Store].
func Child(newStore func(arg string) pan123.TokenStore) {
	role := os.Getenv(envRole)
	if role == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	if err := runChild(ctx, role, newStore(os.Getenv(envStore))); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// plainStore hides the lease of a store.
type plainStore struct{ pan123.TokenStore }

func runChild(ctx context.Context, role string, store pan123.TokenStore) error {
	stdin := bufio.NewReader(os.Stdin)
	if role == "holder" {
		l := store.(pan123.TokenLeaser)
		for {
			lease, err := l.TryLease(ctx)
			if err != nil {
				return err
			}
			if lease != nil {
				break
			}
			select { // bounded: a lease never had must not keep an orphaned child alive
			case <-ctx.Done():
				return fmt.Errorf("holder: no lease: %w", ctx.Err())
			case <-time.After(time.Millisecond):
			}
		}
		fmt.Println(lineHeld)
		_, _ = stdin.ReadString('\n') // killed while waiting here
		return fmt.Errorf("holder was not killed")
	}
	if os.Getenv(EnvNoLease) != "" {
		store = plainStore{store}
	}
	c, err := pan123.New(pan123test.DefaultClientID, pan123test.DefaultClientSecret,
		pan123.WithBaseURL(os.Getenv(envURL)),
		pan123.WithTokenStore(store),
		pan123.WithoutRateLimits(),
		pan123.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		return err
	}
	if _, err := c.Drive.List(ctx, 0, 0, 100); err != nil {
		return fmt.Errorf("first call: %w", err)
	}
	fmt.Println(lineReady)
	if _, err := stdin.ReadString('\n'); err != nil {
		return err
	}
	if _, err := c.Drive.List(ctx, 0, 0, 100); err != nil {
		return fmt.Errorf("call after the expiry: %w", err)
	}
	fmt.Println(lineDone)
	return nil
}

// child is a started child process.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr strings.Builder
	lines  chan string   // protocol lines from stdout
	exited chan struct{} // closed when Wait returned
	err    error         // of Wait
}

// Run starts the fake and the children, expires every token once all
// clients have made a first call with the stored one, and waits for them.
// store is the parent's own instance of the shared store; Run saves a
// ready-made token in it first.
func Run(t *testing.T, cfg Config, store pan123.TokenStore) Result {
	t.Helper()
	srv := pan123test.NewServer(pan123test.WithTokenLimit(3))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), childTimeout)
	defer cancel()
	if err := store.Save(ctx, pan123.Token{AccessToken: srv.IssueToken()}); err != nil {
		t.Fatalf("seed the store: %v", err)
	}

	clients := make([]*child, cfg.Procs)
	for i := range clients {
		clients[i] = start(t, cfg, srv.URL, "client")
	}
	for _, c := range clients {
		expect(t, ctx, c, lineReady)
	}
	if got := srv.TokensIssued(); got != 0 {
		t.Fatalf("%d tokens minted before the expiry; want 0 (the stored one is shared)", got)
	}
	var res Result
	var holder *child
	if cfg.KillHolder { // once the clients are up, so that Held is close to their renewal
		holder = start(t, cfg, srv.URL, "holder")
		expect(t, ctx, holder, lineHeld)
		res.Held = time.Now()
	}
	srv.ResetRequests()
	srv.ExpireTokens()
	for _, c := range clients {
		_, _ = io.WriteString(c.stdin, "go\n")
	}
	if holder != nil {
		// Every client has met the expired token (code 401) and is renewing.
		for count401(srv) < cfg.Procs {
			select {
			case <-ctx.Done():
				t.Fatalf("clients did not all meet the expired token: %v", ctx.Err())
			case <-time.After(2 * time.Millisecond):
			}
		}
		res.Killed = time.Now()
		_ = holder.cmd.Process.Kill()
		<-holder.exited
	}
	for i, c := range clients {
		select {
		case <-c.exited:
		case <-ctx.Done():
			t.Fatalf("client %d did not finish: %v", i, ctx.Err())
		}
		if c.err != nil {
			res.Failed = append(res.Failed, fmt.Sprintf("client %d: %v: %s", i, c.err, c.stderr.String()))
		}
	}
	res.Minted = srv.TokensIssued()
	res.ReplacedUses = srv.ReplacedTokenUses()
	for _, r := range srv.Requests() {
		if r.Op == pan123test.OpAccessToken {
			res.MintedAt = r.Time
			break
		}
	}
	return res
}

func count401(srv *pan123test.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Code == 401 {
			n++
		}
	}
	return n
}

// start runs the test binary as a child in role.
func start(t *testing.T, cfg Config, url, role string) *child {
	t.Helper()
	c := &child{
		cmd:    exec.Command(os.Args[0], "-test.run=^"+cfg.Test+"$", "-test.count=1"),
		lines:  make(chan string, 4),
		exited: make(chan struct{}),
	}
	c.cmd.Env = append(os.Environ(), envRole+"="+role, envURL+"="+url, envStore+"="+cfg.Store,
		// A race-enabled child would sleep a second at exit.
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	c.cmd.Stderr = &syncWriter{w: &c.stderr}
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "sharetest:") {
				c.lines <- line
			}
		}
		c.err = c.cmd.Wait() // after stdout is drained, as Wait requires
		close(c.exited)
	}()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.exited
	})
	return c
}

// expect waits for line from c.
func expect(t *testing.T, ctx context.Context, c *child, line string) {
	t.Helper()
	select {
	case got := <-c.lines:
		if got != line {
			t.Fatalf("child said %q, want %q", got, line)
		}
	case <-c.exited:
		t.Fatalf("child exited before %q: %v: %s", line, c.err, c.stderr.String())
	case <-ctx.Done():
		t.Fatalf("no %q from child: %v", line, ctx.Err())
	}
}

// syncWriter guards a strings.Builder written by exec's copying goroutine.
type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
