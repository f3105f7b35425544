package recordio

import (
	"bytes"
	"io"
	"testing"
)

// FuzzRecordIO feeds arbitrary streams to the Reader: it must never panic,
// never return a record over the limit, and whatever it reads must write
// and read back record for record. (Byte equality with the input does not
// hold: headers may carry leading zeros, which the Writer does not.)
func FuzzRecordIO(f *testing.F) {
	f.Add([]byte("3\nabc0\n5\nhello"))
	f.Add([]byte("20\n{\"type\":\"HEARTBEAT\"}"))
	f.Add([]byte("99999999999999999999\n"))
	f.Add([]byte("4\nab"))
	f.Fuzz(func(t *testing.T, in []byte) {
		const limit = 1 << 10
		r := NewReader(bytes.NewReader(in), limit)
		var again bytes.Buffer
		w := NewWriter(&again)
		var recs [][]byte
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			if len(rec) > limit {
				t.Fatalf("record of %d bytes over the %d limit", len(rec), limit)
			}
			recs = append(recs, rec)
			if err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
		}
		// What was written reads back record for record, to a clean EOF.
		r2 := NewReader(bytes.NewReader(again.Bytes()), limit)
		for i, want := range recs {
			if got, err := r2.Next(); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("record %d reads back as %q, %v; want %q", i, got, err, want)
			}
		}
		if _, err := r2.Next(); err != io.EOF {
			t.Fatalf("re-encoded stream ends with %v", err)
		}
	})
}
