package fetcher

import (
	"archive/tar"
	"archive/zip"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// archiveKind is how a file is unpacked, chosen by its name as Mesos does.
type archiveKind int

const (
	notArchive archiveKind = iota
	kindTar
	kindTarGz
	kindTarBz2
	kindTarXz
	kindZip
	kindGz
)

func kindOf(name string) archiveKind {
	n := strings.ToLower(name)
	switch {
	case strings.HasSuffix(n, ".tar.gz"), strings.HasSuffix(n, ".tgz"):
		return kindTarGz
	case strings.HasSuffix(n, ".tar.bz2"), strings.HasSuffix(n, ".tbz2"):
		return kindTarBz2
	case strings.HasSuffix(n, ".tar.xz"), strings.HasSuffix(n, ".txz"):
		return kindTarXz
	case strings.HasSuffix(n, ".tar"):
		return kindTar
	case strings.HasSuffix(n, ".zip"):
		return kindZip
	case strings.HasSuffix(n, ".gz"):
		return kindGz
	}
	return notArchive
}

// extract unpacks the archive at name (if it is one) into the sandbox root,
// keeping the archive, as Mesos does.
func (f *Fetcher) extract(ctx context.Context, root *os.Root, name string) error {
	kind := kindOf(name)
	if kind == notArchive {
		return nil
	}
	file, err := root.Open(name)
	if err != nil {
		return fmt.Errorf("open archive: %w", err)
	}
	defer file.Close()
	x := &extractor{ctx: ctx, root: root, left: f.max}
	switch kind {
	case kindTar:
		err = x.tar(file)
	case kindTarGz:
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(file); err == nil {
			err = x.tar(zr)
		}
	case kindTarBz2:
		err = x.tar(bzip2.NewReader(file))
	case kindTarXz:
		err = fmt.Errorf("xz archives: %w (no xz decompressor in the Go standard library)", ErrUnsupported)
	case kindZip:
		var st fs.FileInfo
		if st, err = file.Stat(); err == nil {
			err = x.zip(file, st.Size())
		}
	case kindGz:
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(file); err == nil {
			err = x.file(strings.TrimSuffix(path.Base(filepath.ToSlash(name)), path.Ext(name)), 0o644, zr)
		}
	}
	// Even a failed extraction must not leave a link pointing out.
	if lerr := x.checkLinks(); err == nil {
		err = lerr
	}
	if err != nil {
		return fmt.Errorf("extract %s: %w", name, err)
	}
	return nil
}

// extractor writes archive entries under root, counting bytes against left
// (negative: no limit).
type extractor struct {
	ctx   context.Context
	root  *os.Root
	left  int64
	links []string // symlinks created, checked once all entries exist
}

// checkLinks verifies, after extraction, that every symlink created
// resolves inside the sandbox; an offending link is removed.
func (x *extractor) checkLinks() error {
	var first error
	for _, l := range x.links {
		if err := checkInside(x.root, l); err != nil {
			x.root.Remove(l)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// entryName turns an archive entry name into a local path inside the
// sandbox, refusing absolute names and any ".." that climbs out.
func entryName(raw string) (string, error) {
	slash := filepath.ToSlash(raw)
	if strings.HasPrefix(slash, "/") || filepath.IsAbs(raw) {
		return "", fmt.Errorf("entry %q has an absolute path", raw)
	}
	clean := path.Clean(slash)
	if clean == "." {
		return "", nil
	}
	local := filepath.FromSlash(clean)
	if !filepath.IsLocal(local) {
		return "", fmt.Errorf("entry %q escapes the sandbox", raw)
	}
	return local, nil
}

// linkTarget checks that a symlink at name pointing to target stays inside
// the sandbox.
func linkTarget(name, target string) error {
	if target == "" || strings.HasPrefix(target, "/") || filepath.IsAbs(target) {
		return fmt.Errorf("symlink %q points to %q, outside the sandbox", name, target)
	}
	resolved := filepath.Join(filepath.Dir(name), filepath.FromSlash(target))
	if !filepath.IsLocal(resolved) {
		return fmt.Errorf("symlink %q points to %q, outside the sandbox", name, target)
	}
	return nil
}

func (x *extractor) tar(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		name, err := entryName(h.Name)
		if err != nil {
			return err
		}
		if name == "" {
			continue
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := x.root.MkdirAll(name, dirMode(h.FileInfo().Mode())); err != nil {
				return fmt.Errorf("create directory %s: %w", name, err)
			}
		case tar.TypeReg, tar.TypeRegA:
			if err := x.file(name, h.FileInfo().Mode(), tr); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := x.symlink(name, h.Linkname); err != nil {
				return err
			}
		case tar.TypeLink:
			old, err := entryName(h.Linkname)
			if err != nil || old == "" {
				return fmt.Errorf("hard link %q to %q: target outside the sandbox", h.Name, h.Linkname)
			}
			if err := x.parent(name); err != nil {
				return err
			}
			x.root.Remove(name)
			if err := x.root.Link(old, name); err != nil {
				return fmt.Errorf("create hard link %s: %w", name, err)
			}
		default:
			// Devices, fifos and the like have no place in a sandbox.
		}
	}
}

func (x *extractor) zip(r io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("read zip: %w", err)
	}
	for _, zf := range zr.File {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		name, err := entryName(zf.Name)
		if err != nil {
			return err
		}
		if name == "" {
			continue
		}
		mode := zf.Mode()
		switch {
		case mode.IsDir():
			if err := x.root.MkdirAll(name, dirMode(mode)); err != nil {
				return fmt.Errorf("create directory %s: %w", name, err)
			}
		case mode&fs.ModeSymlink != 0:
			target, err := readSmall(zf)
			if err != nil {
				return err
			}
			if err := x.symlink(name, target); err != nil {
				return err
			}
		case mode.IsRegular():
			rc, err := zf.Open()
			if err != nil {
				return fmt.Errorf("open zip entry %s: %w", zf.Name, err)
			}
			err = x.file(name, mode, rc)
			rc.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// readSmall reads a zip symlink entry's target.
func readSmall(zf *zip.File) (string, error) {
	rc, err := zf.Open()
	if err != nil {
		return "", fmt.Errorf("open zip entry %s: %w", zf.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 4096))
	if err != nil {
		return "", fmt.Errorf("read zip entry %s: %w", zf.Name, err)
	}
	return string(b), nil
}

// parent creates name's parent directories inside the root.
func (x *extractor) parent(name string) error {
	if dir := filepath.Dir(name); dir != "." {
		if err := x.root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create directory %s: %w", dir, err)
		}
	}
	return nil
}

// file writes one regular file, replacing whatever was at name (so an
// earlier symlink entry is replaced, never written through).
func (x *extractor) file(name string, mode fs.FileMode, r io.Reader) error {
	if err := x.parent(name); err != nil {
		return err
	}
	if st, err := x.root.Lstat(name); err == nil && !st.Mode().IsRegular() {
		if err := x.root.Remove(name); err != nil {
			return fmt.Errorf("replace %s: %w", name, err)
		}
	}
	out, err := x.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fileMode(mode))
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	n, err := copyLimited(x.ctx, out, r, x.left)
	if x.left >= 0 {
		x.left -= n
	}
	if cerr := out.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	// OpenFile's mode is masked by the umask; archives mean their bits.
	if err := x.root.Chmod(name, fileMode(mode)); err != nil {
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	return nil
}

func (x *extractor) symlink(name, target string) error {
	if err := linkTarget(name, target); err != nil {
		return err
	}
	if err := x.parent(name); err != nil {
		return err
	}
	x.root.Remove(name)
	if err := x.root.Symlink(target, name); err != nil {
		return fmt.Errorf("create symlink %s: %w", name, err)
	}
	x.links = append(x.links, name)
	return nil
}

// fileMode keeps the permission bits only: no setuid, setgid or sticky bit
// from an archive.
func fileMode(m fs.FileMode) fs.FileMode { return m.Perm() | 0o600 }

func dirMode(m fs.FileMode) fs.FileMode { return m.Perm() | 0o700 }
