package netdiag

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/cairnhq/cairn/internal/kerneltest"
	"golang.org/x/sys/unix"
)

// BenchmarkSockets: one host dump of established sockets, what a sampling
// round costs for all host-network containers together.
func BenchmarkSockets(b *testing.B) {
	kerneltest.Root(b)
	for b.Loop() {
		if _, err := Sockets(1 << StateEstablished); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInNetns: one read of a namespace (sockets and devices), what a
// round costs per container with its own namespace.
func BenchmarkInNetns(b *testing.B) {
	kerneltest.Root(b)
	pathc := make(chan string)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends in the namespace
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			pathc <- ""
			return
		}
		pathc <- fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		<-stop
	}()
	path := <-pathc
	if path == "" {
		b.Fatal("unshare netns")
	}
	for b.Loop() {
		if _, err := InNetns(path, 1<<StateEstablished|1<<StateTimeWait); err != nil {
			b.Fatal(err)
		}
	}
}
