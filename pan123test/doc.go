// Package pan123test is an in-process fake of the 123pan (123云盘) open
// platform upload API, for testing clients over real loopback HTTP, like
// net/http/httptest.
//
// It is written from the platform's documentation alone and never imports
// the SDK, so that a misreading in the client is not mirrored by the fake.
// It uses the standard library only.
//
// # Use
//
//	s := pan123test.NewServer(pan123test.WithSliceSize(1 << 20))
//	defer s.Close()
//	// point the client at s.URL with s.ClientID / s.ClientSecret, upload, then:
//	f, ok := s.File(id) // f.Data holds the bytes received
//	s.Requests()        // every request, in the order answered
//
// [NewServer] starts the API host (s.URL) and one or more V2 upload
// servers (see [WithUploadServers]), each on its own 127.0.0.1 listener.
// Presigned slice URLs point at the API host under /storage/. Sessions,
// parts and files live in the Server, so they survive client restarts
// (resume tests). A Server is safe for concurrent use; [Server.Close]
// aborts the requests in flight, waits for every handler and connection and
// leaves no goroutine behind.
//
// # Endpoints
//
// API host: POST /api/v1/access_token; POST /upload/v1/file/{create,
// get_upload_url, list_upload_parts, upload_complete, upload_async_result,
// mkdir}; the same under /upload/v1/oss/file/ (image bed); POST
// /upload/v2/file/{create, upload_complete, sha1_reuse}; GET
// /upload/v2/file/domain; GET /api/v2/file/list (strict query, paged with
// lastFileId; see list.go); POST /api/v1/oss/file/list (the image bed's
// listing, string cursor); PUT /storage/<key>/<sliceNo>?X-Amz-...
// (presigned).
// Upload servers: POST /upload/v2/file/slice and
// /upload/v2/file/single/create (multipart/form-data). Any other path
// answers HTTP 404, a wrong method HTTP 405 (both with an envelope).
//
// # What it checks
//
// Every API call must carry "Platform: open_platform" and, except
// access_token, "Authorization: Bearer <live token>"; JSON POSTs must have
// Content-Type application/json and a body of at most 1 MiB. JSON bodies
// are decoded strictly: keys spelled exactly as documented per endpoint
// (encoding/json would accept any case; the fake does not), no unknown or
// duplicate keys, documented types only (parentFileID is an integer in the
// file family and a string in the image bed, sliceNo an integer, type must
// be 1, null is never accepted). Filenames follow the platform rules: 1..254
// characters (code points), none of "\/:*?|><, not all spaces. etag is 32 lowercase hex
// digits, size 1 byte .. 10 GiB (1 GiB for single create).
//
// Presigned PUTs must not carry Authorization or Platform headers, must
// have a Content-Length (no chunked encoding) equal to the slice size
// (sliceSize for every slice but the last, which holds the rest), and a
// known, unexpired signature. Rejections are S3-style XML: HTTP 400
// (InvalidArgument, MissingContentLength), 403 (SignatureDoesNotMatch;
// AccessDenied "Request has expired"), 404 (NoSuchUpload once the session
// is gone). Success is HTTP 200 with an empty body (and an ETag header). A
// repeated PUT of a slice replaces it. V2 slices are checked the same way,
// plus sliceMD5 against the bytes received.
//
// upload_complete checks that every slice is present and sized right and,
// in [StoreBytes] mode, that the MD5 of the whole equals the declared etag.
//
// Slice bodies are streamed: the fake keeps only what the [StoreMode] says
// (hashing while reading), never a temporary copy.
//
// # Answers
//
// Answers are the envelope {"code","message","data","x-traceID"} with a
// fresh trace ID each time. Errors are HTTP 200 with a non-zero code and
// data null, like the platform. Codes and messages:
//
//   - 401 "access_token无效": missing, unknown or expired token (also after
//     ExpireTokens, or logged out by newer ones under WithTokenLimit).
//   - 401 "clientID或clientSecret错误": wrong credentials at access_token (the
//     fake's choice of message).
//   - 400 "参数错误: <detail>": the fake's code for requests that break the
//     protocol: headers, Content-Type, JSON keys and types, filename, etag,
//     size 0 (empty files are rejected: their support is unknown), sliceNo
//     out of range, a bad duplicate value, upload_async_result before
//     upload_complete, malformed multipart, a V2 slice of the wrong size.
//   - 1 "该目录下已经有同名文件,无法进行创建": same name in the parent (create,
//     single create, sha1_reuse, completion) unless duplicate resolves it.
//   - 1 "该目录下已经有同名文件夹,无法进行创建": mkdir of an existing name.
//   - 1 "文件上传失败": completion with a missing or short slice or an MD5
//     mismatch; single create with a size or MD5 mismatch.
//   - 1 "preuploadID不存在或已过期": unknown, expired ([WithPreuploadTTL]),
//     forgotten ([Server.ExpirePreuploads]) session, or a session of another
//     flow (the fake's choice of code and message).
//   - 1 "父级目录不存在": the parent folder does not exist.
//   - 1 "单文件大小超出限制": size above 10 GiB (create) or 1 GiB (single).
//   - 1 "分片MD5校验失败": V2 sliceMD5 does not match the bytes.
//
// Faults can inject any code; 429 (请求太频繁) and 20103
// (文件正在校验中,请间隔1秒后再试) are only ever answered through faults, and
// so is 401 with [MsgTokenLimit] (Fault.Message). Fault.Location answers a
// redirect, and [WithExpiredAt] answers expiredAt in another form.
//
// # Behaviour the platform does not document (the fake's choices)
//
//   - Instant upload: create answers reuse=true with a new non-zero fileID
//     (a new entry with Reused set) when a completed file of the same ID
//     space has the same MD5 and size. The name rules and duplicate policy
//     still apply. sha1_reuse matches files whose SHA-1 is known (uploaded in
//     StoreBytes mode, or seeded with SHA1).
//   - duplicate: absent/0 = conflict (code 1), 1 = keep both (the new entry
//     is named "name(1).ext", "name(2).ext", ...), 2 = overwrite a file (the
//     old entry is removed, the new one gets a new ID; a folder is never
//     overwritten). The policy is applied at create (a conflict fails fast)
//     and again when the file is stored. containDir creates the missing
//     folders at create time.
//   - The image bed accepts only its documented create keys (no duplicate,
//     no containDir); its mkdir accepts name as a string or a list of
//     strings; its list_upload_parts works like the file family's.
//   - list_upload_parts answers partNumber as a string ("1"), like the
//     official example, and an empty list when the file is smaller than
//     sliceSize, as documented. The file-family endpoint also lists V2
//     sessions (V2 has no list endpoint).
//   - Completion is idempotent: once a session finished, upload_complete
//     and upload_async_result answer completed=true with the same fileID
//     (V1 complete with async=false). The session itself is gone:
//     get_upload_url, list_upload_parts and PUTs fail. A failed completion
//     leaves the session alive so slices can be re-sent.
//   - With [WithAsync], V1/image bed complete answers async=true,
//     completed=false and the file appears after the polls; V2 complete
//     answers completed=false the configured number of times.
//   - A preuploadID contains '/' and '+' like the real ones; image IDs are
//     52 random letters and digits; file IDs count up from 10000001.
//   - presigned URLs look like MinIO SigV4 URLs; X-Amz-Signature is 64 random
//     hex digits (the only thing checked). isMultipart is true when the file
//     has more than one slice.
//   - V2 multipart bodies must put the text fields before the file part
//     (all known clients do), so that the file part can be streamed.
//   - Closed upload servers ([Server.CloseUploadServer]) are still answered
//     by create.servers and domain, as a stale DNS entry would be.
//
// # Faults
//
// [Server.Inject] adds a [Fault] matched on [Op] (and optionally slice
// number and upload server). It can answer an HTTP status, an envelope code
// with a realistic message, a raw body (an HTML gateway page, truncated
// JSON) or no body at all; drop the connection mid-body; or stall. Faults
// are consumed in injection order; After lets matching requests pass first,
// Times sets how many fail (-1: forever). Faults apply before any
// validation, except a raw Body with Handle set: the request is handled as
// usual (a session completes, a slice is stored) and Body is answered in
// its place, to replay an answer shape of the platform over the fake's real
// state.
//
// A stall ends early when the server closes; for API calls (whose small
// body has been read) also when the client disconnects. For slice requests
// the body is left unread during the stall, so net/http cannot see a
// disconnect: such a stall runs its full length (or until Close), then the
// handler finds the connection gone.
//
// Other knobs: [Server.ExpireTokens], [Server.ExpireURLs],
// [Server.ExpirePreuploads], [Server.CloseUploadServer], [WithClock] for
// natural expiry of tokens, URLs and sessions, [WithLatency],
// [WithAPILatency] and [WithBandwidth] for slow networks (real time),
// [WithAsync] for slow completion, [WithRateLimit] for an account's
// per-endpoint request rates (code 429 past them), [WithTokenLimit] for the
// platform's few live tokens per client ID.
//
// # Inspection
//
// [Server.Requests], [Server.Count], [Server.ResetRequests],
// [Server.TokensIssued], [Server.ReplacedTokenUses] report what clients
// sent, [Server.InFlight] what is being handled; [Server.Files],
// [Server.Images], [Server.File], [Server.Image] and [Server.Parts] what the
// fake stored. [Server.SeedFile] and [Server.SeedImage] add existing files.
// Accessors return copies, except that File.Data is shared: do not modify it.
// A File prints as its ID, name, size and MD5, without its bytes.
//
// # A standalone server
//
// The command pan123test/cmd/pan123fake runs the fake as a server of its
// own, for programs in any language; [WithAddr] sets its address, and
// [Server.SaveState] and [Server.LoadState] keep its files, folders, upload
// sessions and tokens in a directory across restarts.
package pan123test
