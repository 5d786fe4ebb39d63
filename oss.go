package pan123

import "context"

// The image bed (图床, "oss") family: the V1 flow under /upload/v1/oss/file
// with opaque string IDs, "" as the root folder and a fixed type 1.

// CreateImageRequest is the body of the image bed's create call.
type CreateImageRequest struct {
	ParentFileID string `json:"parentFileID"` // parent folder; "" = root
	Filename     string `json:"filename"`
	Etag         string `json:"etag"` // whole-file MD5, lowercase hex
	Size         int64  `json:"size"`
	Type         int    `json:"type"` // always 1; set by CreateImage
}

// CreateImageResponse is the answer of the image bed's create.
type CreateImageResponse struct {
	FileID      string // set on instant upload
	PreuploadID string
	Reuse       bool
	SliceSize   int64
}

// CreateImage starts an image-bed upload (POST /upload/v1/oss/file/create).
// The platform documents neither a duplicate policy nor containDir here, so
// none is sent.
func (c *Client) CreateImage(ctx context.Context, req *CreateImageRequest) (*CreateImageResponse, error) {
	if req == nil {
		return nil, invalidInput("nil CreateImageRequest")
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
	if err := c.do(ctx, &call{path: pathOSSCreate, body: &body, out: &d, replay: true}); err != nil {
		return nil, err
	}
	return &CreateImageResponse{FileID: string(d.FileID), PreuploadID: d.PreuploadID, Reuse: d.Reuse, SliceSize: int64(d.SliceSize)}, nil
}

// GetImageUploadURL returns the presigned PUT URL of an image-bed slice.
func (c *Client) GetImageUploadURL(ctx context.Context, preuploadID string, sliceNo int) (*UploadURL, error) {
	return c.getUploadURL(ctx, pathOSSGetUploadURL, preuploadID, sliceNo)
}

// ListImageUploadParts lists the slices the platform holds for an image-bed
// session. The endpoint is used by several clients but absent from the
// official image-bed pages.
func (c *Client) ListImageUploadParts(ctx context.Context, preuploadID string) ([]UploadPart, error) {
	return c.listUploadParts(ctx, pathOSSListUploadParts, preuploadID)
}

// ImageCompleteResult is the answer of the image bed's upload_complete and
// upload_async_result; FileID is "" until Completed. The image bed's page
// does not require fileID in upload_complete's answer, so Completed may come
// with FileID "": ask [Client.ImageUploadAsyncResult] for it.
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

// CompleteImageUpload ends an image-bed session. Like [Client.CompleteUpload]
// it is keyed by the session and retried after ambiguous failures.
func (c *Client) CompleteImageUpload(ctx context.Context, preuploadID string) (*ImageCompleteResult, error) {
	return c.completeImage(ctx, pathOSSComplete, preuploadID, false)
}

// ImageUploadAsyncResult asks whether an async image-bed completion has finished.
func (c *Client) ImageUploadAsyncResult(ctx context.Context, preuploadID string) (*ImageCompleteResult, error) {
	return c.completeImage(ctx, pathOSSAsyncResult, preuploadID, false)
}

func (c *Client) completeImage(ctx context.Context, path, preuploadID string, verifyingIsFinal bool) (*ImageCompleteResult, error) {
	var d imageCompleteData
	if err := c.sessionCall(ctx, path, preuploadID, &d, verifyingIsFinal); err != nil {
		return nil, err
	}
	return &ImageCompleteResult{Async: d.Async, Completed: d.Completed, FileID: string(d.FileID)}, nil
}

// MkdirImage creates folder name under parentID ("" = root) in the image bed
// and returns its ID. The official table types name as a list of strings
// while its example sends one string; the SDK sends a one-element list.
func (c *Client) MkdirImage(ctx context.Context, parentID, name string) (string, error) {
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
	if err := c.do(ctx, &call{path: pathOSSMkdir, body: body, out: &d}); err != nil {
		return "", err
	}
	for _, e := range d.List {
		if e.DirID != "" && (e.Filename == name || len(d.List) == 1) {
			return string(e.DirID), nil
		}
	}
	return "", protocolError("image mkdir answered no dirID for %q", name)
}
