// Package fake is an unprivileged stand-in for the Linux containerizer, for
// agent tests: same methods, but a "container" is just a child process.
//
// Launch runs Spec.Args directly (no namespaces, cgroups, binds or limits) in
// its own process group, with Spec.Sandbox as working directory, exactly
// Spec.Env as environment, and stdout/stderr appended to the Spec's files. The
// sandbox path inside the "container" is the host path. The Limits and the
// whole Spec are recorded for tests to inspect. As in a pid namespace, when
// the init process exits the rest of its process group is killed.
// Containers live as long as the instance: an agent restarted in the same
// test process on the same instance lists and Recovers them.
//
// I/O: starts processes, writes the output files, reads /proc for Usage.
// Threading: all methods are safe for concurrent use; each running process
// has one reaper goroutine that ends when it exits, and Destroy waits for it.
package fake
