package usage

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// TestAppendJSONMatchesEncodingJSON: the hand-written encoder makes what
// encoding/json makes of Statistics, for samples with and without the eBPF
// figures and with awkward floats.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	samples := []Sample{
		{Time: at(0)},
		{Time: at(3).Add(123456789), Counters: Counters{CPUUserSecs: 1.25, CPUSystemSecs: 1e-7, CPUThrottledSecs: 3e21,
			MemTotal: math.MaxUint64, MemRSS: 5, Processes: 2}, CPUsLimit: 0.1 + 0.2},
		{Time: at(9), EBPF: true, Net: true, OnCPU: 1500 * time.Millisecond, RunQueueP50: 3 * time.Nanosecond,
			RunQueueP99: time.Microsecond, RunQueueTotal: time.Hour, Switches: 7, NetRxBytes: 1 << 40, RSSPeak: 9, OOMKills: 1},
		{Time: at(1), Net: true, NetTxPackets: 4},
	}
	for i, s := range samples {
		want, err := json.Marshal(s.Statistics())
		if err != nil {
			t.Fatal(err)
		}
		if got := s.AppendJSON(nil); string(got) != string(want) {
			t.Errorf("sample %d:\n got %s\nwant %s", i, got, want)
		}
	}
	for _, str := range []string{"plain-id_1.2", `quo"te`, "<tag>&", "tab\t", "ünï"} {
		want, _ := json.Marshal(str)
		if got := AppendJSONString(nil, str); string(got) != string(want) {
			t.Errorf("string %q: got %s, want %s", str, got, want)
		}
	}
}
