package isolators

import (
	"context"

	"github.com/cairnhq/cairn/ids"
)

// The optional hooks below are for isolators that act on the kernel
// themselves (network namespaces, bandwidth classes, eBPF meters). Each is a
// one-method interface; an isolator implements only those it needs. Set runs
// them in a fixed order: Prepare (before the container exists), Apply (after
// its init process exists, before the agent reports it running), Report (on
// every usage query), Cleanup (after the container is destroyed).
//
// Every hook must be idempotent and must work after an agent restart from
// nothing but the Container value: an isolator keeps no state that cannot be
// rebuilt from the kernel or from its own files. A hook may block for I/O and
// must return when ctx is done. Hooks of one container are never called
// concurrently with each other; hooks of different containers may be.

// Container is what the hooks know about one container.
type Container struct {
	ID ids.ContainerID

	// Pid is the container's init process in the agent's pid namespace, or 0
	// before it exists (Prepare) and after it is gone (Cleanup).
	Pid int

	// CgroupPaths maps a cgroup v1 controller name to the container's
	// absolute cgroup directory; on cgroup v2 (and for the unified cgroup in
	// hybrid mode) the key is "".
	CgroupPaths map[string]string
}

// Preparer is called before the container is created. It may create kernel
// objects the container will join (a network namespace) and may add to the
// launch through Prepared. A second call for the same container returns the
// same result without creating anything twice.
type Preparer interface {
	Prepare(ctx context.Context, c Container, req Request) (Prepared, error)
}

// Prepared is what Prepare hands to the containerizer.
type Prepared struct {
	// NetNS is the path of a network namespace the container must join;
	// empty means no opinion.
	NetNS string
}

// Applier is called once the container's init process exists. Applying the
// same settings twice is not an error.
type Applier interface {
	Apply(ctx context.Context, c Container, req Request) error
}

// Reporter adds what it measures to a usage report. It must not overwrite
// fields it does not measure.
type Reporter interface {
	Report(ctx context.Context, c Container, u *Usage) error
}

// Usage holds what isolators measure beyond the cgroup counters the
// containerizer reads itself. Field names follow Mesos ResourceStatistics.
type Usage struct {
	NetRxBytes, NetTxBytes     uint64
	NetRxPackets, NetTxPackets uint64
}

// Cleaner releases what Prepare or Apply created. Cleaning up a container the
// isolator knows nothing about (never prepared, or already cleaned) returns nil.
type Cleaner interface {
	Cleanup(ctx context.Context, c Container) error
}
