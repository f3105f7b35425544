package recordio

import (
	"fmt"
	"io"
	"strconv"
)

// Writer writes records to an underlying writer, typically an HTTP
// response.
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w}
}

// Write writes one record (header and data) with a single Write call on
// the underlying writer, then flushes it if the writer can flush (an
// http.Flusher, or anything with Flush() error such as bufio.Writer).
// One Write per record keeps a record in one HTTP chunk, and the flush
// gets it to the peer now rather than when a buffer fills. The record is
// copied; rec may be reused after Write returns.
func (w *Writer) Write(rec []byte) error {
	w.buf = strconv.AppendInt(w.buf[:0], int64(len(rec)), 10)
	w.buf = append(w.buf, '\n')
	w.buf = append(w.buf, rec...)
	if _, err := w.w.Write(w.buf); err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	if cap(w.buf) > 1<<20 {
		w.buf = nil // do not pin one large record's memory for the stream's life
	}
	return w.Flush()
}

// Flush flushes the underlying writer if it can be flushed.
func (w *Writer) Flush() error {
	switch f := w.w.(type) {
	case interface{ Flush() error }:
		if err := f.Flush(); err != nil {
			return fmt.Errorf("flush record: %w", err)
		}
	case interface{ Flush() }:
		f.Flush()
	}
	return nil
}
