// Package isolators is the isolator contract and the first cgroup isolators
// (cgroups/cpu, cgroups/mem, cgroups/pids).
//
// An isolator turns a container's resources into kernel settings. Its only
// required method, Spec, is pure: it fills its part of a Limits value from a
// Request and touches nothing else, so the agent can compute (and check) a
// container's limits before anything exists in the kernel. Isolators that must
// act on the kernel themselves implement the optional one-method hooks in
// hooks.go (Preparer, Applier, Reporter, Cleaner); Set runs them in order.
//
// I/O and threading: the package and its built-in isolators do no I/O and
// start no goroutines; Spec may be called from any goroutine. Hooks implemented
// by later isolators state their own I/O; the contracts in hooks.go bind them.
//
// Ownership: the containerizer applies Limits through libcontainer when it
// creates the container; isolators never write cgroup files for the limits
// they specified.
package isolators
