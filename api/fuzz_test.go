package api

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	"google.golang.org/protobuf/proto"
)

// The JSON targets check, for any input the decoder accepts, that the
// encoder accepts the result, that its output decodes again, and that a
// second encoding is byte-identical (the encoding is a fixed point). The
// protobuf binary form must carry the same message.
func FuzzJSONCall(f *testing.F) {
	addJSONSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		checkJSON(t, in, func() proto.Message { return &schedulerpb.Call{} })
	})
}

func FuzzJSONExecutorCall(f *testing.F) {
	addJSONSeeds(f)
	f.Add([]byte(`{"executor_id":{"value":"e"},"framework_id":{"value":"f"},"type":"UPDATE",` +
		`"update":{"status":{"task_id":{"value":"t"},"state":"TASK_RUNNING","uuid":"AAECAw==","timestamp":1.5e9}}}`))
	f.Add([]byte(`{"executor_id":{"value":"e"},"framework_id":{"value":"f"},"type":"SUBSCRIBE",` +
		`"subscribe":{"unacknowledged_tasks":[{"name":"t","task_id":{"value":"t"},"agent_id":{"value":"a"},` +
		`"limits":{"cpus":{"value":1}}}]}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		checkJSON(t, in, func() proto.Message { return &executorpb.Call{} })
	})
}

// FuzzProtobufCall checks that any binary Call the protobuf codec accepts
// can be served as JSON (unless it holds a NaN or infinity, which JSON
// cannot carry) and comes back the same.
func FuzzProtobufCall(f *testing.F) {
	for _, s := range jsonSeeds(f) {
		var c schedulerpb.Call
		if JSON.Unmarshal(s, &c) == nil {
			if b, err := Protobuf.Marshal(&c); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var c schedulerpb.Call
		if Protobuf.Unmarshal(in, &c) != nil {
			return
		}
		j, err := JSON.Marshal(&c)
		if err != nil {
			if !strings.Contains(err.Error(), "NaN or infinity") {
				t.Fatalf("JSON.Marshal of a valid Call: %v", err)
			}
			return
		}
		checkJSON(t, j, func() proto.Message { return &schedulerpb.Call{} })
	})
}

func checkJSON(t *testing.T, in []byte, newMsg func() proto.Message) {
	m := newMsg()
	if JSON.Unmarshal(in, m) != nil {
		return
	}
	out, err := JSON.Marshal(m)
	if err != nil {
		t.Fatalf("Marshal of decoded input: %v\ninput %q", err, in)
	}
	m2 := newMsg()
	if err := JSON.Unmarshal(out, m2); err != nil {
		t.Fatalf("Unmarshal of own output: %v\noutput %s", err, out)
	}
	out2, err := JSON.Marshal(m2)
	if err != nil || !bytes.Equal(out, out2) {
		t.Fatalf("second encoding differs (%v):\n%s\n%s", err, out, out2)
	}
	for _, c := range out {
		if c < 0x20 || c > 0x7e {
			t.Fatalf("output byte %#x is not printable ASCII: %s", c, out)
		}
	}
	pb, err := Protobuf.Marshal(m2)
	if err != nil {
		t.Fatalf("Protobuf.Marshal: %v", err)
	}
	m3 := newMsg()
	if err := Protobuf.Unmarshal(pb, m3); err != nil || !proto.Equal(m2, m3) {
		t.Fatalf("protobuf round trip: %v\n%v\n%v", err, m2, m3)
	}
}

func addJSONSeeds(f *testing.F) {
	for _, s := range jsonSeeds(f) {
		f.Add(s)
	}
}

// jsonSeeds are the Mesos documentation samples; more seeds live in
// testdata/fuzz/<target>.
func jsonSeeds(f *testing.F) [][]byte {
	files, err := filepath.Glob("testdata/mesosdoc/*.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("seed samples: %v", err)
	}
	var seeds [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}
