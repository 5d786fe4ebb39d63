package pan123

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateName(t *testing.T) {
	t.Parallel()
	valid := []string{
		"a",
		"report 2025.pdf",
		"报告-最终版.docx",
		"emoji 😀.png",
		" leading and trailing spaces ",
		"full-width ：？＜＞｜＊＂＼／ are fine",
		"dots...",
		strings.Repeat("a", 254),
		strings.Repeat("中", 254), // 254 runes, 762 bytes
		strings.Repeat("😀", 254), // 254 runes (508 UTF-16 units)
	}
	for _, name := range valid {
		assert.NoError(t, validateName(name), "%q", name)
	}

	invalid := map[string]string{
		"empty":              "",
		"255 ASCII":          strings.Repeat("a", 255),
		"255 runes":          strings.Repeat("中", 255),
		"spaces only":        "   ",
		"one space":          " ",
		"whitespace only":    " \t ",
		"NUL":                "a\x00b",
		"newline":            "a\nb",
		"tab inside":         "a\tb",
		"escape":             "a\x1bb",
		"DEL":                "a\x7fb",
		"invalid UTF-8":      "a\xffb",
		"truncated UTF-8":    "\xe4\xb8",
		"forbidden at end":   "name?",
		"forbidden at start": "*name",
	}
	for _, r := range forbiddenNameChars {
		invalid["forbidden "+string(r)] = "a" + string(r) + "b"
	}
	require.Len(t, forbiddenNameChars, 9, `the platform forbids "\/:*?|>< (api.md §7.3)`)
	for _, r := range `"\/:*?|><` {
		assert.Contains(t, forbiddenNameChars, string(r))
	}
	for label, name := range invalid {
		err := validateName(name)
		assert.ErrorIs(t, err, ErrInvalidInput, "%s: %q", label, name)
	}
}

func TestValidateNameMessages(t *testing.T) {
	t.Parallel()
	err := validateName(strings.Repeat("中", 300))
	require.ErrorIs(t, err, ErrInvalidInput)
	assert.Contains(t, err.Error(), "300")
	assert.Contains(t, err.Error(), "254")
	assert.Less(t, utf8.RuneCountInString(err.Error()), 200, "a long name is not echoed")
}

func TestValidatePath(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"a.txt", "/a/b/c.txt", "a/b/", "/你好/123/测试文件.mp4"} {
		assert.NoError(t, validatePath(p), p)
	}
	for _, p := range []string{"", "/", "a//b", "/a/ /b", "/a/b:c", "/a/" + strings.Repeat("x", 255)} {
		assert.ErrorIs(t, validatePath(p), ErrInvalidInput, p)
	}
}

func TestValidSize(t *testing.T) {
	t.Parallel()
	for _, n := range []int64{1, 1 << 20, MaxFileSize} {
		assert.NoError(t, validSize(n), n)
	}
	for _, n := range []int64{0, -1, -1 << 40, MaxFileSize + 1, 1 << 62} {
		assert.ErrorIs(t, validSize(n), ErrInvalidInput, n)
	}
	assert.Equal(t, int64(10*1024*1024*1024), MaxFileSize)
}

func TestValidMD5(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"d41d8cd98f00b204e9800998ecf8427e", "d41d8cd98f00b204e9800998ecf8427e", true},
		{"D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e", true},
		{"0123456789abcdefABCDEF0123456789", "0123456789abcdefabcdef0123456789", true},
		{"", "", false},
		{"d41d8cd98f00b204e9800998ecf8427", "", false},   // 31
		{"d41d8cd98f00b204e9800998ecf8427e0", "", false}, // 33
		{"g41d8cd98f00b204e9800998ecf8427e", "", false},
		{"d41d8cd98f00b204e98z0998ecf8427e", "", false},
		{"d41d8cd98f00b204 9800998ecf8427e", "", false},
		{" d41d8cd98f00b204e9800998ecf842 ", "", false},
		{"d41d8cd98f00b204e9800998ecf842é", "", false}, // 32 bytes, not hex
		{"0x1d8cd98f00b204e9800998ecf8427e", "", false},
	}
	for _, tt := range tests {
		got, err := validMD5(tt.in)
		if !tt.ok {
			assert.ErrorIs(t, err, ErrInvalidInput, "%q", tt.in)
			continue
		}
		if assert.NoError(t, err, "%q", tt.in) {
			assert.Equal(t, tt.want, got)
		}
	}
}

// TestNameOver254RefusedBeforeAnyRequest: the create field tables say
// "小于255个字符", so a 255-character name never reaches the platform, on
// any entry point that takes a name.
func TestNameOver254RefusedBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	srv, c := newTestClient(t, nil)
	long := strings.Repeat("名", 255)
	ctx := t.Context()
	_, err := c.Drive.Mkdir(ctx, 0, long)
	require.ErrorIs(t, err, ErrInvalidInput)
	_, err = c.Image.Mkdir(ctx, "", long)
	require.ErrorIs(t, err, ErrInvalidInput)
	_, err = c.Drive.EnsureDir(ctx, 0, "a/"+long)
	require.ErrorIs(t, err, ErrInvalidInput)
	up := NewUploader(c)
	_, err = up.Upload(ctx, strings.NewReader("x"), FileInput{Name: long})
	require.ErrorIs(t, err, ErrInvalidInput)
	_, err = up.Upload(ctx, strings.NewReader("x"), FileInput{Name: "/d/" + long, ContainDir: true})
	require.ErrorIs(t, err, ErrInvalidInput)
	_, err = up.UploadImage(ctx, strings.NewReader("x"), ImageInput{Name: long})
	require.ErrorIs(t, err, ErrInvalidInput)
	assert.Empty(t, srv.Requests(), "nothing was sent")
}
