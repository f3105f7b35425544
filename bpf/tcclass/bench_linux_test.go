package tcclass

import (
	"encoding/binary"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// BenchmarkClassify measures what classify costs per packet, with
// BPF_PROG_TEST_RUN: b.N runs in one syscall, so ns/op is the time per
// packet (the syscall's own cost spread over b.N): a packet of a known cgroup (hash hit), of an unknown one in a
// map of 10,000 entries (miss, the host's own traffic), and a tagged
// forwarded packet (miss, then the mark). "empty" is a program that only
// returns TC_ACT_UNSPEC: what BPF_PROG_TEST_RUN itself costs per run, to
// subtract from the others.
func BenchmarkClassify(b *testing.B) {
	requireKernel(b)
	c := load(b, bpffs(b))
	self := ownCgroup(b)
	for i := range uint64(10000) {
		if err := c.SetClass(1<<40+i, ClassID(uint16(2+i%100))); err != nil {
			b.Fatal(err)
		}
	}
	empty, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type: ebpf.SchedCLS, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, -1), asm.Return()},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer empty.Close()
	pkt := packet()
	for _, bc := range []struct {
		name  string
		prog  *ebpf.Program
		known bool
		mark  uint32
		want  uint32
	}{
		{"empty", empty, false, 0, actUnspec},
		{"hit", c.Classify(), true, 0, actOK},
		{"miss", c.Classify(), false, 0, actUnspec},
		{"mark", c.Classify(), false, ClassID(5), actOK},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if bc.known {
				if err := c.SetClass(self, ClassID(2)); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = c.DeleteClass(self) })
			}
			ctx := make([]byte, 192)
			binary.LittleEndian.PutUint32(ctx[offMark:], bc.mark)
			b.ResetTimer()
			ret, err := bc.prog.Run(&ebpf.RunOptions{Data: pkt, Context: ctx, Repeat: uint32(b.N)})
			if err != nil {
				b.Fatal(err)
			}
			if ret != bc.want {
				b.Fatalf("classify returned %#x, want %#x", ret, bc.want)
			}
		})
	}
}
