//go:build !linux && !darwin

package pan123

import "io/fs"

// stampOf has only the modification time where the SDK reads no inode.
func stampOf(info fs.FileInfo) fileStamp {
	return fileStamp{MTime: info.ModTime().UnixNano()}
}
