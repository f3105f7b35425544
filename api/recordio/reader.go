package recordio

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxRecord is the record size limit a Reader uses unless told
// otherwise.
const DefaultMaxRecord = 16 << 20

// maxHeader bounds the digits of a length: 20 digits hold any uint64.
const maxHeader = 20

// ErrTooLarge is returned (wrapped) for a record longer than the limit.
var ErrTooLarge = errors.New("record exceeds size limit")

// Reader reads records from an underlying reader.
type Reader struct {
	r   *bufio.Reader
	max int
}

// NewReader returns a Reader on r that refuses records longer than max
// bytes; max <= 0 means DefaultMaxRecord.
func NewReader(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = DefaultMaxRecord
	}
	max = min(max, 1<<50) // keeps the header arithmetic far from overflow
	return &Reader{r: bufio.NewReader(r), max: max}
}

// Next returns the next record in a newly allocated slice. At a clean end
// of stream (between records) it returns io.EOF; a stream cut inside a
// record gives io.ErrUnexpectedEOF. After an error the stream is out of
// step and the Reader must not be used again.
func (r *Reader) Next() ([]byte, error) {
	n, err := r.header()
	if err != nil {
		return nil, err
	}
	// Grow as data actually arrives, so a peer that announces a large
	// record and sends little makes us allocate little.
	const chunk = 64 << 10
	rec := make([]byte, 0, min(n, chunk))
	for len(rec) < n {
		if len(rec) == cap(rec) {
			rec = append(rec, make([]byte, min(n-len(rec), cap(rec)))...)[:len(rec)]
		}
		m, err := io.ReadFull(r.r, rec[len(rec):min(n, cap(rec))])
		rec = rec[:len(rec)+m]
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("read record of %d bytes: %w", n, err)
		}
	}
	return rec, nil
}

// header reads "<digits>\n" and returns the length.
func (r *Reader) header() (int, error) {
	n, digits := 0, 0
	for {
		c, err := r.r.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) && digits > 0 {
				err = io.ErrUnexpectedEOF
			}
			if errors.Is(err, io.EOF) {
				return 0, io.EOF
			}
			return 0, fmt.Errorf("read record header: %w", err)
		}
		switch {
		case c == '\n' && digits > 0:
			return n, nil
		case c >= '0' && c <= '9' && digits < maxHeader:
			digits++
			if n > r.max/10 || n*10+int(c-'0') > r.max {
				return 0, fmt.Errorf("record header: %w (limit %d bytes)", ErrTooLarge, r.max)
			}
			n = n*10 + int(c-'0')
		default:
			return 0, fmt.Errorf("record header: unexpected byte %q", c)
		}
	}
}
