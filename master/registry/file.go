package registry

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sync"

	"google.golang.org/protobuf/proto"
)

// FileName is the registry file inside the master's work directory.
const FileName = "registry.pb"

// magic starts every registry file, so a stray file is not mistaken for one.
const magic = "CAIRNREG"

// formatVersion is bumped on any incompatible change of the file layout or
// of the meaning of State's fields.
const formatVersion = 1

// headerSize: magic, then version, payload length and CRC-32C as uint32 BE.
const headerSize = len(magic) + 12

// crcTable is built on first use, not at package init: the binary that
// links this package also starts as every container's init and executor.
var crcTable = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

// encode frames st for the file.
func encode(st *State) ([]byte, error) {
	payload, err := proto.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("marshal registry: %w", err)
	}
	buf := make([]byte, headerSize, headerSize+len(payload))
	copy(buf, magic)
	binary.BigEndian.PutUint32(buf[8:], formatVersion)
	binary.BigEndian.PutUint32(buf[12:], uint32(len(payload)))
	binary.BigEndian.PutUint32(buf[16:], crc32.Checksum(payload, crcTable()))
	return append(buf, payload...), nil
}

// decode checks the frame and returns the state; errors say what is wrong
// with the content, the caller adds the file name.
func decode(buf []byte) (*State, error) {
	if len(buf) < headerSize {
		return nil, fmt.Errorf("truncated: %d bytes, header alone is %d", len(buf), headerSize)
	}
	if string(buf[:len(magic)]) != magic {
		return nil, errors.New("not a registry file (bad magic)")
	}
	if v := binary.BigEndian.Uint32(buf[8:]); v != formatVersion {
		return nil, fmt.Errorf("unknown format version %d (this master reads %d)", v, formatVersion)
	}
	n := binary.BigEndian.Uint32(buf[12:])
	payload := buf[headerSize:]
	if uint64(len(payload)) != uint64(n) {
		return nil, fmt.Errorf("truncated or padded: payload is %d bytes, header says %d", len(payload), n)
	}
	if sum := crc32.Checksum(payload, crcTable()); sum != binary.BigEndian.Uint32(buf[16:]) {
		return nil, errors.New("checksum mismatch (corrupt)")
	}
	st := &State{}
	if err := proto.Unmarshal(payload, st); err != nil {
		return nil, fmt.Errorf("decode state: %w", err)
	}
	return st, nil
}

// load reads path; a missing file is an empty state (first start).
func load(path string) (*State, error) {
	buf, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &State{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read registry: %w", err)
	}
	st, err := decode(buf)
	if err != nil {
		return nil, fmt.Errorf("registry file %s: %w", path, err)
	}
	return st, nil
}

// store replaces path atomically and durably: temp file, fsync, rename,
// fsync of the directory. A crash at any point leaves either the old file or
// the new one (plus possibly a stale temp file, which load ignores).
func store(path string, st *State) error {
	buf, err := encode(st)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, FileName+".tmp-*")
	if err != nil {
		return fmt.Errorf("create registry temp file: %w", err)
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if _, err := tmp.Write(buf); err != nil {
		return fmt.Errorf("write registry temp file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync registry temp file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close registry temp file: %w", err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("replace registry file: %w", err)
	}
	ok = true
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open registry dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync registry dir: %w", err)
	}
	return nil
}
