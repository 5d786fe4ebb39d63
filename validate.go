package pan123

import (
	"strings"
	"unicode/utf8"
)

// Platform limits.
const (
	// MaxFileSize is the platform's cap for one uploaded file: 10 GB.
	MaxFileSize int64 = 10 << 30
	// MaxNameLength is the longest file or folder name the SDK sends, in
	// characters (Unicode code points, as counted by
	// utf8.RuneCountInString: "中" and "😀" are one each). The platform's
	// pages disagree: the create field tables say fewer than 255 characters,
	// a page note says fewer than 256. The SDK takes the stricter reading,
	// so a longer name is refused with ErrInvalidInput before any request.
	MaxNameLength = 254
	// maxSlices bounds the slice count the SDK accepts from a platform answer;
	// 10 GB in the smallest slice size seen (16 MiB) is 640.
	maxSlices = 10000
)

// forbiddenNameChars may not appear in a file or folder name (the
// platform's create and mkdir pages).
const forbiddenNameChars = `"\/:*?|><`

// validateName applies the platform's name rules before any request.
func validateName(name string) error {
	switch {
	case name == "":
		return invalidInput("empty name")
	case !utf8.ValidString(name):
		return invalidInput("name %q is not valid UTF-8", name)
	case utf8.RuneCountInString(name) > MaxNameLength:
		return invalidInput("name is %d characters long; the platform allows %d", utf8.RuneCountInString(name), MaxNameLength)
	case strings.TrimSpace(name) == "":
		return invalidInput("name %q is only spaces", name)
	case strings.ContainsAny(name, forbiddenNameChars):
		return invalidInput(`name %q contains one of the characters %s`, name, forbiddenNameChars)
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return invalidInput("name %q contains a control character", name)
	}
	return nil
}

// validatePath checks a containDir path: "/"-separated names, each valid.
func validatePath(p string) error {
	_, err := splitDirPath(p)
	return err
}

// validSize checks a file size against the platform's limits. Empty files are
// refused: the platform does not document how it handles 0 bytes.
func validSize(size int64) error {
	switch {
	case size == 0:
		return invalidInput("empty file: the platform's handling of 0-byte uploads is undocumented, so the SDK refuses them")
	case size < 0:
		return invalidInput("negative size %d", size)
	case size > MaxFileSize:
		return invalidInput("size %d exceeds the platform's limit of %d bytes (10 GB)", size, MaxFileSize)
	}
	return nil
}

// validMD5 checks a caller-supplied MD5 (32 hex digits) and lowercases it.
func validMD5(s string) (string, error) {
	if len(s) != 32 || strings.Trim(strings.ToLower(s), "0123456789abcdef") != "" {
		return "", invalidInput("MD5 %q is not 32 hex digits", s)
	}
	return strings.ToLower(s), nil
}
