package tcclass

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/bpf"
	"github.com/cairnhq/cairn/bpf/internal/bpftest"
	"github.com/cairnhq/cairn/internal/kerneltest"
	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

const (
	actUnspec = 0xffffffff // TC_ACT_UNSPEC (-1) as the run's u32 return value
	actOK     = 0
)

// offMark is the offset of mark in struct __sk_buff. BPF_PROG_TEST_RUN
// copies mark back out but not tc_classid, so the class classify picks is
// checked with real traffic by isolators/netbw's tests; here its verdicts.
const offMark = 8

// The classifier on hand-made packets, with BPF_PROG_TEST_RUN: the kernel
// gives each run a dummy socket created by the caller, so the packet's
// socket cgroup is the test process's own.
func TestClassifyAndTag(t *testing.T) {
	requireKernel(t)
	c := load(t, bpffs(t))
	self := bpftest.OwnCgroupID(t)
	pkt := packet()

	run := func(p *ebpf.Program, mark uint32) (ret, outMark uint32) {
		t.Helper()
		ctx := make([]byte, 192) // struct __sk_buff
		binary.LittleEndian.PutUint32(ctx[offMark:], mark)
		out := make([]byte, 192)
		r, err := p.Run(&ebpf.RunOptions{Data: pkt, Context: ctx, ContextOut: out})
		if err != nil {
			t.Fatalf("run %s: %v", p, err)
		}
		return r, binary.LittleEndian.Uint32(out[offMark:])
	}

	// Unknown cgroup, no mark: the default class (UNSPEC), never OK.
	if ret, _ := run(c.Classify(), 0); ret != actUnspec {
		t.Errorf("unknown cgroup: classify returned %#x, want TC_ACT_UNSPEC", ret)
	}
	// A mark of another major is someone else's.
	if ret, _ := run(c.Classify(), 0x00070005); ret != actUnspec {
		t.Errorf("foreign mark: classify returned %#x, want TC_ACT_UNSPEC", ret)
	}
	// Our major with minor 0 would be the qdisc itself (unshaped): ignored.
	if ret, _ := run(c.Classify(), ClassID(0)); ret != actUnspec {
		t.Errorf("mark ca1:0: classify returned %#x, want TC_ACT_UNSPEC", ret)
	}
	// A tagged forwarded packet.
	if ret, _ := run(c.Classify(), ClassID(9)); ret != actOK {
		t.Errorf("mark ca1:9: classify returned %#x, want TC_ACT_OK", ret)
	}
	// Tag leaves unknown packets' marks alone.
	if ret, m := run(c.Tag(), 0); ret != actOK || m != 0 {
		t.Errorf("unknown cgroup: tag returned %#x mark %#x, want OK and 0", ret, m)
	}

	if err := c.SetClass(self, ClassID(7)); err != nil {
		t.Fatal(err)
	}
	if ret, _ := run(c.Classify(), 0); ret != actOK {
		t.Errorf("known cgroup: classify returned %#x, want TC_ACT_OK", ret)
	}
	if ret, m := run(c.Tag(), 0); ret != actOK || m != ClassID(7) {
		t.Errorf("known cgroup: tag returned %#x mark %#x, want OK ca1:7", ret, m)
	}
	if err := c.DeleteClass(self); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteClass(self); err != nil {
		t.Errorf("second delete: %v, want nil", err)
	}
	if ret, _ := run(c.Classify(), 0); ret != actUnspec {
		t.Errorf("deleted cgroup: classify returned %#x, want TC_ACT_UNSPEC", ret)
	}
}

// A second Load on the same pin directory (an agent restart) sees what the
// first wrote, and Unpin removes the directory.
func TestPinnedMapsAreAdopted(t *testing.T) {
	requireKernel(t)
	dir := filepath.Join(bpffs(t), "netbw", "eth0")
	first := load(t, dir)
	if err := first.SetClass(42, ClassID(3)); err != nil {
		t.Fatal(err)
	}
	if err := first.SetFramework(ClassID(3), "fw-0001"); err != nil {
		t.Fatal(err)
	}
	if err := first.SetFramework(ClassID(4), string(make([]byte, MaxFrameworkID+1))); err == nil {
		t.Error("framework id over MaxFrameworkID accepted")
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := first.Classes(); err == nil {
		t.Error("Classes after Close: no error")
	}

	second := load(t, dir)
	classes, err := second.Classes()
	if err != nil {
		t.Fatal(err)
	}
	fws, err := second.Frameworks()
	if err != nil {
		t.Fatal(err)
	}
	if len(classes) != 1 || classes[42] != ClassID(3) {
		t.Errorf("adopted classes = %v, want {42: ca1:3}", classes)
	}
	if len(fws) != 1 || fws[ClassID(3)] != "fw-0001" {
		t.Errorf("adopted frameworks = %v, want {ca1:3: fw-0001}", fws)
	}
	if err := Unpin(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("pin dir after Unpin: %v, want it gone", err)
	}
}

func requireKernel(t testing.TB) {
	t.Helper()
	kerneltest.Root(t)
	err := Probe()
	if _, missing := bpf.IsMissing(err); err != nil && !missing {
		t.Fatalf("probe: %v", err)
	}
	kerneltest.Feature(t, string(SchedCLS), func() error { return err })
}

// bpffs mounts a private bpffs (each mount is its own instance) for the
// test's pins; Cleanup unmounts it.
func bpffs(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("bpf", dir, "bpf", 0, "mode=0700"); err != nil {
		t.Fatalf("mount bpffs: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

func load(t testing.TB, dir string) *Classifier {
	t.Helper()
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// packet is a minimal Ethernet + IPv4 + TCP frame; the programs do not
// parse it, but BPF_PROG_TEST_RUN wants at least an Ethernet header.
func packet() []byte {
	f := make([]byte, 14+20+20)
	f[0] = 0x02
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	f[14] = 0x45
	binary.BigEndian.PutUint16(f[16:], 40)
	f[22] = 64
	f[23] = 6
	f[46] = 5 << 4
	return f
}

// A pin directory outside any bpffs is refused with a message saying so.
func TestLoadNeedsBPFFS(t *testing.T) {
	requireKernel(t)
	_, err := Load(filepath.Join(t.TempDir(), "netbw", "eth0"))
	if err == nil || !strings.Contains(err.Error(), "not on a bpffs") {
		t.Errorf("Load outside a bpffs: %v, want an error saying so", err)
	}
}
