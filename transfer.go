package pan123

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
)

// parsePresignedURL checks that a presigned URL is an absolute http(s) URL.
func parsePresignedURL(presignedURL string) (*url.URL, error) {
	u, err := url.Parse(presignedURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, protocolError("presigned URL is not an absolute http(s) URL (%q)", sanitizeURL(presignedURL))
	}
	return u, nil
}

// PutSlice uploads size bytes from body to a presigned URL with one PUT, as
// get_upload_url's answer asks: Content-Length set, Content-Type
// application/octet-stream, and neither Authorization nor Platform (the URL
// carries its own signature). It makes one attempt; the Uploader retries.
// Only ctx bounds the call (the Uploader adds its stall and response
// timeouts): give it a deadline.
// A non-2xx answer is an *APIError whose Path is the URL without its query.
func (c *Client) PutSlice(ctx context.Context, presignedURL string, body io.Reader, size int64) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	u, err := parsePresignedURL(presignedURL)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, presignedURL, body)
	if err != nil {
		return redact(err)
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.data.Do(req)
	if err != nil {
		return requestError(http.MethodPut, sanitizeURL(presignedURL), err)
	}
	defer resp.Body.Close()
	// Read a little of the answer so the connection can be reused; bodies of
	// a successful PUT are empty, error bodies are short XML.
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	msg := s3Code(snippet)
	if resp.StatusCode/100 == 3 {
		msg = redirectRefused // never a stored slice
	}
	return &APIError{HTTPStatus: resp.StatusCode, Method: http.MethodPut, Path: u.Host + u.Path,
		Message: msg, RetryAfter: parseRetryAfter(resp.Header, c.now())}
}

// s3Code extracts <Code>…</Code> from an S3-style error body, if any.
func s3Code(body []byte) string {
	i := bytes.Index(body, []byte("<Code>"))
	j := bytes.Index(body, []byte("</Code>"))
	if i < 0 || j < i {
		return ""
	}
	return string(body[i+len("<Code>") : j])
}
