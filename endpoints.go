package pan123

import "context"

// Duplicate is the policy when a file of the same name exists in the folder.
type Duplicate int

const (
	// DuplicateUnset sends no policy: the platform refuses a same-name file.
	DuplicateUnset Duplicate = 0
	// KeepBoth keeps the existing file; the new one gets a suffixed name.
	KeepBoth Duplicate = 1
	// Overwrite replaces the existing file.
	Overwrite Duplicate = 2
)

// FileCreateRequest is the body of the drive's create call (V1 and V2).
type FileCreateRequest struct {
	ParentFileID int64     `json:"parentFileID"`         // parent folder; 0 = root
	Filename     string    `json:"filename"`             // name, or a path when ContainDir
	Etag         string    `json:"etag"`                 // whole-file MD5, lowercase hex
	Size         int64     `json:"size"`                 // bytes
	Duplicate    Duplicate `json:"duplicate,omitempty"`  // same-name policy
	ContainDir   bool      `json:"containDir,omitempty"` // Filename holds a path; folders are created
}

// FileCreateResult is the answer of create. When Reuse is true the file
// already exists on the platform (instant upload) and no bytes are needed.
type FileCreateResult struct {
	FileID      int64    // set on instant upload
	PreuploadID string   // the upload session
	Reuse       bool     // instant upload happened
	SliceSize   int64    // mandatory slice size in bytes
	Servers     []string // V2 only: upload hosts for slices
}

type createFileData struct {
	FileID      flexInt  `json:"fileID"`
	PreuploadID string   `json:"preuploadID"`
	Reuse       bool     `json:"reuse"`
	SliceSize   flexInt  `json:"sliceSize"`
	Servers     []string `json:"servers"`
}

// Create starts a drive upload (POST /upload/v1/file/create).
// It is not replayed after an ambiguous failure (see [Client] retries).
func (s *DriveService) Create(ctx context.Context, req *FileCreateRequest) (*FileCreateResult, error) {
	return s.c.createFile(ctx, pathCreate, req)
}

func (c *Client) createFile(ctx context.Context, path string, req *FileCreateRequest) (*FileCreateResult, error) {
	if req == nil {
		return nil, invalidInput("nil FileCreateRequest")
	}
	var d createFileData
	// A create that was acted on but whose answer was lost leaves at most an
	// unused session, unless it was an instant upload with KeepBoth, which
	// would add a second copy: only that case is never replayed blindly.
	err := c.do(ctx, &call{path: path, body: req, out: &d, replay: req.Duplicate != KeepBoth})
	if err != nil {
		return nil, err
	}
	return &FileCreateResult{FileID: int64(d.FileID), PreuploadID: d.PreuploadID, Reuse: d.Reuse,
		SliceSize: int64(d.SliceSize), Servers: d.Servers}, nil
}

// UploadURL is a presigned URL for one slice. Its query carries a signature:
// treat it as a secret (the SDK never logs it).
type UploadURL struct {
	PresignedURL string
	IsMultipart  bool
}

type uploadURLData struct {
	PresignedURL string `json:"presignedURL"`
	IsMultipart  bool   `json:"isMultipart"`
}

// UploadURL returns the presigned PUT URL of slice sliceNo (1-based).
// URLs expire: fetch one right before its PUT.
func (s *DriveService) UploadURL(ctx context.Context, preuploadID string, sliceNo int) (*UploadURL, error) {
	return s.c.getUploadURL(ctx, pathGetUploadURL, preuploadID, sliceNo)
}

func (c *Client) getUploadURL(ctx context.Context, path, preuploadID string, sliceNo int) (*UploadURL, error) {
	if preuploadID == "" || sliceNo < 1 {
		return nil, invalidInput("need a preuploadID and a sliceNo >= 1")
	}
	var d uploadURLData
	err := c.do(ctx, &call{path: path, body: map[string]any{"preuploadID": preuploadID, "sliceNo": sliceNo}, out: &d, replay: true})
	if err != nil {
		return nil, err
	}
	return &UploadURL{PresignedURL: d.PresignedURL, IsMultipart: d.IsMultipart}, nil
}

// UploadPart is one slice the platform holds, from list_upload_parts.
type UploadPart struct {
	PartNumber int    // 1-based slice number
	Size       int64  // bytes
	Etag       string // MD5 of the slice, lowercase hex
}

type uploadPartsData struct {
	Parts []struct {
		PartNumber flexInt `json:"partNumber"`
		Size       flexInt `json:"size"`
		Etag       string  `json:"etag"`
	} `json:"parts"`
}

// ListParts lists the slices the platform holds for a session. The
// platform answers nothing for files smaller than one slice.
func (s *DriveService) ListParts(ctx context.Context, preuploadID string) ([]UploadPart, error) {
	return s.c.listUploadParts(ctx, pathListUploadParts, preuploadID)
}

func (c *Client) listUploadParts(ctx context.Context, path, preuploadID string) ([]UploadPart, error) {
	var d uploadPartsData
	if err := c.sessionCall(ctx, path, preuploadID, &d, false); err != nil {
		return nil, err
	}
	parts := make([]UploadPart, 0, len(d.Parts))
	for _, p := range d.Parts {
		parts = append(parts, UploadPart{PartNumber: int(p.PartNumber), Size: int64(p.Size), Etag: p.Etag})
	}
	return parts, nil
}

// FileCompleteResult is the answer of upload_complete. When Async is true and
// Completed false, poll [DriveService.AsyncResult] (at most once a second).
// The V1 flow page calls the upload finished when Async is false and FileID
// is non-zero, without mentioning Completed; the Uploader reads it so.
// Completed with FileID 0 has been seen too: the ID is then to be had from
// AsyncResult (the Uploader asks it a few times, then gives up).
type FileCompleteResult struct {
	Async     bool
	Completed bool
	FileID    int64
}

type completeData struct {
	Async     bool    `json:"async"`
	Completed bool    `json:"completed"`
	FileID    flexInt `json:"fileID"`
}

// Complete ends a drive upload session (POST /upload/v1/file/upload_complete).
// The call is keyed by the session, so a replay cannot create a second file:
// it is retried after ambiguous failures.
func (s *DriveService) Complete(ctx context.Context, preuploadID string) (*FileCompleteResult, error) {
	var d completeData
	if err := s.c.sessionCall(ctx, pathComplete, preuploadID, &d, false); err != nil {
		return nil, err
	}
	return &FileCompleteResult{Async: d.Async, Completed: d.Completed, FileID: int64(d.FileID)}, nil
}

// AsyncResult asks whether an async completion has finished
// (upload_async_result); Async is always false in its answer.
func (s *DriveService) AsyncResult(ctx context.Context, preuploadID string) (*FileCompleteResult, error) {
	var d completeData
	if err := s.c.sessionCall(ctx, pathAsyncResult, preuploadID, &d, false); err != nil {
		return nil, err
	}
	return &FileCompleteResult{Completed: d.Completed, FileID: int64(d.FileID)}, nil
}

// Mkdir creates folder name under parentID (0 = root) in the drive and
// returns its ID. An existing name is an *APIError (code 1); see [DriveService.EnsureDir].
func (s *DriveService) Mkdir(ctx context.Context, parentID int64, name string) (int64, error) {
	if err := validateName(name); err != nil {
		return 0, err
	}
	var d struct {
		DirID flexInt `json:"dirID"`
	}
	err := s.c.do(ctx, &call{path: pathMkdir, body: map[string]any{"name": name, "parentID": parentID}, out: &d})
	if err != nil {
		return 0, err
	}
	if d.DirID == 0 {
		return 0, protocolError("mkdir answered dirID 0")
	}
	return int64(d.DirID), nil
}

func preuploadBody(id string) map[string]string { return map[string]string{"preuploadID": id} }

// sessionCall refuses an empty session ID before any request.
func (c *Client) sessionCall(ctx context.Context, path, preuploadID string, out any, verifyingIsFinal bool) error {
	if preuploadID == "" {
		return invalidInput("empty preuploadID")
	}
	return c.do(ctx, &call{path: path, body: preuploadBody(preuploadID), out: out, replay: true, verifyingIsFinal: verifyingIsFinal})
}
