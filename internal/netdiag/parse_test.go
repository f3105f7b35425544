package netdiag

import (
	"encoding/binary"
	"errors"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// nlmsg builds a netlink message of type typ around body.
func nlmsg(typ uint16, body []byte) []byte {
	b := make([]byte, nlmsgHdrLen, align4(nlmsgHdrLen+len(body)))
	binary.NativeEndian.PutUint32(b[0:], uint32(nlmsgHdrLen+len(body)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	b = append(b, body...)
	return append(b, make([]byte, align4(len(b))-len(b))...)
}

// attr builds a netlink attribute, padded.
func attr(typ uint16, v []byte) []byte {
	b := make([]byte, nlaHdrLen)
	binary.NativeEndian.PutUint16(b[0:], uint16(nlaHdrLen+len(v)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	b = append(b, v...)
	return append(b, make([]byte, align4(len(b))-len(b))...)
}

// diagMsg builds an inet_diag_msg with a cgroup id (0: none) and a
// tcp_info carrying rtt (0: none) the size of the kernel's.
func diagMsg(family, state uint8, cgroup uint64, rtt uint32) []byte {
	b := make([]byte, msgLen)
	b[0], b[1] = family, state
	if rtt != 0 {
		info := make([]byte, unsafe.Sizeof(unix.TCPInfo{}))
		binary.NativeEndian.PutUint32(info[tcpiRTTOffset:], rtt)
		b = append(b, attr(attrInfo, info)...)
	}
	b = append(b, attr(5, []byte{0x10})...) // INET_DIAG_TOS: skipped, unaligned
	if cgroup != 0 {
		b = append(b, attr(attrCgroupID, binary.NativeEndian.AppendUint64(nil, cgroup))...)
	}
	return b
}

func TestTCPInfoRTTOffset(t *testing.T) {
	if off := unsafe.Offsetof(unix.TCPInfo{}.Rtt); off != tcpiRTTOffset {
		t.Fatalf("tcpi_rtt at %d, the parser reads %d", off, tcpiRTTOffset)
	}
}

func TestDumpRequest(t *testing.T) {
	b := DumpRequest(unix.AF_INET6, 1<<StateEstablished|1<<StateTimeWait, 7)
	ne := binary.NativeEndian
	if len(b) != 72 || ne.Uint32(b) != 72 || ne.Uint16(b[4:]) != unix.SOCK_DIAG_BY_FAMILY ||
		ne.Uint16(b[6:]) != unix.NLM_F_REQUEST|unix.NLM_F_DUMP || ne.Uint32(b[8:]) != 7 {
		t.Fatalf("header % x", b[:16])
	}
	r := b[16:]
	if r[0] != unix.AF_INET6 || r[1] != unix.IPPROTO_TCP || r[2] != 0b10 /* INET_DIAG_INFO */ || ne.Uint32(r[4:]) != 0x42 {
		t.Fatalf("request % x", r[:8])
	}
}

func TestParseDump(t *testing.T) {
	var b []byte
	b = append(b, nlmsg(sockDiagByFamily, diagMsg(unix.AF_INET, StateEstablished, 4242, 87))...)
	b = append(b, nlmsg(sockDiagByFamily, diagMsg(unix.AF_INET6, StateTimeWait, 0, 0))...)
	b = append(b, nlmsg(unix.NLMSG_NOOP, nil)...)
	var got []Socket
	done, err := ParseDump(b, func(s Socket) { got = append(got, s) })
	if err != nil || done {
		t.Fatalf("done %v, err %v", done, err)
	}
	want := []Socket{
		{Family: unix.AF_INET, State: StateEstablished, CgroupID: 4242, RTT: 87, HasInfo: true},
		{Family: unix.AF_INET6, State: StateTimeWait},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	done, err = ParseDump(nlmsg(nlmsgDone, []byte{0, 0, 0, 0}), func(Socket) { t.Fatal("socket in DONE") })
	if !done || err != nil {
		t.Fatalf("DONE: done %v, err %v", done, err)
	}
}

func TestParseDumpErrors(t *testing.T) {
	errno := -int32(syscall.EPERM)
	e := binary.NativeEndian.AppendUint32(nil, uint32(errno))
	if _, err := ParseDump(nlmsg(nlmsgError, e), func(Socket) {}); !errors.Is(err, syscall.EPERM) {
		t.Errorf("NLMSG_ERROR EPERM: %v", err)
	}
	full := nlmsg(sockDiagByFamily, diagMsg(unix.AF_INET, StateEstablished, 1, 1))
	for _, bad := range [][]byte{
		full[:len(full)-8],                        // shorter than its length
		nlmsg(sockDiagByFamily, make([]byte, 40)), // shorter than inet_diag_msg
		nlmsg(sockDiagByFamily, append(make([]byte, msgLen), 0xff, 0, 1, 0)), // attribute past the end
	} {
		if _, err := ParseDump(bad, func(Socket) {}); !errors.Is(err, ErrTruncated) {
			t.Errorf("% x: err %v, want ErrTruncated", bad[:16], err)
		}
	}
}

func TestParseNetDev(t *testing.T) {
	in := `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  123456     789    0    0    0     0          0         0   123456     789    0    0    0     0       0          0
  eth0: 9000 60 1 2 0 0 0 0 7000 50 3 4 0 0 0 0
`
	got, err := ParseNetDev([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Device{Name: "eth0", RxBytes: 9000, RxPackets: 60, RxErrors: 1, RxDropped: 2,
		TxBytes: 7000, TxPackets: 50, TxErrors: 3, TxDropped: 4}
	if len(got) != 2 || got[0].Name != "lo" || got[0].RxBytes != 123456 || got[1] != want {
		t.Fatalf("got %+v", got)
	}
	if _, err := ParseNetDev([]byte("h\nh\neth0: 1 2 3\n")); err == nil {
		t.Error("a short line parsed")
	}
}
