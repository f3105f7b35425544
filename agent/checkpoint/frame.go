package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"

	"google.golang.org/protobuf/proto"
)

// Record kinds.
const (
	kindData   byte = 1 // the payload of a whole file
	kindUpdate byte = 2 // task.updates: a marshalled internalpb.StatusUpdate
	kindAck    byte = 3 // task.updates: the 16-byte uuid of an acknowledged update
)

// magic starts every framed file; it changes with the format.
var magic = []byte("CRK1")

const (
	headerLen = 9        // length u32, kind u8, crc u32
	maxRecord = 16 << 20 // no checkpoint record is anywhere near this
)

// castagnoli is built on first use, not at package init: the binary that
// links this package also starts as every container's init and executor.
var castagnoli = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

// ErrCorrupt marks a checkpoint file that failed its checks.
var ErrCorrupt = errors.New("corrupt checkpoint")

// record is one decoded record.
type record struct {
	kind    byte
	payload []byte
}

// appendRecord frames payload as one record of kind.
func appendRecord(buf []byte, kind byte, payload []byte) []byte {
	var h [headerLen]byte
	binary.LittleEndian.PutUint32(h[0:4], uint32(len(payload)))
	h[4] = kind
	crc := crc32.Update(crc32.Checksum([]byte{kind}, castagnoli()), castagnoli(), payload)
	binary.LittleEndian.PutUint32(h[5:9], crc)
	buf = append(buf, h[:]...)
	return append(buf, payload...)
}

// decoded is what decode found in a framed file.
type decoded struct {
	records []record
	// valid is the length of the prefix made of the magic and whole,
	// checksummed records.
	valid int
	// torn is set when the bytes after valid are an incomplete or
	// mismatching final record: a crash during its append.
	torn bool
}

// decode parses a framed file. A bad magic, or a bad record followed by more
// data, is ErrCorrupt; a bad final record is reported as torn.
func decode(data []byte) (decoded, error) {
	if len(data) < len(magic) || string(data[:len(magic)]) != string(magic) {
		if len(data) < len(magic) && string(data) == string(magic[:len(data)]) {
			// Even the magic was cut short: a log torn at its creation.
			return decoded{torn: len(data) > 0}, nil
		}
		return decoded{}, fmt.Errorf("bad file header: %w", ErrCorrupt)
	}
	d := decoded{valid: len(magic)}
	for off := len(magic); off < len(data); {
		rest := data[off:]
		if len(rest) < headerLen {
			d.torn = true
			return d, nil
		}
		n := int(binary.LittleEndian.Uint32(rest[0:4]))
		kind := rest[4]
		want := binary.LittleEndian.Uint32(rest[5:9])
		if n > maxRecord {
			return d, fmt.Errorf("record at offset %d claims %d bytes: %w", off, n, ErrCorrupt)
		}
		if len(rest) < headerLen+n {
			d.torn = true
			return d, nil
		}
		payload := rest[headerLen : headerLen+n]
		crc := crc32.Update(crc32.Checksum([]byte{kind}, castagnoli()), castagnoli(), payload)
		end := off + headerLen + n
		if crc != want {
			if end == len(data) {
				d.torn = true
				return d, nil
			}
			return d, fmt.Errorf("record at offset %d fails its checksum: %w", off, ErrCorrupt)
		}
		d.records = append(d.records, record{kind: kind, payload: payload})
		off = end
		d.valid = end
	}
	return d, nil
}

// decodeSingle parses a whole-file checkpoint: exactly one data record.
// Atomic writes cannot tear, so anything else is corruption.
func decodeSingle(data []byte) ([]byte, error) {
	d, err := decode(data)
	if err != nil {
		return nil, err
	}
	if d.torn || len(d.records) != 1 || d.records[0].kind != kindData {
		return nil, fmt.Errorf("want one whole record, found %d (torn %v): %w", len(d.records), d.torn, ErrCorrupt)
	}
	return d.records[0].payload, nil
}

// Checkpoints keep messages as the agent had them: proto2 required fields
// the sender left out must not make a checkpoint unwritable or unreadable.
var (
	partial   = proto.MarshalOptions{AllowPartial: true}
	partialIn = proto.UnmarshalOptions{AllowPartial: true}
)
