package pan123

import "context"

// The image bed (图床, "oss") family: the V1 flow under /upload/v1/oss/file
// with opaque string IDs, "" as the root folder and a fixed type 1.

// ImageCreateRequest is the body of the image bed's create call.
type ImageCreateRequest struct {
	ParentID string `json:"parentFileID"` // parent folder; "" = root (ParentID, as in ImageInput)
	Filename string `json:"filename"`
	Etag     string `json:"etag"` // whole-file MD5, lowercase hex
	Size     int64  `json:"size"`
	Type     int    `json:"type"` // always 1; set by Create
}

// ImageCreateResult is the answer of the image bed's create.
type ImageCreateResult struct {
	FileID      string // set on instant upload
	PreuploadID string
	Reuse       bool
	SliceSize   int64
}

// Create starts an image-bed upload (POST /upload/v1/oss/file/create).
// The platform documents neither a duplicate policy nor containDir here, so
// none is sent.
func (s *ImageService) Create(ctx context.Context, req *ImageCreateRequest) (*ImageCreateResult, error) {
	if req == nil {
		return nil, invalidInput("nil ImageCreateRequest")
	}
	body := *req
	body.Type = 1
	var d struct {
		FileID      flexString `json:"fileID"`
		PreuploadID string     `json:"preuploadID"`
		Reuse       bool       `json:"reuse"`
		SliceSize   flexInt    `json:"sliceSize"`
	}
	// Without a duplicate policy a replayed instant upload cannot add a copy
	// (the image bed dedups on MD5 and size), so create may be replayed.
	if err := s.c.do(ctx, &call{path: pathOSSCreate, body: &body, out: &d, replay: true}); err != nil {
		return nil, err
	}
	return &ImageCreateResult{FileID: string(d.FileID), PreuploadID: d.PreuploadID, Reuse: d.Reuse, SliceSize: int64(d.SliceSize)}, nil
}

// UploadURL returns the presigned PUT URL of an image-bed slice.
func (s *ImageService) UploadURL(ctx context.Context, preuploadID string, sliceNo int) (*UploadURL, error) {
	return s.c.getUploadURL(ctx, pathOSSGetUploadURL, preuploadID, sliceNo)
}

// ListParts lists the slices the platform holds for an image-bed
// session. The endpoint is used by several clients but absent from the
// official image-bed pages.
func (s *ImageService) ListParts(ctx context.Context, preuploadID string) ([]UploadPart, error) {
	return s.c.listUploadParts(ctx, pathOSSListUploadParts, preuploadID)
}

// ImageCompleteResult is the answer of the image bed's upload_complete and
// upload_async_result; FileID is "" until Completed. The image bed's page
// does not require fileID in upload_complete's answer, so Completed may come
// with FileID "": ask [ImageService.AsyncResult] for it.
type ImageCompleteResult struct {
	Async     bool
	Completed bool
	FileID    string
}

type imageCompleteData struct {
	Async     bool       `json:"async"`
	Completed bool       `json:"completed"`
	FileID    flexString `json:"fileID"`
}

// Complete ends an image-bed session. Like [DriveService.Complete]
// it is keyed by the session and retried after ambiguous failures.
func (s *ImageService) Complete(ctx context.Context, preuploadID string) (*ImageCompleteResult, error) {
	return s.c.completeImage(ctx, pathOSSComplete, preuploadID, false)
}

// AsyncResult asks whether an async image-bed completion has finished.
func (s *ImageService) AsyncResult(ctx context.Context, preuploadID string) (*ImageCompleteResult, error) {
	return s.c.completeImage(ctx, pathOSSAsyncResult, preuploadID, false)
}

func (c *Client) completeImage(ctx context.Context, path, preuploadID string, verifyingIsFinal bool) (*ImageCompleteResult, error) {
	var d imageCompleteData
	if err := c.sessionCall(ctx, path, preuploadID, &d, verifyingIsFinal); err != nil {
		return nil, err
	}
	return &ImageCompleteResult{Async: d.Async, Completed: d.Completed, FileID: string(d.FileID)}, nil
}

// Mkdir creates folder name under parentID ("" = root) in the image bed
// and returns its ID. The official table types name as a list of strings
// while its example sends one string; the SDK sends a one-element list.
func (s *ImageService) Mkdir(ctx context.Context, parentID, name string) (string, error) {
	if err := validateName(name); err != nil {
		return "", err
	}
	var d struct {
		List []struct {
			Filename string     `json:"filename"`
			DirID    flexString `json:"dirID"`
		} `json:"list"`
	}
	body := map[string]any{"name": []string{name}, "parentID": parentID, "type": 1}
	if err := s.c.do(ctx, &call{path: pathOSSMkdir, body: body, out: &d}); err != nil {
		return "", err
	}
	for _, e := range d.List {
		if e.DirID != "" && (e.Filename == name || len(d.List) == 1) {
			return string(e.DirID), nil
		}
	}
	return "", protocolError("image mkdir answered no dirID for %q", name)
}
