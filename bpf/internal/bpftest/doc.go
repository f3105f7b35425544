// Package bpftest is the kernel-test kit shared by the meters' tests: cgroup
// v2 directories, helper processes started inside them, network namespaces
// joined by veth pairs, and the ground truths the meters are checked against
// (cpu.stat, /proc/<pid>/status, TCP_INFO).
//
// Helper processes are the test binary itself, re-executed with
// CAIRN_BPFTEST_HELPER set; every test package using Start must call Main
// from its TestMain. Helpers talk to the test over stdin/stdout, one line per
// message.
//
// Every kernel object gets a unique name (kerneltest.Name) and is removed in
// t.Cleanup. The package is for tests only and needs root.
package bpftest
