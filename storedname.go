package pan123

import "context"

// WithStoredName(true) makes [Uploader.UploadFile] and [Uploader.Upload]
// report in FileResult.Name the name the platform stored the file under.
// Under [KeepBoth] the platform gives a file whose name is taken in the
// folder a suffixed name ("backup(1).tar"), and its upload answers do not
// say which. Finding it costs one more request after each upload with
// KeepBoth: a listing of the parent folder (GET /api/v2/file/list, one page,
// starting at the new file's ID). Without KeepBoth the name cannot change
// and no request is made; with ContainDir the folder is not known, and none
// is made either. When the listing fails or does not show the file (the
// platform's listing may lag behind uploads), Name stays the name asked
// for: the upload itself succeeded, and is not reported as failed.
// Default: false.
func WithStoredName(on bool) UploadOption {
	return func(o *uploadConfig) { o.storedName = on }
}

// storedName replaces res.Name with the name the listing shows for
// res.FileID, when WithStoredName asks for it and KeepBoth may have renamed
// the file.
func (u *Uploader) storedName(ctx context.Context, in FileInput, opts []UploadOption, res *FileResult, err error) (*FileResult, error) {
	if err != nil || in.Duplicate != KeepBoth || in.ContainDir {
		return res, err
	}
	cfg := u.cfg
	cfg.errs = nil // the upload checked the options already
	cfg.apply(opts)
	if !cfg.storedName {
		return res, err
	}
	list, lerr := u.c.Drive.List(ctx, in.ParentFileID, res.FileID-1, MaxListLimit)
	if lerr != nil {
		return res, nil // the upload succeeded; the name stays the one asked for
	}
	for _, f := range list.Files {
		if f.FileID == res.FileID && !f.Dir {
			res.Name = f.Filename
		}
	}
	return res, nil
}
