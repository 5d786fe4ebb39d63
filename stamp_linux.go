package pan123

import (
	"io/fs"
	"syscall"
)

func stampOf(info fs.FileInfo) fileStamp {
	s := fileStamp{MTime: info.ModTime().UnixNano()}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		s.Inode = st.Ino
		s.CTime = st.Ctim.Nano()
	}
	return s
}
