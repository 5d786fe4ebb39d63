// Command pan123fake runs pan123test, the fake of the 123pan open platform,
// as a standalone server: for programs in any language, and for runs of a
// tool that must outlive one process (an interrupted upload resumed by the
// next run).
//
//	go run github.com/go-pan123/pan123/pan123test/cmd/pan123fake -state /tmp/pan123fake
//
// It prints its base URL, client ID and secret as KEY=value lines on
// stdout, then serves until it gets SIGINT or SIGTERM. With -state DIR it
// loads its files, folders, upload sessions and tokens from DIR when it
// starts and saves them there when it stops (file contents as files under
// DIR/blobs), so that a restart forgets nothing. The fake's options and
// faults are flags; run it with -h for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-pan123/pan123/pan123test"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// faultFlags collects repeated -fault flags.
type faultFlags []pan123test.Fault

func (f *faultFlags) String() string { return fmt.Sprint(len(*f), " faults") }

func (f *faultFlags) Set(spec string) error {
	flt, err := parseFault(spec)
	if err != nil {
		return err
	}
	*f = append(*f, flt)
	return nil
}

// run is the whole command: it serves until ctx is done. Exit codes: 0 after
// a clean stop, 1 when the state cannot be loaded or saved, 2 for bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pan123fake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: pan123fake [flags]

Runs pan123test, a fake of the 123pan open platform (drive and image-bed
uploads, V1 and V2, tokens, folders, the file list), on this machine. It
prints PAN123_BASE_URL, PAN123_CLIENT_ID and PAN123_CLIENT_SECRET, then
serves until interrupted. With -state it keeps what it holds across restarts.

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), `
A -fault is comma-separated key=value pairs: op (an endpoint path such as
/upload/v1/file/create, or put for presigned slice PUTs), slice, server,
after, times (-1: forever), status, code, body, drop (true), stall (a
duration) and retry-after (seconds). Example:
  -fault op=put,slice=2,times=2,status=500 -fault op=/upload/v1/file/upload_complete,code=20103,times=3
`)
	}
	var (
		addr         = fs.String("addr", "127.0.0.1:8123", "address to listen on (port 0: a free port)")
		state        = fs.String("state", "", "directory to load the state from at start and save it to at stop (default: none, forget everything)")
		id           = fs.String("client-id", pan123test.DefaultClientID, "client ID the fake accepts")
		secret       = fs.String("client-secret", pan123test.DefaultClientSecret, "client secret the fake accepts")
		sliceSize    = fs.Int64("slice-size", pan123test.DefaultSliceSize, "sliceSize the drive's create answers, in bytes")
		imageSlice   = fs.Int64("image-slice-size", pan123test.DefaultImageSliceSize, "sliceSize the image bed's create answers, in bytes")
		store        = fs.String("store", "bytes", "what to keep of uploaded bytes: bytes, hashes (size and MD5 of each slice) or nothing")
		bandwidth    = fs.Int64("bandwidth", 0, "per-connection rate limit in bytes per second (0: none)")
		latency      = fs.Duration("latency", 0, "delay added to every request")
		async        = fs.Int("async", -1, "answer upload_complete with async, and 'not yet' this many polls (-1: complete at once)")
		servers      = fs.Int("upload-servers", 1, "number of V2 upload servers")
		tokenTTL     = fs.Duration("token-ttl", pan123test.DefaultTokenTTL, "lifetime of access tokens")
		urlTTL       = fs.Duration("url-ttl", pan123test.DefaultURLTTL, "lifetime of presigned PUT URLs")
		preuploadTTL = fs.Duration("preupload-ttl", pan123test.DefaultPreuploadTTL, "lifetime of upload sessions")
		faults       faultFlags
	)
	fs.Var(&faults, "fault", "inject a fault (repeatable; see below)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pan123fake: unexpected arguments %q\n", fs.Args())
		return 2
	}
	modes := map[string]pan123test.StoreMode{"bytes": pan123test.StoreBytes, "hashes": pan123test.StoreHashes, "nothing": pan123test.StoreNothing}
	mode, ok := modes[*store]
	if !ok {
		fmt.Fprintf(stderr, "pan123fake: -store %q: want bytes, hashes or nothing\n", *store)
		return 2
	}
	opts := []pan123test.Option{
		pan123test.WithAddr(*addr),
		pan123test.WithCredentials(*id, *secret),
		pan123test.WithSliceSize(*sliceSize),
		pan123test.WithImageSliceSize(*imageSlice),
		pan123test.WithStore(mode),
		pan123test.WithBandwidth(*bandwidth),
		pan123test.WithLatency(*latency),
		pan123test.WithUploadServers(*servers),
		pan123test.WithTokenTTL(*tokenTTL),
		pan123test.WithURLTTL(*urlTTL),
		pan123test.WithPreuploadTTL(*preuploadTTL),
	}
	if *async >= 0 {
		opts = append(opts, pan123test.WithAsync(*async))
	}
	srv, err := newServer(opts)
	if err != nil {
		fmt.Fprintf(stderr, "pan123fake: %v\n", err)
		return 2
	}
	defer srv.Close()
	if *state != "" {
		if err := srv.LoadState(*state); err != nil {
			fmt.Fprintf(stderr, "pan123fake: load state: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "pan123fake: state in %s: %d drive entries, %d image-bed entries\n", *state, len(srv.Files()), len(srv.Images()))
	}
	for _, f := range faults {
		srv.Inject(f)
	}
	fmt.Fprintf(stdout, "PAN123_BASE_URL=%s\nPAN123_CLIENT_ID=%s\nPAN123_CLIENT_SECRET=%s\n", srv.URL, srv.ClientID, srv.ClientSecret)
	fmt.Fprintln(stderr, "pan123fake: serving the fake 123pan open platform; Ctrl-C to stop")

	<-ctx.Done()
	srv.Close()
	if *state != "" {
		if err := srv.SaveState(*state); err != nil {
			fmt.Fprintf(stderr, "pan123fake: save state: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "pan123fake: state saved in %s\n", *state)
	}
	return 0
}

// newServer starts the fake; NewServer panics on bad options or a busy
// port, which a command line reports as an error.
func newServer(opts []pan123test.Option) (srv *pan123test.Server, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return pan123test.NewServer(opts...), nil
}

// parseFault reads "op=put,slice=2,times=2,status=500".
func parseFault(spec string) (pan123test.Fault, error) {
	var f pan123test.Fault
	for kv := range strings.SplitSeq(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return f, fmt.Errorf("%q: want key=value", kv)
		}
		var err error
		switch k {
		case "op":
			if strings.EqualFold(v, "put") {
				v = string(pan123test.OpPut)
			}
			if !strings.HasPrefix(v, "/") && v != string(pan123test.OpPut) {
				return f, fmt.Errorf("op %q: want an endpoint path or put", v)
			}
			f.Op = pan123test.Op(v)
		case "slice":
			f.SliceNo, err = strconv.Atoi(v)
		case "server":
			f.Server, err = strconv.Atoi(v)
		case "after":
			f.After, err = strconv.Atoi(v)
		case "times":
			f.Times, err = strconv.Atoi(v)
		case "status":
			f.Status, err = strconv.Atoi(v)
		case "code":
			f.Code, err = strconv.Atoi(v)
		case "body":
			f.Body = v
		case "drop":
			f.Drop, err = strconv.ParseBool(v)
		case "stall":
			f.Stall, err = time.ParseDuration(v)
		case "retry-after":
			f.Header = http.Header{"Retry-After": {v}}
		default:
			return f, fmt.Errorf("unknown key %q", k)
		}
		if err != nil {
			return f, fmt.Errorf("%s=%q: %v", k, v, err)
		}
	}
	if f.Op == "" {
		return f, errors.New("no op=")
	}
	return f, nil
}
