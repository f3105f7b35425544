package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// maxDiskEntries bounds one measurement of a sandbox: a sandbox with more
// files and directories than this is reported at the size of those walked
// (and errTooManyEntries), so one task cannot make the disk watch walk
// without end.
const maxDiskEntries = 1 << 20

var errTooManyEntries = errors.New("too many entries: size is of the first ones only")

// sandboxSize is what du -s reports of a directory, in bytes: the blocks
// allocated to it and everything below it. Like du it counts a file with
// several links once, and it stays on the directory's file system (a mount
// below it is somebody else's disk). It never follows a symbolic link:
// a link's target may be anywhere on the host. Entries removed while it
// walks are skipped. At most limit entries are counted.
func sandboxSize(root string, limit int) (uint64, error) {
	st, err := lstat(root)
	if err != nil {
		return 0, fmt.Errorf("measure sandbox: %w", err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return 0, fmt.Errorf("measure sandbox: %s is not a directory", root)
	}
	dev := st.Dev
	type inode struct{ dev, ino uint64 }
	seen := map[inode]bool{}
	var total uint64
	n := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if n++; n > limit {
			return errTooManyEntries
		}
		info, err := d.Info() // lstat: a link is measured, not followed
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		s, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		if d.IsDir() && s.Dev != dev {
			return filepath.SkipDir
		}
		if !d.IsDir() && s.Nlink > 1 {
			k := inode{s.Dev, s.Ino}
			if seen[k] {
				return nil
			}
			seen[k] = true
		}
		total += uint64(s.Blocks) * 512 // st_blocks is in 512-byte units
		return nil
	})
	if err != nil && !errors.Is(err, errTooManyEntries) {
		return total, fmt.Errorf("measure sandbox %s: %w", root, err)
	}
	return total, err
}

func lstat(path string) (*syscall.Stat_t, error) {
	info, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	s, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, fmt.Errorf("lstat %s: no stat_t", path)
	}
	return s, nil
}
