package pan123_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReadmeSnippetsCompile builds every ```go block of README.md, so that
// the README's code cannot drift from the API. A block that starts with a
// package clause is a program of its own. A block of declarations (func,
// type, var, const) goes to the top level of a file; any other block is a
// statement list, put in a function of its own whose parameters are the
// names the README's fragments take as given (ctx, up, c, path, ...). All
// of them are compiled in one `go build` of an overlay, which writes
// nothing into the module; with -race it reuses the packages this test run
// compiled already.
func TestReadmeSnippetsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the README's code with the go command")
	}
	t.Parallel() // waits on the go command
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := goBlocks(string(readme))
	require.NotEmpty(t, blocks, "no ```go blocks found in README.md")
	root, err := filepath.Abs(".")
	require.NoError(t, err)
	tmp := t.TempDir()
	overlay := map[string]string{}
	var pkgs []string
	offsets := make([]int, len(blocks)) // README line = wrapped line + offset
	for i, b := range blocks {
		dir := fmt.Sprintf("readmesnippet%02d", i+1) // exists only in the overlay
		src, first := wrapSnippet(b.code, i+1)
		offsets[i] = b.line + 1 - first
		real := filepath.Join(tmp, fmt.Sprintf("snippet%02d.go", i+1))
		require.NoError(t, os.WriteFile(real, []byte(src), 0o600))
		overlay[filepath.Join(root, dir, "snippet.go")] = real
		pkgs = append(pkgs, "./"+dir)
		t.Logf("README.md:%d → %s", b.line, dir)
	}
	ov, err := json.Marshal(map[string]any{"Replace": overlay})
	require.NoError(t, err)
	ovPath := filepath.Join(tmp, "overlay.json")
	require.NoError(t, os.WriteFile(ovPath, ov, 0o600))
	args := []string{"build", "-overlay", ovPath}
	if raceEnabled {
		args = append(args, "-race") // the same flags as this test's build: cached packages
	}
	cmd := exec.Command(gocmd, append(args, pkgs...)...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		// Point the compiler's positions at README lines.
		msg := snippetPos.ReplaceAllStringFunc(string(out), func(m string) string {
			sub := snippetPos.FindStringSubmatch(m)
			i, _ := strconv.Atoi(sub[1])
			line, _ := strconv.Atoi(sub[2])
			return fmt.Sprintf("README.md:%d", line+offsets[i-1])
		})
		require.FailNow(t, "README code does not compile", msg)
	}
}

type goBlock struct {
	line int // 1-based line of the opening fence
	code string
}

// goBlocks returns the ```go fenced blocks of a Markdown text.
func goBlocks(md string) []goBlock {
	var out []goBlock
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```go" {
			continue
		}
		start := i
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body = append(body, lines[i])
		}
		out = append(out, goBlock{line: start + 1, code: strings.Join(body, "\n")})
	}
	return out
}

var (
	snippetPos    = regexp.MustCompile(`\S*snippet(\d+)\.go:(\d+)`)
	packageClause = regexp.MustCompile(`(?m)^package \w+`)
	topLevelDecl  = regexp.MustCompile(`^(func|type|var|const)\b`)
)

// snippetImports are the packages README fragments may use; each is kept
// used so that a fragment needs none of them.
const snippetImports = `import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

var (
	_ = context.Background
	_ = json.Marshal
	_ = errors.Is
	_ = fmt.Sprint
	_ = io.Copy
	_ = fs.ErrNotExist
	_ = log.Print
	_ = os.ReadFile
	_ = filepath.Join
	_ = strings.Cut
	_ = testing.Short
	_ = time.Second
	_ = pan123.New
	_ = pan123test.NewServer
)
`

// snippetHelper is "your code" that the testing fragment calls; it is added
// to a snippet that does not declare a backup of its own.
const snippetHelper = `
func backup(ctx context.Context, c *pan123.Client, path string) error { return nil }
`

// wrapSnippet turns a README block into a Go file of package
// readmesnippetN; first is the file's line that holds the block's first line.
func wrapSnippet(code string, n int) (src string, first int) {
	pkg := fmt.Sprintf("package readmesnippet%02d", n)
	if packageClause.MatchString(code) {
		// A program: compiled as a plain package (no link needed).
		return packageClause.ReplaceAllString(code, pkg), 1
	}
	var b strings.Builder
	b.WriteString(pkg + "\n\n" + snippetImports)
	if !strings.Contains(code, "func backup(") {
		b.WriteString(snippetHelper)
	}
	b.WriteString("\n")
	if !topLevelDecl.MatchString(firstCodeLine(code)) {
		// A fragment: the names it takes as given are parameters; its own
		// block lets it redeclare them (up := ...), and unused variables of
		// its own still fail to compile.
		b.WriteString(`func fragment(ctx context.Context, c, client *pan123.Client, up *pan123.Uploader,
	path string, in pan123.FileInput, dirID int64, cacheDir, knownSHA1 string) error {
	{
`)
	}
	first = strings.Count(b.String(), "\n") + 1
	b.WriteString(code + "\n")
	if !topLevelDecl.MatchString(firstCodeLine(code)) {
		b.WriteString("\t}\n\treturn nil\n}\n")
	}
	return b.String(), first
}

// firstCodeLine is the first line that is not blank or a comment.
func firstCodeLine(code string) string {
	for l := range strings.SplitSeq(code, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "//") {
			return l
		}
	}
	return ""
}
