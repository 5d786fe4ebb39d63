package pan123

// DriveService holds the low-level calls of the drive (云盘), reached as
// Client.Drive: one method per platform endpoint (V1 create, upload URL,
// part listing, completion; folders and listing; the V2 endpoints), with
// file IDs as int64 and 0 as the root folder. An [Uploader] runs the whole
// flow; these are for tools that drive the protocol by hand.
//
// Names: drive types begin with File (FileCreateRequest, FileList), image-bed
// types with Image; types both families share (UploadURL, UploadPart) with
// neither.
type DriveService struct{ c *Client }

// ImageService holds the low-level calls of the image bed (图床), reached as
// Client.Image: the V1-style flow under /upload/v1/oss/file, folders and
// listing, with opaque string IDs and "" as the root folder.
type ImageService struct{ c *Client }
