package fetcher

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxLinkHops bounds symlink resolution, as the kernel's ELOOP does.
const maxLinkHops = 40

// checkInside resolves name inside root the way the kernel would, one
// component at a time, following symlinks, and fails if the resolution ever
// climbs above the root or jumps to an absolute path. A lexical check of a
// link's target is not enough: an earlier link ("d" -> ".") changes what
// ".." means in a later one. Missing components are fine (a dangling link
// that stays inside).
func checkInside(root *os.Root, name string) error {
	var cur []string // resolved, existing, non-link components
	todo := strings.Split(filepath.ToSlash(name), "/")
	hops := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				return fmt.Errorf("symlink %q resolves outside the sandbox", name)
			}
			cur = cur[:len(cur)-1]
			continue
		}
		p := filepath.Join(append(append([]string(nil), cur...), c)...)
		st, err := root.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			cur = append(cur, c)
			continue
		}
		if err != nil {
			return fmt.Errorf("symlink %q resolves outside the sandbox: %w", name, err)
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			cur = append(cur, c)
			continue
		}
		if hops++; hops > maxLinkHops {
			return fmt.Errorf("symlink %q: too many levels of links", name)
		}
		target, err := root.Readlink(p)
		if err != nil {
			return fmt.Errorf("read symlink %s: %w", p, err)
		}
		if strings.HasPrefix(target, "/") {
			return fmt.Errorf("symlink %q points to the absolute path %q", p, target)
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return nil
}
