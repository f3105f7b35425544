package bpf

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"
)

// Feature names something a meter needs from the kernel. The string is what
// error messages and probe reports show.
type Feature string

// The features Cairn's meters use.
const (
	KernelBTF        Feature = "kernel BTF (/sys/kernel/btf/vmlinux)"
	TracingPrograms  Feature = "tp_btf programs (BPF_PROG_TYPE_TRACING)"
	CgroupSKB        Feature = "cgroup_skb programs with bpf_skb_cgroup_id"
	PerCPUHashMaps   Feature = "per-CPU hash maps"
	RingBufMaps      Feature = "ring buffer maps"
	SchedTracepoints Feature = "tracepoint sched_switch(preempt, prev, next) and task_struct.sched_info (CONFIG_SCHED_INFO)"
	OOMTracepoint    Feature = "tracepoint oom/mark_victim with the victim task as argument"
	RSSTracepoint    Feature = "tracepoint kmem/rss_stat(mm, member) and mm_struct.rss_stat as percpu counters"
)

// AllFeatures lists every feature Probe checks, in report order.
var AllFeatures = []Feature{
	KernelBTF, TracingPrograms, CgroupSKB, PerCPUHashMaps, RingBufMaps,
	SchedTracepoints, OOMTracepoint, RSSTracepoint,
}

// Result is one line of a probe report: Err is nil when the feature works,
// a *MissingError when the kernel lacks it, any other error when probing
// itself failed (for example for lack of privileges).
type Result struct {
	Feature Feature
	Err     error
}

// Probe checks every feature in AllFeatures. Results are cached: the kernel
// does not change under a running process.
func Probe() []Result {
	out := make([]Result, 0, len(AllFeatures))
	for _, f := range AllFeatures {
		out = append(out, Result{f, check(f)})
	}
	return out
}

// Require returns nil when the kernel has every feature in fs, otherwise the
// errors of the ones it lacks, joined.
func Require(fs ...Feature) error {
	var errs []error
	for _, f := range fs {
		if err := check(f); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

var probed sync.Map // Feature → *probeOnce

type probeOnce struct {
	once sync.Once
	err  error
}

func check(f Feature) error {
	v, _ := probed.LoadOrStore(f, new(probeOnce))
	p := v.(*probeOnce)
	p.once.Do(func() { p.err = probe(f) })
	return p.err
}

func probe(f Feature) error {
	var err error
	switch f {
	case KernelBTF:
		_, err = btf.LoadKernelSpec()
	case TracingPrograms:
		err = probeTracing()
	case CgroupSKB:
		err = features.HaveProgramType(ebpf.CGroupSKB)
		if err == nil {
			err = features.HaveProgramHelper(ebpf.CGroupSKB, asm.FnSkbCgroupId)
		}
	case PerCPUHashMaps:
		err = features.HaveMapType(ebpf.PerCPUHash)
	case RingBufMaps:
		err = features.HaveMapType(ebpf.RingBuf)
	case SchedTracepoints:
		err = errors.Join(
			tracepointArgs("sched_switch", "bool", "task_struct", "task_struct", ""),
			hasMember("task_struct", "sched_info"))
	case OOMTracepoint:
		err = tracepointArgs("mark_victim", "task_struct", "")
	case RSSTracepoint:
		err = errors.Join(tracepointArgs("rss_stat", "mm_struct", ""), rssStatCounters())
	default:
		return fmt.Errorf("probe %q: unknown feature", f)
	}
	return classify(f, err)
}

// classify turns what a probe answered into a *MissingError, unless the
// answer says we may not ask (not root), which is no fact about the kernel.
func classify(f Feature, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, unix.EPERM) && os.Geteuid() != 0 {
		return fmt.Errorf("probe %s: %w (eBPF needs root or CAP_BPF+CAP_PERFMON)", f, err)
	}
	return &MissingError{Feature: f, Err: err}
}

// probeTracing loads the smallest tp_btf program there is. Kernels built
// without BPF trampolines, or locked down, refuse it.
func probeTracing() error {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:       ebpf.Tracing,
		AttachType: ebpf.AttachTraceRawTp,
		AttachTo:   "sched_switch",
		License:    "GPL",
		Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
		},
	})
	if err != nil {
		return err
	}
	return prog.Close()
}
