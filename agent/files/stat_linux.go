package files

import (
	"io/fs"
	"strconv"
	"syscall"
)

func describe(p string, fi fs.FileInfo) fileInfo {
	out := fileInfo{
		Path:  p,
		Size:  fi.Size(),
		Mtime: float64(fi.ModTime().UnixNano()) / 1e9,
		Mode:  fi.Mode().String(),
		Nlink: 1,
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		out.Nlink = int(st.Nlink)
		out.UID = strconv.FormatUint(uint64(st.Uid), 10)
		out.GID = strconv.FormatUint(uint64(st.Gid), 10)
	}
	return out
}
