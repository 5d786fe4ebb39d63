package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// Flags of the folder-tree section.
var (
	treeFiles   = flag.Int("tree", 0, "run only the folder-tree section: UploadDir of a generated tree of this many files")
	treeFolders = flag.Int("tree-folders", 50, "folder tree: folders in the tree")
	treeProto   = flag.String("tree-protocol", "auto", "folder tree: v1, v2 or auto")
)

// treeRun measures UploadDir: a generated tree of files over folders (sizes
// from 1 byte to 64 KiB), uploaded to a fresh fake with the SDK's default
// limiter, in this process. It prints the API calls per file and the wall
// time against the bound the limiter's table sets for those calls (the
// largest count ÷ rate over the endpoints), then the same for a second run
// over the unchanged tree.
func treeRun(ctx context.Context, dir string, files, folders int, protoName string) error {
	protocol, ok := map[string]pan123.Protocol{"v1": pan123.V1, "v2": pan123.V2, "auto": pan123.Auto}[protoName]
	if !ok {
		return fmt.Errorf("-tree-protocol: want v1, v2 or auto, got %q", protoName)
	}
	root, err := os.MkdirTemp(dir, "pan123bench-tree-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	var bytes int64
	dirs := []string{root}
	for i := range folders {
		d := filepath.Join(dirs[i/5], fmt.Sprintf("d%03d", i)) // five folders per folder
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
		dirs = append(dirs, d)
	}
	for i := range files {
		r := rand.New(rand.NewPCG(uint64(i), 7))
		data := make([]byte, 1+r.IntN(64<<10))
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		bytes += int64(len(data))
		if err := os.WriteFile(filepath.Join(dirs[i%len(dirs)], fmt.Sprintf("f%05d", i)), data, 0o600); err != nil {
			return err
		}
	}
	s := pan123test.NewServer(pan123test.WithStore(pan123test.StoreHashes))
	defer s.Close()
	c, err := pan123.New(s.ClientID, s.ClientSecret, pan123.WithBaseURL(s.URL))
	if err != nil {
		return err
	}
	defer c.CloseIdleConnections()
	up := pan123.NewUploader(c, pan123.WithProtocol(protocol))
	fmt.Printf("\nUploadDir: %d files (%s) over %d folders, protocol %s, default limiter\n", files, fmtSize(bytes), folders, protoName)
	fmt.Println("run     wall s   bound s  ratio   API calls/file  requests/file  calls by endpoint")
	for run := 1; run <= 2; run++ {
		s.ResetRequests()
		start := time.Now()
		res, err := up.UploadDir(ctx, root, pan123.DirInput{Files: 8, HashCache: filepath.Join(root, ".md5cache")})
		wall := time.Since(start).Seconds()
		if err != nil {
			return err
		}
		_ = res
		counts := map[string]int{}
		api, all := 0, 0 // API host calls; every request
		for _, r := range s.Requests() {
			if r.Server == 0 && r.Op != pan123test.OpPut {
				api++
			}
			all++
			counts[string(r.Op)]++
		}
		bound := 0.0
		for path, n := range counts {
			if rate := pan123.DefaultRateLimits()[path]; rate > 0 {
				bound = max(bound, float64(n-1)/rate)
			}
		}
		var keys []string
		for k := range counts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		by := ""
		for _, k := range keys {
			by += fmt.Sprintf(" %s=%d", filepath.Base(k), counts[k])
		}
		ratio := 0.0
		if bound > 0 {
			ratio = wall / bound
		}
		fmt.Printf("%-6d %8.2f %8.2f  %5.2f   %8.3f       %8.3f      %s\n", run, wall, bound, ratio, float64(api)/float64(files), float64(all)/float64(files), by)
		fmt.Printf("BENCH name=tree run=%d files=%d folders=%d wall=%.3f bound=%.3f api_per_file=%.3f requests_per_file=%.3f value=%.3f unit=ratio\n",
			run, files, folders, wall, bound, float64(api)/float64(files), float64(all)/float64(files), ratio)
	}
	return nil
}
