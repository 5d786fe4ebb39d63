package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/internal/sharetest"
	"github.com/go-pan123/pan123/redisstore"
)

// startRedis runs a redis-server of its own on a free loopback port for
// the test and returns its address. Without redis-server it skips the test,
// except in CI (CI=true), where it fails.
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "redis-server not found: install it (Debian: apt-get install redis-server) to run the Redis store tests"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	var lastErr error
	for range 3 { // the free port may be taken between Close and redis's bind
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		_, port, _ := net.SplitHostPort(addr)
		cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		if lastErr = waitPing(t, addr, exited); lastErr == nil {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
			})
			return addr
		}
		_ = cmd.Process.Kill()
		<-exited
		lastErr = fmt.Errorf("%w: %s", lastErr, out.String())
	}
	t.Fatalf("start redis-server: %v", lastErr)
	return ""
}

// waitPing waits until the server at addr answers PING, or exits.
func waitPing(t *testing.T, addr string, exited <-chan struct{}) error {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		err := rdb.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("redis-server exited")
		case <-ctx.Done():
			return err
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// storeArg and newStore carry a store's address, key and lease TTL to the
// child processes.
func storeArg(addr, key string, ttl time.Duration) string {
	return addr + " " + key + " " + ttl.String()
}

func newStore(arg string) pan123.TokenStore {
	f := strings.Fields(arg)
	ttl, err := time.ParseDuration(f[2])
	if err != nil {
		panic(err)
	}
	return redisstore.New(redis.NewClient(&redis.Options{Addr: f[0]}), f[1], redisstore.WithLeaseTTL(ttl))
}

func runProcesses(t *testing.T, cfg sharetest.Config) sharetest.Result {
	res := sharetest.Run(t, cfg, newStore(cfg.Store))
	t.Logf("%d processes, lease=%v: %d tokens minted, %d requests with a replaced token, %d failed",
		cfg.Procs, os.Getenv(sharetest.EnvNoLease) == "", res.Minted, res.ReplacedUses, len(res.Failed))
	return res
}

// Twenty processes meet the expired token at once: one mints, the others
// load what it saved. With PAN123_SHARETEST_NOLEASE=1 the children use the
// store as a plain Load/Save store, and the test shows the storm.
func TestProcesses(t *testing.T) {
	sharetest.Child(newStore)
	addr := startRedis(t)
	res := runProcesses(t, sharetest.Config{Test: "TestProcesses", Procs: 20,
		Store: storeArg(addr, "pan123:token", redisstore.DefaultLeaseTTL)})
	if len(res.Failed) > 0 {
		t.Fatalf("failed: %v", res.Failed)
	}
	if res.Minted != 1 || res.ReplacedUses != 0 {
		t.Fatalf("minted %d tokens, %d requests with a replaced token; want 1 and 0", res.Minted, res.ReplacedUses)
	}
}

// A process killed while it holds the lease delays the others by at most
// the lease TTL: then one of them mints.
func TestHolderKilled(t *testing.T) {
	sharetest.Child(newStore)
	const ttl = 2 * time.Second
	addr := startRedis(t)
	res := runProcesses(t, sharetest.Config{Test: "TestHolderKilled", Procs: 4, KillHolder: true,
		Store: storeArg(addr, "pan123:token", ttl)})
	if len(res.Failed) > 0 {
		t.Fatalf("failed: %v", res.Failed)
	}
	if res.Minted != 1 || res.ReplacedUses != 0 {
		t.Fatalf("minted %d tokens, %d requests with a replaced token; want 1 and 0", res.Minted, res.ReplacedUses)
	}
	delay := res.MintedAt.Sub(res.Held)
	t.Logf("new token asked for %v after the lease was taken (TTL %v)", delay, ttl)
	// The lease was taken a little before the holder said so; the waiters
	// poll at most every 100 ms, and the machine may be busy.
	if delay < ttl/2 || delay > ttl+5*time.Second {
		t.Fatalf("new token asked for %v after the lease was taken; want about %v", delay, ttl)
	}
}

// A lease that lapsed mid-mint cannot overwrite the token saved under the
// next lease, nor release that lease.
func TestFencing(t *testing.T) {
	addr := startRedis(t)
	ctx := t.Context()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	s := redisstore.New(rdb, "k", redisstore.WithLeaseTTL(time.Minute))

	if tok, err := s.Load(ctx); err != nil || tok != (pan123.Token{}) {
		t.Fatalf("Load of an empty store = %+v, %v; want a zero Token", tok, err)
	}
	a := tryLease(t, s)
	if l, err := s.TryLease(ctx); l != nil || err != nil {
		t.Fatalf("second TryLease = %v, %v; want nil, nil while the first is held", l, err)
	}
	if ms := rdb.PTTL(ctx, "k:lease").Val(); ms <= 0 || ms > time.Minute {
		t.Fatalf("lease PTTL %v; want (0, 1m]", ms)
	}
	rdb.Del(ctx, "k:lease") // a lapses (as its PX would)
	b := tryLease(t, s)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	newer := pan123.Token{AccessToken: "newer", ExpiresAt: exp}
	if err := b.Save(ctx, newer); err != nil {
		t.Fatal(err)
	}
	if err := a.Save(ctx, pan123.Token{AccessToken: "older"}); !errors.Is(err, redisstore.ErrNewerToken) {
		t.Fatalf("Save under the lapsed lease = %v; want ErrNewerToken", err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.TryLease(ctx); l != nil {
		t.Fatal("the lapsed lease's Release freed the next holder's lease")
	}
	if tok, err := s.Load(ctx); err != nil || tok.AccessToken != "newer" || !tok.ExpiresAt.Equal(exp) {
		t.Fatalf("Load = %+v, %v; want the newer token", tok, err)
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	// A plain Save counts as the latest lease's: the older lease stays out.
	if err := s.Save(ctx, pan123.Token{AccessToken: "plain"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Save(ctx, pan123.Token{AccessToken: "older"}); !errors.Is(err, redisstore.ErrNewerToken) {
		t.Fatalf("Save under the lapsed lease after a plain Save = %v; want ErrNewerToken", err)
	}
	if tok, _ := s.Load(ctx); tok.AccessToken != "plain" {
		t.Fatalf("Load = %q; want plain", tok.AccessToken)
	}
}

func tryLease(t *testing.T, s *redisstore.Store) pan123.TokenLease {
	t.Helper()
	l, err := s.TryLease(t.Context())
	if err != nil || l == nil {
		t.Fatalf("TryLease = %v, %v; want a lease", l, err)
	}
	return l
}

var _ pan123.TokenLeaser = (*redisstore.Store)(nil)
