package containerizer

import (
	"errors"
	"testing"
	"time"

	"github.com/cairnhq/cairn/internal/kerneltest"
	"github.com/cairnhq/cairn/isolators"
)

// TestMemoryPressureCounts: a container that writes four times its memory
// limit into files makes its memory cgroup reclaim page cache, which the
// kernel reports as pressure events; the soft limit is the container's
// memory, as Mesos sets it.
func TestMemoryPressureCounts(t *testing.T) {
	l := newTestLinux(t)
	kerneltest.Feature(t, "cgroup v1 memory controller (memory.pressure_level)", func() error {
		if l.host.mode == modeUnified {
			return errors.ErrUnsupported
		}
		return nil
	})
	b := newBox(t)
	var lim isolators.Limits
	if err := (isolators.Mem{}).Spec(isolators.Request{MemMB: 64}, &lim); err != nil {
		t.Fatal(err)
	}
	s := shell(b, "sleep 0.5; for i in 1 2 3 4; do head -c 67108864 /dev/zero > f$i; done; rm -f f1 f2 f3 f4; sleep 300")
	s.Limits = lim
	id := launch(t, l, s)
	p, err := l.WatchMemoryPressure(id)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	deadline := time.Now().Add(30 * time.Second)
	var low, medium, critical uint64
	for low == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		low, medium, critical = p.Read()
	}
	t.Logf("pressure events: low %d, medium %d, critical %d", low, medium, critical)
	if low == 0 {
		t.Fatal("no low pressure event while writing 256 MB under a 64 MB limit")
	}
	if medium > low || critical > medium {
		t.Errorf("low %d, medium %d, critical %d: a listener counts its level and every higher one", low, medium, critical)
	}
	if l2, _, _ := p.Read(); l2 < low {
		t.Errorf("counts went back from %d to %d", low, l2)
	}
	c, err := l.Counters(id)
	if err != nil {
		t.Fatal(err)
	}
	if c.MemSoftLimitBytes != 64<<20 {
		t.Errorf("soft limit %d, want the container's memory %d", c.MemSoftLimitBytes, 64<<20)
	}
	if err := p.Close(); err != nil {
		t.Error(err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
