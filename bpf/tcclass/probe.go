//go:build linux

package tcclass

import (
	"errors"
	"fmt"
	"os"

	"github.com/cairnhq/cairn/bpf"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"
)

// SchedCLS is the kernel feature Load needs: tc programs (BPF_PROG_TYPE_
// SCHED_CLS) that may call bpf_skb_cgroup_id.
const SchedCLS bpf.Feature = "tc sched_cls programs with bpf_skb_cgroup_id"

// Probe returns nil when the kernel can run the programs, a
// *bpf.MissingError naming SchedCLS when it cannot, and another error when
// the question could not be asked (no privileges).
func Probe() error {
	err := features.HaveProgramType(ebpf.SchedCLS)
	if err == nil {
		err = features.HaveProgramHelper(ebpf.SchedCLS, asm.FnSkbCgroupId)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EPERM) && os.Geteuid() != 0:
		return fmt.Errorf("probe %s: %w (needs root or CAP_BPF+CAP_NET_ADMIN)", SchedCLS, err)
	default:
		return &bpf.MissingError{Feature: SchedCLS, Err: err}
	}
}
