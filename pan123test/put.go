package pan123test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// storagePrefix is the path of presigned slice URLs on the API host:
// /storage/<object key>/<sliceNo>.
const storagePrefix = "/storage/"

// presigned is an issued presigned PUT URL.
type presigned struct {
	preuploadID string
	kind        kind
	key         string
	sliceNo     int
	expires     time.Time
	expired     bool // by ExpireURLs
}

// presign issues a presigned PUT URL for slice n of ss; s.mu must be held.
// It looks like a MinIO SigV4 URL; the signature is a random key into s.urls.
func (s *Server) presign(ss *session, n int) string {
	now := s.now()
	u := &presigned{
		preuploadID: ss.id,
		kind:        ss.kind,
		key:         randHex(16),
		sliceNo:     n,
		expires:     now.Add(s.cfg.urlTTL),
	}
	sig := randHex(32)
	s.urls[sig] = u
	q := url.Values{
		"X-Amz-Algorithm":     {"AWS4-HMAC-SHA256"},
		"X-Amz-Credential":    {"PAN123TESTKEY/" + now.UTC().Format("20060102") + "/us-east-1/s3/aws4_request"},
		"X-Amz-Date":          {now.UTC().Format("20060102T150405Z")},
		"X-Amz-Expires":       {strconv.Itoa(int(s.cfg.urlTTL / time.Second))},
		"X-Amz-SignedHeaders": {"host"},
		"X-Amz-Signature":     {sig},
	}
	return fmt.Sprintf("%s%s%s/%d?%s", s.URL, storagePrefix, u.key, n, q.Encode())
}

// ExpireURLs makes every presigned URL issued so far answer HTTP 403
// AccessDenied "Request has expired". URLs issued later are valid.
func (s *Server) ExpireURLs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.urls {
		u.expired = true
	}
}

// s3Problem is a storage-node rejection.
type s3Problem struct {
	status        int
	code, message string
}

// servePut serves PUT {presignedURL}: the raw bytes of one slice.
func (s *Server) servePut(c *call) {
	key, sliceNo, pathOK := parseStoragePath(c.r.URL.Path)
	c.rec.SliceNo = sliceNo
	c.throttle()
	if c.fault(c.dropHalf()) {
		return
	}
	u, p := s.checkPut(c.r, key, sliceNo, pathOK)
	if p != nil {
		c.s3Error(p.status, p.code, p.message)
		return
	}
	got, err := s.receive(c.r.Body, c.r.ContentLength)
	if err != nil {
		c.abandon() // the body ended early: client gone or server closing
		return
	}
	if !s.storePart(u.preuploadID, u.kind, sliceNo, got) {
		c.s3Error(http.StatusNotFound, "NoSuchUpload", "The specified multipart upload does not exist.")
		return
	}
	if got.md5 != "" {
		c.w.Header().Set("ETag", `"`+got.md5+`"`)
	}
	c.write(http.StatusOK, "", nil)
}

// checkPut validates a presigned PUT before its body is read.
func (s *Server) checkPut(r *http.Request, key string, sliceNo int, pathOK bool) (*presigned, *s3Problem) {
	switch {
	case !pathOK:
		return nil, &s3Problem{http.StatusNotFound, "NoSuchKey", "The specified key does not exist."}
	case r.Header.Get("Authorization") != "":
		return nil, &s3Problem{http.StatusBadRequest, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"}
	case r.Header.Get("Platform") != "":
		return nil, &s3Problem{http.StatusBadRequest, "InvalidArgument", "Unexpected Platform header: presigned URLs take no API headers"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.urls[r.URL.Query().Get("X-Amz-Signature")]
	if u == nil || u.key != key || u.sliceNo != sliceNo {
		return nil, &s3Problem{http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."}
	}
	if u.expired || !s.now().Before(u.expires) {
		return nil, &s3Problem{http.StatusForbidden, "AccessDenied", "Request has expired"}
	}
	if r.ContentLength < 0 || len(r.TransferEncoding) > 0 {
		return nil, &s3Problem{http.StatusBadRequest, "MissingContentLength", "You must provide the Content-Length HTTP header."}
	}
	ss := s.liveSession(u.preuploadID, u.kind)
	if ss == nil {
		return nil, &s3Problem{http.StatusNotFound, "NoSuchUpload", "The specified multipart upload does not exist."}
	}
	if want, _ := ss.sliceLen(sliceNo); r.ContentLength != want {
		return nil, &s3Problem{http.StatusBadRequest, "InvalidArgument", fmt.Sprintf("slice %d must be exactly %d bytes, Content-Length is %d", sliceNo, want, r.ContentLength)}
	}
	return u, nil
}

func parseStoragePath(p string) (key string, sliceNo int, ok bool) {
	key, n, found := strings.Cut(strings.TrimPrefix(p, storagePrefix), "/")
	sliceNo, err := strconv.Atoi(n)
	return key, sliceNo, found && err == nil && key != ""
}
