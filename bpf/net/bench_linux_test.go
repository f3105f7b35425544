package net_test

import (
	"io"
	stdnet "net"
	"testing"

	"github.com/cairnhq/cairn/bpf"
	"github.com/cairnhq/cairn/bpf/internal/bpftest"
	"github.com/cairnhq/cairn/bpf/net"
)

// BenchmarkNetOverhead measures TCP throughput between two network
// namespaces joined by a veth pair (one op = 1 MiB sent and received), with
// the meter detached and attached at the cgroup v2 root: as two
// sub-benchmarks, and as "alternating", which switches between the two every
// 32 MiB on the same connection and reports both and the overhead in percent
// (see bpftest.Alternate), the figure to trust on a busy machine.
func BenchmarkNetOverhead(b *testing.B) {
	bpftest.Require(b, net.Needs...)
	root, err := bpf.UnifiedRoot()
	if err != nil {
		b.Fatal(err)
	}
	nsA, nsB := bpftest.NewNetns(b), bpftest.NewNetns(b)
	v := bpftest.NewVeth(b, nsA, nsB)
	addr := bpftest.Addr(v.AddrB, 5001)

	var l stdnet.Listener
	bpftest.InNetns(b, nsB, func() { l, err = stdnet.Listen("tcp", addr) })
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	var c stdnet.Conn
	bpftest.InNetns(b, nsA, func() { c, err = stdnet.Dial("tcp", addr) })
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	s, err := l.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()

	const chunk = 1 << 20
	buf := make([]byte, chunk)
	rbuf := make([]byte, 256<<10)
	// ops sends n MiB and returns once the receiver has read them all.
	ops := func(b *testing.B, n int) {
		done := make(chan error, 1)
		go func() {
			_, err := io.CopyBuffer(io.Discard, io.LimitReader(s, int64(n)*chunk), rbuf)
			done <- err
		}()
		for range n {
			if _, err := c.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	attach := func() (io.Closer, error) { return net.Open(root) }
	b.Run("detached", func(b *testing.B) {
		b.SetBytes(chunk)
		ops(b, b.N)
	})
	b.Run("attached", func(b *testing.B) {
		m, err := attach()
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		b.SetBytes(chunk)
		b.ResetTimer()
		ops(b, b.N)
	})
	b.Run("alternating", func(b *testing.B) {
		b.SetBytes(chunk)
		bpftest.Alternate(b, 16, attach, func(n int) { ops(b, n) })
	})
}
