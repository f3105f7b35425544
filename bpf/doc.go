// Package bpf holds what Cairn's eBPF meters share: probing the kernel for the
// program types, map types and tracepoints they need, mounting bpffs and
// tracefs when missing, and naming cgroups the way eBPF helpers do (by cgroup
// v2 id, the inode number of the cgroup's directory in the unified hierarchy).
//
// The meters live in subpackages, one per program, each a small typed loader
// around committed bpf2go output (C in <prog>/<prog>.c, shared headers in
// include/): bpf/cpu (on-CPU time and run-queue delay per cgroup), bpf/net
// (bytes and packets per cgroup) and bpf/mem (OOM kills, peak RSS per cgroup).
// Regenerate with `go generate ./bpf/...`; bpf/gencheck.sh checks that the
// committed output matches the sources.
//
// A kernel that lacks something a meter needs yields an error that wraps
// ErrNotSupported and names the missing feature (*MissingError); every other
// error means the feature exists but something else went wrong.
//
// I/O: Probe and Require load tiny programs and maps into the kernel and read
// kernel BTF (results are cached for the life of the process); Mount* mount
// filesystems; the cgroup functions read /proc and stat directories. All
// functions are safe for concurrent use and start no goroutines.
package bpf
