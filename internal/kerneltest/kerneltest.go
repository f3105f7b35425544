// Package kerneltest gates tests that need a real kernel: root, cgroups,
// namespaces, eBPF, traffic control.
//
// A kernel test may skip only because it is not running as root or because the
// kernel truly lacks a feature. When CAIRN_REQUIRE_KERNEL=1 (as in CI) every such
// skip becomes a failure, so a green CI run means every kernel test really ran.
//
// The package does no I/O beyond reading the environment and the effective uid.
package kerneltest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
)

// Required reports whether CAIRN_REQUIRE_KERNEL asks for kernel tests to run.
func Required() bool { return os.Getenv("CAIRN_REQUIRE_KERNEL") == "1" }

// Skip skips the test with the reason, or fails it when kernel tests are required.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if Required() {
		t.Fatalf("kernel test cannot run (CAIRN_REQUIRE_KERNEL=1): %s", reason)
	}
	t.Skip(reason)
}

// Root skips (or fails, see Skip) unless the test runs as root.
func Root(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "needs root")
	}
}

// Feature skips (or fails) when probe reports that the kernel lacks a feature.
// probe returns nil when the feature is present.
func Feature(t testing.TB, name string, probe func() error) {
	t.Helper()
	Root(t)
	if err := probe(); err != nil {
		Skip(t, "kernel lacks "+name+": "+err.Error())
	}
}

// Name returns prefix plus a random suffix, for kernel objects a test creates
// (netns, veth, bridge, cgroup). The result is at most len(prefix)+8 bytes, so
// a prefix of up to 7 bytes fits an interface name (15 bytes).
func Name(prefix string) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b[:])
}
