package containerizer

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/isolators"
)

// SandboxMount is where the sandbox appears inside a container: Mesos's path,
// which MESOS_SANDBOX points to.
const SandboxMount = "/mnt/mesos/sandbox"

// ErrNotFound is returned for a container id the containerizer does not know.
var ErrNotFound = errors.New("container not found")

// ErrExists is returned by Launch for an id that is already in use.
var ErrExists = errors.New("container already exists")

// Spec describes a container to launch.
type Spec struct {
	ID ids.ContainerID

	// Sandbox is a host directory, bind-mounted read-write at SandboxMount;
	// it is the working directory of the init process.
	Sandbox string

	// Args is the argv of the container's init process; Args[0] is a path
	// inside the container (or a name looked up in Env's PATH).
	Args []string
	// Env is the init process's whole environment.
	Env []string

	// Binds are extra bind mounts, applied after the sandbox.
	Binds []Bind

	// Stdout and Stderr are host file paths, opened for append and created
	// if missing; empty means /dev/null.
	Stdout, Stderr string

	// Hostname is the container's hostname (own UTS namespace); empty keeps
	// the agent's.
	Hostname string

	// NetNS is the path of a network namespace to join (e.g. /run/netns/x);
	// empty means the host network.
	NetNS string

	Limits isolators.Limits
}

// Bind is a bind mount of a host path into the container.
type Bind struct {
	Source   string // absolute host path, file or directory
	Target   string // absolute path inside the container
	Writable bool   // read-only unless set
}

// Exit is how a container's init process ended.
type Exit struct {
	// Code is the exit status, or 128+signal when killed by a signal (as
	// shells report it).
	Code int
	// Signal is the signal that killed the process; 0 if it exited.
	Signal syscall.Signal
	// OOMKilled reports that the container's memory cgroup recorded an OOM
	// kill (of any of its processes) before the init process ended.
	OOMKilled bool
	// Unknown reports that the init process of a recovered container was
	// not this process's child and nobody could tell how it ended; Code is
	// -1 then.
	Unknown bool
}

func (e Exit) String() string {
	if e.Unknown {
		return "exited, status unknown"
	}
	s := fmt.Sprintf("exited with status %d", e.Code)
	if e.Signal != 0 {
		s = fmt.Sprintf("killed by signal %d (%v)", int(e.Signal), e.Signal)
	}
	if e.OOMKilled {
		s += " after an OOM kill"
	}
	return s
}

// Usage is a container's resource usage, read from its cgroups. Names follow
// Mesos ResourceStatistics; zero means unknown or none.
type Usage struct {
	CPUUserSeconds      float64
	CPUSystemSeconds    float64
	CPUUsageNanos       uint64 // total CPU time
	CPUPeriods          uint64 // CFS periods elapsed (cpus_nr_periods)
	CPUThrottled        uint64 // periods throttled (cpus_nr_throttled)
	CPUThrottledSeconds float64

	MemTotalBytes       uint64 // current usage (mem_total_bytes)
	MemLimitBytes       uint64
	MemSoftLimitBytes   uint64 // memory.soft_limit_in_bytes (v1), memory.low (v2); 0 when none
	MemMaxUsageBytes    uint64 // peak usage
	MemRSSBytes         uint64 // anonymous memory (mem_rss_bytes, mem_anon_bytes)
	MemFileBytes        uint64 // page cache (mem_file_bytes, mem_cache_bytes)
	MemMappedFileBytes  uint64
	MemSwapBytes        uint64
	MemUnevictableBytes uint64 // memory.stat unevictable (mlocked, ramfs)
	OOMKills            uint64

	Processes uint64
	Threads   uint64
}

// validate checks what Launch cannot get wrong without confusing libcontainer
// or escaping the rootfs.
func (s *Spec) validate() error {
	if err := ValidateID(s.ID); err != nil {
		return err
	}
	if len(s.Args) == 0 || s.Args[0] == "" {
		return errors.New("no command")
	}
	if !filepath.IsAbs(s.Sandbox) {
		return fmt.Errorf("sandbox %q is not an absolute path", s.Sandbox)
	}
	for _, b := range s.Binds {
		if !filepath.IsAbs(b.Source) {
			return fmt.Errorf("bind source %q is not an absolute path", b.Source)
		}
		if !filepath.IsAbs(b.Target) || filepath.Clean(b.Target) != b.Target || b.Target == "/" {
			return fmt.Errorf("bind target %q is not a clean absolute path below /", b.Target)
		}
	}
	if s.NetNS != "" && !filepath.IsAbs(s.NetNS) {
		return fmt.Errorf("network namespace %q is not an absolute path", s.NetNS)
	}
	return nil
}

// ValidateID accepts the ids that are safe as a directory and cgroup name:
// letters, digits and "_+-.", not starting with a dot (so never "." or "..",
// and never the containerizer's own hidden directories).
func ValidateID(id ids.ContainerID) error {
	if id == "" {
		return errors.New("empty container id")
	}
	if strings.HasPrefix(string(id), ".") {
		return fmt.Errorf("container id %q starts with a dot", id)
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_+-.", c)
		if !ok {
			return fmt.Errorf("container id %q has a character other than letters, digits and _+-.", id)
		}
	}
	return nil
}
