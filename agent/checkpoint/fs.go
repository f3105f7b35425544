package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// FS is the file system a Store writes through. OS is the real one; tests
// wrap it to fail writes the way a full disk does. Every method may block on
// disk I/O.
type FS interface {
	MkdirAll(dir string) error
	// OpenFile opens name with os.OpenFile's flag; created files get mode 0644.
	OpenFile(name string, flag int) (File, error)
	Rename(from, to string) error
	RemoveAll(path string) error
	ReadFile(name string) ([]byte, error)
	ReadDir(dir string) ([]os.DirEntry, error)
	// SyncDir makes the directory's entries (a rename, a new file) durable.
	SyncDir(dir string) error
}

// File is an open checkpoint file.
type File interface {
	io.Writer
	Sync() error
	Truncate(size int64) error
	Seek(offset int64, whence int) (int64, error)
	Close() error
}

// OS is the real file system.
type OS struct{}

func (OS) MkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }
func (OS) OpenFile(name string, flag int) (File, error) {
	return os.OpenFile(name, flag, 0o644)
}
func (OS) Rename(from, to string) error              { return os.Rename(from, to) }
func (OS) RemoveAll(path string) error               { return os.RemoveAll(path) }
func (OS) ReadFile(name string) ([]byte, error)      { return os.ReadFile(name) }
func (OS) ReadDir(dir string) ([]os.DirEntry, error) { return os.ReadDir(dir) }
func (OS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// writeAtomic replaces path with data: a reader (or a restart) sees the old
// file or the new one, never a mix. A failure removes the temporary file.
func writeAtomic(fsys FS, path string, data []byte) (retErr error) {
	dir := filepath.Dir(path)
	tmp := filepath.Join(dir, "."+filepath.Base(path)+".tmp")
	f, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return err
	}
	defer func() {
		if retErr != nil {
			_ = fsys.RemoveAll(tmp)
		}
	}()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := fsys.Rename(tmp, path); err != nil {
		return err
	}
	return fsys.SyncDir(dir)
}

// writeFile checkpoints payload as the whole file path.
func writeFile(fsys FS, path string, payload []byte) error {
	if err := writeAtomic(fsys, path, appendRecord(append([]byte(nil), magic...), kindData, payload)); err != nil {
		return fmt.Errorf("checkpoint %s: %w", filepath.Base(path), err)
	}
	return nil
}

// readFile reads a whole-file checkpoint; os.ErrNotExist when missing.
func readFile(fsys FS, path string) ([]byte, error) {
	data, err := fsys.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := decodeSingle(data)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return p, nil
}

// appendLog appends one record to the log at path, creating it with its
// magic, and makes it durable. On failure the log is cut back to its old
// length so that no partial record stays in front of later ones; if even
// that fails the error says so and the log must not be appended to again.
func appendLog(fsys FS, path string, kind byte, payload []byte) error {
	f, err := fsys.OpenFile(path, os.O_RDWR|os.O_CREATE)
	if err != nil {
		return fmt.Errorf("open %s: %w", filepath.Base(path), err)
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("append to %s: %w", filepath.Base(path), err)
	}
	var buf []byte
	if size == 0 {
		buf = append(buf, magic...)
	}
	buf = appendRecord(buf, kind, payload)
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if err == nil && size == 0 {
		// A new log's directory entry must survive a crash too.
		err = fsys.SyncDir(filepath.Dir(path))
	}
	if err == nil {
		return nil
	}
	err = fmt.Errorf("append to %s: %w", filepath.Base(path), err)
	if terr := f.Truncate(size); terr != nil {
		return errors.Join(err, fmt.Errorf("%w: undo partial append: %v", ErrBrokenLog, terr))
	}
	_ = f.Sync()
	return err
}

// ErrBrokenLog means an update log could not be repaired after a failed
// append; its last record will read as torn.
var ErrBrokenLog = errors.New("update log left with a partial record")
