package recordio

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// countingWriter records each Write call and each Flush.
type countingWriter struct {
	writes  [][]byte
	flushes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, bytes.Clone(p))
	return len(p), nil
}

func (w *countingWriter) Flush() { w.flushes++ }

func TestWriterOneWritePerRecordAndFlush(t *testing.T) {
	var cw countingWriter
	w := NewWriter(&cw)
	recs := []string{`{"type":"HEARTBEAT"}`, "", "x\ny"}
	for _, r := range recs {
		if err := w.Write([]byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"20\n{\"type\":\"HEARTBEAT\"}", "0\n", "3\nx\ny"}
	if len(cw.writes) != len(want) {
		t.Fatalf("writes = %q", cw.writes)
	}
	for i := range want {
		if string(cw.writes[i]) != want[i] {
			t.Errorf("write %d = %q, want %q", i, cw.writes[i], want[i])
		}
	}
	if cw.flushes != len(recs) {
		t.Errorf("flushes = %d, want %d", cw.flushes, len(recs))
	}
}

func TestWriterFlushesBufio(t *testing.T) {
	var out bytes.Buffer
	bw := bufio.NewWriterSize(&out, 4096)
	if err := NewWriter(bw).Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	if out.String() != "3\nabc" {
		t.Errorf("after Write the buffer holds %q", out.String())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWriterError(t *testing.T) {
	if err := NewWriter(failingWriter{}).Write([]byte("a")); err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("err = %v", err)
	}
}

func TestReaderRoundTrip(t *testing.T) {
	recs := [][]byte{[]byte(`{"a":1}`), {}, bytes.Repeat([]byte{0, '\n', 0xff}, 100_000), []byte("last")}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
	}
	for name, wrap := range readers {
		t.Run(name, func(t *testing.T) {
			r := NewReader(wrap(bytes.NewReader(buf.Bytes())), 0)
			for i, want := range recs {
				got, err := r.Next()
				if err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("record %d: got %d bytes, want %d", i, len(got), len(want))
				}
			}
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("at end: %v, want io.EOF", err)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     error  // matched with errors.Is, if set
		contains string // else matched by text
	}{
		{"empty stream", "", 0, io.EOF, ""},
		{"cut in header", "12", 0, io.ErrUnexpectedEOF, ""},
		{"cut in data", "5\nabc", 0, io.ErrUnexpectedEOF, ""},
		{"no digits", "\nabc", 0, nil, "unexpected byte"},
		{"letters", "abc\n", 0, nil, "unexpected byte"},
		{"sign", "-1\n", 0, nil, "unexpected byte"},
		{"space", "1 \nx", 0, nil, "unexpected byte"},
		{"carriage return", "1\r\nx", 0, nil, "unexpected byte"},
		{"too many digits", strings.Repeat("0", 21) + "1\n", 0, nil, "unexpected byte"},
		{"over the limit", "11\nhello world", 10, ErrTooLarge, ""},
		{"way over the limit", "99999999999999999999999\n", 0, ErrTooLarge, ""},
		{"over the default limit", "16777217\n", 0, ErrTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.in), tt.max).Next()
			switch {
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("err = %v, want %v", err, tt.want)
			case tt.want == nil && (err == nil || !strings.Contains(err.Error(), tt.contains)):
				t.Errorf("err = %v, want it to contain %q", err, tt.contains)
			}
		})
	}
	// Exactly at the limit is fine.
	if got, err := NewReader(strings.NewReader("10\n0123456789"), 10).Next(); err != nil || string(got) != "0123456789" {
		t.Errorf("at the limit: %q, %v", got, err)
	}
}

// A peer that announces a record just under the limit and then sends a
// few bytes must not make the reader allocate the announced size.
func TestReaderLyingLength(t *testing.T) {
	in := "16777215\n" + strings.Repeat("x", 100)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := NewReader(strings.NewReader(in), 0).Next()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("allocated %d bytes for a 100-byte record", grew)
	}
}
