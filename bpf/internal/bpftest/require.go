package bpftest

import (
	"testing"

	"github.com/cairnhq/cairn/bpf"
	"github.com/cairnhq/cairn/internal/kerneltest"
)

// Require skips the test (or fails it under CAIRN_REQUIRE_KERNEL=1) when the
// kernel lacks one of the features, and fails it when probing fails for any
// other reason: only a missing feature may skip.
func Require(t testing.TB, features ...bpf.Feature) {
	t.Helper()
	kerneltest.Root(t)
	err := bpf.Require(features...)
	if err == nil {
		return
	}
	if _, missing := bpf.IsMissing(err); !missing {
		t.Fatalf("probe eBPF features: %v", err)
	}
	kerneltest.Feature(t, "eBPF features", func() error { return err })
}

// Within reports whether got is within frac (0.03 for ±3 %) of want.
func Within(got, want, frac float64) bool {
	d := got - want
	if d < 0 {
		d = -d
	}
	return d <= frac*want
}
