package pan123test

import (
	"encoding/json"
	"io"
	"net/http"
)

// Op names a kind of request, for faults and for the request log. API ops
// are the endpoint paths.
type Op string

// The ops of the fake.
const (
	OpAccessToken        Op = "/api/v1/access_token"
	OpCreate             Op = "/upload/v1/file/create"
	OpGetUploadURL       Op = "/upload/v1/file/get_upload_url"
	OpListUploadParts    Op = "/upload/v1/file/list_upload_parts"
	OpComplete           Op = "/upload/v1/file/upload_complete"
	OpAsyncResult        Op = "/upload/v1/file/upload_async_result"
	OpMkdir              Op = "/upload/v1/file/mkdir"
	OpOSSCreate          Op = "/upload/v1/oss/file/create"
	OpOSSGetUploadURL    Op = "/upload/v1/oss/file/get_upload_url"
	OpOSSListUploadParts Op = "/upload/v1/oss/file/list_upload_parts"
	OpOSSComplete        Op = "/upload/v1/oss/file/upload_complete"
	OpOSSAsyncResult     Op = "/upload/v1/oss/file/upload_async_result"
	OpOSSMkdir           Op = "/upload/v1/oss/file/mkdir"
	OpV2Create           Op = "/upload/v2/file/create"
	OpV2Slice            Op = "/upload/v2/file/slice" // on the upload servers
	OpV2Complete         Op = "/upload/v2/file/upload_complete"
	OpV2Domain           Op = "/upload/v2/file/domain"
	OpV2Single           Op = "/upload/v2/file/single/create" // on the upload servers
	OpV2SHA1Reuse        Op = "/upload/v2/file/sha1_reuse"
	OpFileList           Op = "/api/v2/file/list"
	OpOSSFileList        Op = "/api/v1/oss/file/list"
	OpPut                Op = "PUT" // a presigned slice PUT (either family)
)

// family is the V1-style flow of one ID space: the file family or the image bed.
type family struct {
	kind                                         kind
	create, getURL, list, complete, async, mkdir Op
}

var families = []family{
	{kindV1, OpCreate, OpGetUploadURL, OpListUploadParts, OpComplete, OpAsyncResult, OpMkdir},
	{kindOSS, OpOSSCreate, OpOSSGetUploadURL, OpOSSListUploadParts, OpOSSComplete, OpOSSAsyncResult, OpOSSMkdir},
}

// endpoint is a JSON API endpoint.
type endpoint struct {
	auth   bool                    // needs a live bearer token
	fields []field                 // accepted keys of the JSON body (POST)
	handle func(args) (any, error) // answers data or an *apiError
}

var preuploadFields = []field{{"preuploadID", tString, true}}

func (s *Server) apiRoutes() map[string]route {
	mux := map[string]route{}
	add := func(op Op, method string, e endpoint) {
		mux[string(op)] = route{op: op, method: method, serve: func(c *call) { s.serveAPI(c, e) }}
	}
	post := http.MethodPost
	add(OpAccessToken, post, endpoint{fields: tokenFields, handle: s.accessToken})
	for _, f := range families {
		add(f.create, post, endpoint{true, createFields(f.kind), func(a args) (any, error) { return s.create(f.kind, a) }})
		add(f.getURL, post, endpoint{true, getURLFields, func(a args) (any, error) { return s.getUploadURL(f.kind, a) }})
		add(f.list, post, endpoint{true, preuploadFields, func(a args) (any, error) { return s.listParts(f.kind, a) }})
		add(f.complete, post, endpoint{true, preuploadFields, func(a args) (any, error) { return s.complete(f.kind, a) }})
		add(f.async, post, endpoint{true, preuploadFields, func(a args) (any, error) { return s.asyncResult(f.kind, a) }})
		add(f.mkdir, post, endpoint{true, mkdirFields(f.kind), func(a args) (any, error) { return s.mkdir(f.kind, a) }})
	}
	add(OpV2Create, post, endpoint{true, createFields(kindV2), func(a args) (any, error) { return s.create(kindV2, a) }})
	add(OpV2Complete, post, endpoint{true, preuploadFields, s.completeV2})
	add(OpV2SHA1Reuse, post, endpoint{true, sha1ReuseFields, s.sha1Reuse})
	add(OpV2Domain, http.MethodGet, endpoint{auth: true, handle: s.domain})
	add(OpOSSFileList, post, endpoint{true, ossListFields, s.ossFileList})
	mux[string(OpFileList)] = route{op: OpFileList, method: http.MethodGet, serve: s.serveFileList}
	return mux
}

func (s *Server) uploadRoutes() map[string]route {
	return map[string]route{
		string(OpV2Slice):  {op: OpV2Slice, method: http.MethodPost, serve: s.serveSlice},
		string(OpV2Single): {op: OpV2Single, method: http.MethodPost, serve: s.serveSingle},
	}
}

// serveAPI handles a JSON API request: read the body, apply faults, check
// headers and token, decode strictly, answer the handler's data or error.
func (s *Server) serveAPI(c *call, e endpoint) {
	var raw []byte
	tooLarge := false
	if c.r.Method == http.MethodPost {
		b, err := io.ReadAll(io.LimitReader(c.r.Body, maxJSONBody+1))
		if err != nil {
			c.abandon() // client gone or server closing
			return
		}
		tooLarge = len(b) > maxJSONBody
		raw = b
		c.rec.Body = b
		if c.rec.Op == OpGetUploadURL || c.rec.Op == OpOSSGetUploadURL {
			var peek struct{ SliceNo int }
			_ = json.Unmarshal(b, &peek)
			c.rec.SliceNo = peek.SliceNo
		}
	}
	if c.fault(0) || !c.checkHeaders(e.auth) || c.limited() {
		return
	}
	var a args
	if c.r.Method == http.MethodPost {
		if tooLarge {
			c.fail(badRequest("JSON body larger than %d bytes", maxJSONBody))
			return
		}
		if err := checkJSONContentType(c.r.Header.Get("Content-Type")); err != nil {
			c.fail(err)
			return
		}
		var err error
		if a, err = decodeStrict(raw, e.fields); err != nil {
			c.fail(err)
			return
		}
	}
	data, err := e.handle(a)
	if err != nil {
		c.fail(err)
		return
	}
	c.ok(data)
}
