package agent

import (
	"testing"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/agentpb"
	"github.com/cairnhq/cairn/internal/kerneltest"
	"github.com/cairnhq/cairn/resources"
)

// TestKernelMemoryPressureAndDisk runs a real agent (cgroup counters) with a
// task of 64 MB and 100 MB of disk that writes six times its memory through
// files, then keeps 5 MB in its sandbox. /monitor/statistics must show the
// reclaim as low pressure events, the soft limit at the container's memory
// (task and executor, 96 MB), the disk limit, and the sandbox's size.
func TestKernelMemoryPressureAndDisk(t *testing.T) {
	kerneltest.Root(t)
	_, ta := kernelAgent(t, "cprs", func(c *Config) {
		c.UsageSource = UsageSourceCgroups
		c.ContainerDiskWatchInterval = 500 * time.Millisecond
	})

	task := usageTask("pressure", "0.1", "64", "sleep 3; for i in 1 2 3 4 5 6; do head -c 67108864 /dev/zero > f$i; done; rm f?; "+
		"head -c 5000000 /dev/zero > keep; sleep 300")
	task.Resources = resources.MustParse("cpus:0.1;mem:64;disk:100").ToProto("")
	ta.run(t, task)
	var raw map[string]any
	eventually(t, "pressure events and the kept 5 MB in the statistics", func() bool {
		_, r, ok := statsOf(t, ta, "e-pressure")
		if !ok {
			return false
		}
		raw = r
		low, _ := r["mem_low_pressure_counter"].(float64)
		used, _ := r["disk_used_bytes"].(float64)
		// 384 MB went through the sandbox first: wait for the files to go.
		return low > 0 && used >= 5_000_000 && used < 20_000_000
	})
	t.Logf("statistics: %v", raw)
	num := func(k string) float64 {
		v, ok := raw[k].(float64)
		if !ok {
			t.Errorf("statistics lack %s", k)
		}
		return v
	}
	if soft, limit := num("mem_soft_limit_bytes"), num("mem_limit_bytes"); soft != 96<<20 || limit != 96<<20 {
		t.Errorf("soft limit %v, limit %v; want both the container's 96 MiB", soft, limit)
	}
	low, medium, critical := num("mem_low_pressure_counter"), num("mem_medium_pressure_counter"), num("mem_critical_pressure_counter")
	if medium > low || critical > medium {
		t.Errorf("pressure low %v, medium %v, critical %v: low counts every level", low, medium, critical)
	}
	if d := num("disk_limit_bytes"); d != 100<<20 {
		t.Errorf("disk limit %v, want 100 MiB", d)
	}
	num("mem_unevictable_bytes")

	// GET_CONTAINERS carries them in protobuf.
	_, r, _ := ta.opCall(t, api.Protobuf, &agentpb.Call{Type: agentpb.Call_GET_CONTAINERS.Enum()})
	cs := r.GetGetContainers().GetContainers()
	if len(cs) != 1 {
		t.Fatalf("GET_CONTAINERS: %v", cs)
	}
	rs := cs[0].GetResourceStatistics()
	if rs.GetMemSoftLimitBytes() != 96<<20 || rs.MemUnevictableBytes == nil || rs.GetMemLowPressureCounter() == 0 ||
		rs.MemMediumPressureCounter == nil || rs.MemCriticalPressureCounter == nil ||
		rs.GetDiskLimitBytes() != 100<<20 || rs.GetDiskUsedBytes() < 5_000_000 {
		t.Errorf("GET_CONTAINERS resource_statistics: %v", rs)
	}
}
