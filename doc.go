// Package pan123 is a client SDK for the upload API of the 123pan (123云盘)
// open platform: it puts files of any size, up to the platform's 10 GB cap,
// into a user's drive or image bed (图床).
//
// Start with [NewUploader] and one of its two calls: [Uploader.UploadFile]
// for a file on disk, [Uploader.Upload] for any io.Reader (a pipe, an HTTP
// body). They do the whole job: hashing, instant upload, slices in
// parallel, retries, completion. The image bed has the same pair,
// [Uploader.UploadImageFile] and [Uploader.UploadImage]. Client.Drive
// ([DriveService]) and Client.Image ([ImageService]) hold the platform's
// endpoints one by one, for tools that drive the protocol by hand; most
// programs never need them. To test code that uploads, use the fake platform in
// [github.com/go-pan123/pan123/pan123test].
//
// # Quick start
//
//	c, err := pan123.New(clientID, clientSecret)
//	if err != nil { ... }
//	up := pan123.NewUploader(c, pan123.WithConcurrency(4))
//	res, err := up.UploadFile(ctx, "/data/backup.tar", pan123.FileInput{ParentFileID: 0})
//	// res.FileID, res.Reused (instant upload), res.MD5
//
// The image bed has its own calls with string IDs:
//
//	img, err := up.UploadImageFile(ctx, "cat.jpg", pan123.ImageInput{ParentID: ""})
//
// # Names
//
// Upload and UploadImage read an io.Reader; the calls ending in File
// (UploadFile, UploadImageFile, ResumeFile, ResumeImageFile) read a local
// file by path. Types of the drive begin with File (FileInput,
// FileCreateRequest, FileList), types of the image bed with Image; types
// both share (UploadURL, UploadPart, Progress) with neither.
//
// # The flow
//
// An upload validates its input before any request (name rules, size, a
// regular file), reads the source once for its MD5 (skipped when FileInput.MD5
// is given; a plain io.Reader is spooled to a temporary file during that
// read), and calls create. If the platform already has the content, that is
// the end: an instant upload, no bytes sent. Otherwise slices of exactly the
// platform's slice size are sent by up to WithConcurrency workers, each
// slice with a fresh presigned URL (fetched while the worker's previous slice
// is still sending, so that the round trip does not stall the transfer), and
// the file is completed, polling while the platform verifies it.
//
// # Protocols
//
// The drive takes V1 (presigned PUTs, the default), V2 (multipart slices
// posted to upload servers, with failover) or Auto (one single-step request
// for files up to [AutoSingleThreshold], V2 above): see [WithProtocol]. With
// FileInput.SHA1 an instant upload by SHA-1 is tried before the source is
// read. [DriveService.EnsureDir] and [ImageService.EnsureDir] create folder paths.
//
// # Resume
//
// With [WithCheckpointDir], an upload of a file keeps a small record of its
// platform session; after a crash or Ctrl-C, the same call continues it,
// re-sending only slices the platform does not hold with the right MD5.
// [Uploader.ResumeFile] continues from an [*UploadError] without a record.
//
// # Authentication
//
// The client fetches an access token with the client ID and secret on first
// use, caches it, and renews it a few minutes before its expiredAt. However
// many goroutines need a new token, one request is made, and it is kept even
// if the caller that started it gives up. A token the platform refuses (code
// 401) is renewed once and the request replayed once; a refresh that fails is
// an error, never a loop. The platform allows only 3 live tokens per client
// ID, and minting more can log out the user's other sessions, so a Client
// mints its first token and then at most one more per [DefaultTokenCooldown]
// whatever fails: a 401 within the cool-down after a forced refresh is final
// ([ErrUnauthorized], with the platform's message and trace ID), and code 401
// "tokens number has exceeded the limit" ([ErrTokenLimit]) is never answered
// with a new token. An expiredAt that is missing, unreadable or already past
// when it arrives (a local clock ahead of the platform's) is logged once and
// the token used until refused; expiredAt may be RFC 3339 or a Unix time.
// Share one Client in a process, and a [TokenStore] across processes. A
// store that is also a [TokenLeaser] ([FileTokenStore] on one machine, the
// module github.com/go-pan123/pan123/redisstore on many) lets one process
// renew the shared token while the others wait for it. A token obtained
// elsewhere can be given with [WithAccessToken].
//
// Neither HTTP client follows a redirect (the platform documents none): a
// 3xx answer is an [*APIError] with its status, so no body, token or slice
// ever goes to a host, scheme or port it was not built for.
//
// # Errors
//
// Platform failures are [*APIError] values (the platform reports most of them
// with HTTP 200 and a code in the body). Use errors.Is with [ErrUnauthorized],
// [ErrRateLimited], [ErrVerifying], [ErrNotFound], and [ErrInvalidInput] for
// input refused before any request. A failed upload is an [*UploadError]
// naming the upload session and the failed slice; after the last slice,
// [ErrCompleteRefused] says the platform refused the file and
// [ErrCompleteTimeout] that it did not finish it in time.
//
// # Retries and rate limits
//
// API calls are retried on 429 (and on code 1 when its message asks to slow
// down, "请慢一点"), 5xx, code 20103 and network errors, with
// exponential backoff and full jitter ([WithRetry]); business errors are not.
// create is not replayed blindly after an ambiguous failure when it could
// duplicate a file (an instant upload with KeepBoth), nor is a single-step
// upload: the parent folder is listed first, and a file found there with the
// name, MD5 and size asked for is the result; upload_complete is keyed by
// the session and is replayed. Requests are paced per endpoint on the client
// side with the platform's published rates ([DefaultRateLimits], or a tier's
// with [WithTier]) as ceilings; on a 429 an endpoint's rate drops under
// what the platform accepted in the second before, and climbs back slowly
// while none comes ([WithAdaptiveRateLimits]). A failed
// slice is sent again with a fresh URL and a fresh reader, for as long as
// the upload as a whole moves ([WithSliceRetry]); a slice that moves no byte
// for [WithStallTimeout] while it is sent, or gets no answer within
// [WithResponseTimeout] after its last byte, is cut and retried.
//
// # Concurrency and memory
//
// [Client] and [Uploader] are safe for concurrent use. Slices of a file are
// streamed from the file with io.SectionReader: memory does not grow with the
// file size or the slice size. No goroutine outlives the call that started it;
// cancelling the context stops an upload promptly and removes temporary files.
//
// # Logging
//
// [WithLogger] takes a *slog.Logger; by default nothing is logged. Records
// never contain the client secret, access tokens or presigned URL queries.
//
// # Testing
//
// Package pan123test is an in-process fake of the platform with fault knobs,
// for testing code that uses this SDK without network access or credentials.
package pan123
