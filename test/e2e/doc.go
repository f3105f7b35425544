// Package e2e holds Cairn's end-to-end tests: the real cairn binary run as
// masters, agents, `cairn dev` and CLI commands inside the network namespaces
// of a test/cluster, driven by frameworks written with the scheduler SDK and
// by raw HTTP, checking the foundation's acceptance criteria (quick start,
// seed commands, 500 tasks on two agents, agent loss, memory and CPU limits,
// bad input).
//
// The package has no code outside its tests; this file only documents it.
//
// I/O: every test needs root. Tests start processes through test/cluster,
// talk HTTP to them over the cluster's bridge, read agent work directories,
// and, when cleaning up after an agent that was killed, walk the cgroup
// hierarchies under /sys/fs/cgroup for the agent's unique --cgroups_root.
// Threading: each test drives its cluster from the test goroutine; the
// frameworks' scheduler clients run in goroutines the test waits for in its
// cleanup, and hand events to the test through a mutex-guarded record.
package e2e
