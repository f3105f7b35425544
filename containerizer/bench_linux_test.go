package containerizer

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/internal/kerneltest"
	"github.com/cairnhq/cairn/isolators"
)

// BenchmarkLaunchDestroy measures one container's whole life: Launch (create
// and start /bin/true with the default limits), Wait, Destroy. The
// launch_ms metric is Launch alone.
//
// The state directory is on a tmpfs, as the agent's runtime directory (/run)
// is in production: on this VM's ext4 disk libcontainer's state files make
// each launch 2-3 times slower.
func BenchmarkLaunchDestroy(b *testing.B) {
	kerneltest.Root(b)
	shm, err := os.MkdirTemp("/dev/shm", "cairn-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = os.RemoveAll(shm) })
	l := newTestLinuxIn(b, shm)
	box := newBox(b)
	set, err := isolators.Parse("cgroups/cpu,cgroups/mem,cgroups/pids", isolators.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	lim, err := set.Spec(isolators.Request{CPUs: 1, MemMB: 128})
	if err != nil {
		b.Fatal(err)
	}
	prefix := kerneltest.Name("b")
	ctx := context.Background()
	var launchNs int64
	n := 0
	for b.Loop() {
		id := ids.ContainerID(fmt.Sprintf("%s-%d", prefix, n))
		n++
		s := Spec{ID: id, Sandbox: box.dir, Args: []string{"/bin/true"}, Env: []string{"PATH=/usr/bin"}, Stdout: box.stdout, Stderr: box.stderr, Limits: lim}
		t0 := nanotime()
		if _, err := l.Launch(ctx, s); err != nil {
			b.Fatal(err)
		}
		launchNs += nanotime() - t0
		if e, err := l.Wait(ctx, id); err != nil || e.Code != 0 {
			b.Fatalf("Wait = %+v, %v", e, err)
		}
		if err := l.Destroy(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(launchNs)/float64(n)/1e6, "launch_ms")
}
