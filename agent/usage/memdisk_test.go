package usage

import (
	"encoding/json"
	"testing"

	"github.com/cairnhq/cairn/ids"
)

type fakePressure map[ids.ContainerID]Pressure

func (f fakePressure) Pressure(id ids.ContainerID) (Pressure, bool) {
	p, ok := f[id]
	return p, ok
}

type fakeDisk map[ids.ContainerID]uint64

func (f fakeDisk) DiskUsed(id ids.ContainerID) (uint64, bool) {
	b, ok := f[id]
	return b, ok
}

// TestMemDiskKeys: Read takes the pressure counts and the sandbox size from
// their sources and the disk limit from the target; the samples show them in
// JSON (hand-written and encoding/json alike) and in the protobuf message,
// and leave out what was not measured.
func TestMemDiskKeys(t *testing.T) {
	f := newFakeSources()
	f.counters["a"] = Counters{MemSoftLimit: 64 << 20, MemUnevictable: 4096}
	f.counters["b"] = Counters{MemSoftLimit: 32 << 20}
	src := f.sources()
	src.Pressure = fakePressure{"a": {Low: 7, Medium: 2, Critical: 1}}
	src.Disk = fakeDisk{"a": 12345}
	ta, tb := target("a", 1), target("b", 2)
	ta.DiskLimit = 100 << 20
	s := NewStore(DefaultCapacity)
	s.Apply(at(1), Read(src, []Target{ta, tb}))

	want := map[string]map[string]any{
		"a": {"mem_soft_limit_bytes": 64 << 20, "mem_unevictable_bytes": 4096, "mem_low_pressure_counter": 7,
			"mem_medium_pressure_counter": 2, "mem_critical_pressure_counter": 1,
			"disk_limit_bytes": 100 << 20, "disk_used_bytes": 12345},
		"b": {"mem_soft_limit_bytes": 32 << 20, "mem_unevictable_bytes": 0, "mem_low_pressure_counter": nil,
			"disk_limit_bytes": nil, "disk_used_bytes": nil},
	}
	for id, keys := range want {
		v, ok := s.Get(ids.ContainerID(id))
		if !ok {
			t.Fatalf("no sample of %s", id)
		}
		smp := v.Latest
		enc, err := json.Marshal(smp.Statistics())
		if err != nil {
			t.Fatal(err)
		}
		if got := smp.AppendJSON(nil); string(got) != string(enc) {
			t.Errorf("%s: AppendJSON\n got %s\nwant %s", id, got, enc)
		}
		var m map[string]any
		if err := json.Unmarshal(enc, &m); err != nil {
			t.Fatal(err)
		}
		for k, w := range keys {
			got, has := m[k]
			switch {
			case w == nil && has:
				t.Errorf("%s: %s = %v, want absent", id, k, got)
			case w != nil && got != float64(w.(int)):
				t.Errorf("%s: %s = %v, want %v", id, k, got, w)
			}
		}
		p := smp.Proto()
		if p.GetMemSoftLimitBytes() != smp.MemSoftLimit || p.GetMemUnevictableBytes() != smp.MemUnevictable ||
			p.GetMemLowPressureCounter() != smp.Pressure.Low || p.GetMemCriticalPressureCounter() != smp.Pressure.Critical ||
			p.GetDiskLimitBytes() != smp.DiskLimit || p.GetDiskUsedBytes() != smp.DiskUsed {
			t.Errorf("%s: proto %v does not match sample %+v", id, p, smp.Counters)
		}
		if (p.DiskUsedBytes != nil) != smp.HasDiskUsed || (p.MemMediumPressureCounter != nil) != smp.HasPressure {
			t.Errorf("%s: proto %v sets fields that were not measured", id, p)
		}
	}
}
