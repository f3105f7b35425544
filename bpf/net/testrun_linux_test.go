package net

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/cairnhq/cairn/bpf/internal/bpftest"
	"github.com/cilium/ebpf"
)

// The programs never drop, and charge GSO packets their headers once per
// segment: run them on hand-made packets with BPF_PROG_TEST_RUN. The kernel
// gives each run a dummy socket created by the caller, so the traffic lands
// on the test process's own cgroup — which also checks that bpf.CgroupID
// names cgroups as bpf_skb_cgroup_id does.
func TestProgramsOnCraftedPackets(t *testing.T) {
	bpftest.Require(t, Needs...)
	var objs netObjects
	if err := loadNetObjects(&objs, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { objs.Close() })
	self := bpftest.OwnCgroupID(t)

	for _, c := range []struct {
		name       string
		pkt        []byte
		gsoSegs    uint32
		bytes, seg uint64
	}{
		// 152-byte IPv4 packet, 3 segments of 52 header bytes each.
		{"ipv4 tcp gso", ipv4(6, tcpHeader(32), 100), 3, 152 + 2*52, 3},
		{"ipv4 tcp", ipv4(6, tcpHeader(20), 10), 0, 50, 1},
		// 98-byte IPv6 UDP packet, 4 segments of 48 header bytes each.
		{"ipv6 udp gso", ipv6(17, make([]byte, 8), 50), 4, 98 + 3*48, 4},
		// Not IP: nothing to repeat per segment.
		{"arp", frame(0x0806, make([]byte, 28)), 2, 28, 2},
		{"ipv4 icmp gso", ipv4(1, make([]byte, 8), 20), 2, 48, 2},
	} {
		for _, prog := range []*ebpf.Program{objs.CountIngress, objs.CountEgress} {
			before := read(t, &objs, self)
			ctx := make([]byte, 192) // struct __sk_buff
			binary.LittleEndian.PutUint32(ctx[164:], c.gsoSegs)
			if c.gsoSegs > 1 {
				binary.LittleEndian.PutUint32(ctx[176:], 1000) // gso_size
			}
			ret, err := prog.Run(&ebpf.RunOptions{Data: c.pkt, Context: ctx})
			if err != nil {
				t.Fatalf("%s: run %s: %v", c.name, prog, err)
			}
			if ret != 1 {
				t.Errorf("%s: %s returned %d, want 1 (allow)", c.name, prog, ret)
			}
			d := read(t, &objs, self).Sub(before)
			want := Stats{RxBytes: c.bytes, RxPackets: c.seg}
			if prog == objs.CountEgress {
				want = Stats{TxBytes: c.bytes, TxPackets: c.seg}
			}
			if d != want {
				t.Errorf("%s: %s counted %+v, want %+v", c.name, prog, d, want)
			}
		}
	}
}

func read(t *testing.T, objs *netObjects, id uint64) Stats {
	t.Helper()
	var vals []netTraffic
	if err := objs.Cgroups.Lookup(id, &vals); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		t.Fatal(err)
	}
	var s Stats
	for _, v := range vals {
		s.add(&v)
	}
	// The runs go through this CPU's cache first: add what it holds.
	var caches []netCache
	if err := objs.Caches.Lookup(uint32(0), &caches); err != nil {
		t.Fatal(err)
	}
	for _, c := range caches {
		for _, p := range c.Cached {
			if p.CgroupId == id {
				s.add(&p.T)
			}
		}
	}
	return s
}

func frame(ethType uint16, l3 []byte) []byte {
	f := make([]byte, 14, 14+len(l3))
	binary.BigEndian.PutUint16(f[12:], ethType)
	f[0] = 0x02 // a locally administered unicast destination
	return append(f, l3...)
}

func ipv4(proto byte, l4 []byte, payload int) []byte {
	ip := make([]byte, 20)
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(l4)+payload))
	ip[8] = 64
	ip[9] = proto
	copy(ip[12:], []byte{10, 250, 0, 1})
	copy(ip[16:], []byte{10, 250, 0, 2})
	ip = append(ip, l4...)
	return frame(0x0800, append(ip, make([]byte, payload)...))
}

func ipv6(next byte, l4 []byte, payload int) []byte {
	ip := make([]byte, 40)
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(len(l4)+payload))
	ip[6] = next
	ip[7] = 64
	ip = append(ip, l4...)
	return frame(0x86DD, append(ip, make([]byte, payload)...))
}

func tcpHeader(n int) []byte {
	h := make([]byte, n)
	h[12] = byte(n/4) << 4
	return h
}
