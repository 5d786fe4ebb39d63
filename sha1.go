package pan123

import (
	"context"
	"strings"
)

// sha1First tries an instant upload by SHA-1 when the caller gave one. A
// nil result and nil error mean "not known: upload normally".
func sha1First(ctx context.Context, t target, size int64, rep *reporter) (*upload, error) {
	d := t.drive() // any drive protocol; the image bed has no SHA-1 reuse
	if d == nil || d.in.SHA1 == "" {
		return nil, nil
	}
	c, in := d.c, d.in
	sum, err := validSHA1(in.SHA1)
	if err != nil {
		return nil, err
	}
	r, err := c.Drive.SHA1Reuse(ctx, &FileSHA1ReuseRequest{ParentFileID: in.ParentFileID, Filename: in.Name,
		SHA1: sum, Size: size, Duplicate: in.Duplicate})
	if err != nil {
		return nil, &UploadError{FileName: in.Name, Err: err}
	}
	if !r.Reuse {
		return nil, nil
	}
	id := r.FileID
	if id <= 0 {
		return nil, &UploadError{FileName: in.Name, Err: protocolError("sha1_reuse answered reuse=true without a file ID")}
	}
	rep.slice(EventReused, 0, 0, nil)
	rep.phase(PhaseDone, 0)
	return &upload{file: driveFile(id), name: in.Name, size: size, reused: true}, nil
}

// validSHA1 checks a caller-supplied SHA-1 (40 hex digits) and lowercases it.
func validSHA1(s string) (string, error) {
	if len(s) != 40 || strings.Trim(strings.ToLower(s), "0123456789abcdef") != "" {
		return "", invalidInput("SHA1 %q is not 40 hex digits", s)
	}
	return strings.ToLower(s), nil
}
