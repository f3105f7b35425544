package netdiag

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
)

// TCP states (include/net/tcp_states.h) as Socket.State carries them.
const (
	StateEstablished = 1
	StateTimeWait    = 6
)

// Socket is one TCP socket of a dump.
type Socket struct {
	Family uint8 // AF_INET or AF_INET6
	State  uint8 // StateEstablished, ...
	// CgroupID is the cgroup v2 id of the process that created the socket;
	// 0 when the dump did not carry it (time-wait sockets, kernels before
	// 5.7).
	CgroupID uint64
	// RTT is the smoothed round-trip time in microseconds (tcp_info's
	// tcpi_rtt); meaningful only when HasInfo.
	RTT     uint32
	HasInfo bool
}

// The uapi facts of linux/inet_diag.h and linux/netlink.h this package
// relies on.
const (
	sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
	reqLen           = 56 // struct inet_diag_req_v2
	msgLen           = 72 // struct inet_diag_msg
	nlmsgHdrLen      = 16
	nlaHdrLen        = 4
	attrInfo         = 2  // INET_DIAG_INFO: struct tcp_info
	attrCgroupID     = 21 // INET_DIAG_CGROUP_ID: u64, sent for every full socket
	tcpiRTTOffset    = 68 // offsetof(struct tcp_info, tcpi_rtt)
	nlmsgDone        = 3  // NLMSG_DONE
	nlmsgError       = 2  // NLMSG_ERROR
)

// DumpRequest is the netlink message asking for every TCP socket of family
// in one of states (a bit mask, 1<<State), with its tcp_info. The extension
// bit of an attribute is 1<<(attribute-1); INET_DIAG_CGROUP_ID (21) has no
// bit in the 8-bit idiag_ext and needs none: the kernel adds it to every
// full socket it reports.
func DumpRequest(family uint8, states uint32, seq uint32) []byte {
	b := make([]byte, nlmsgHdrLen+reqLen)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], sockDiagByFamily)
	ne.PutUint16(b[6:], syscall.NLM_F_REQUEST|syscall.NLM_F_DUMP)
	ne.PutUint32(b[8:], seq)
	r := b[nlmsgHdrLen:]
	r[0] = family
	r[1] = syscall.IPPROTO_TCP
	r[2] = 1 << (attrInfo - 1) // idiag_ext
	ne.PutUint32(r[4:], states)
	return b
}

// ErrTruncated is returned for a message shorter than its header says.
var ErrTruncated = errors.New("truncated netlink message")

// ParseDump calls fn for each socket in b, one read of a dump reply (a run
// of netlink messages). done reports the end of the dump (NLMSG_DONE). An
// NLMSG_ERROR message is returned as its errno.
func ParseDump(b []byte, fn func(Socket)) (done bool, err error) {
	ne := binary.NativeEndian
	for len(b) >= nlmsgHdrLen {
		n := int(ne.Uint32(b[0:]))
		typ := ne.Uint16(b[4:])
		if n < nlmsgHdrLen || n > len(b) {
			return false, ErrTruncated
		}
		body := b[nlmsgHdrLen:n]
		switch typ {
		case nlmsgDone:
			return true, nil
		case nlmsgError:
			if len(body) < 4 {
				return false, ErrTruncated
			}
			if e := int32(ne.Uint32(body)); e != 0 {
				return false, fmt.Errorf("sock_diag dump: %w", syscall.Errno(-e))
			}
		case sockDiagByFamily:
			s, err := parseSocket(body)
			if err != nil {
				return false, err
			}
			fn(s)
		}
		b = b[min(align4(n), len(b)):]
	}
	return false, nil
}

// parseSocket reads an inet_diag_msg and the attributes after it.
func parseSocket(b []byte) (Socket, error) {
	if len(b) < msgLen {
		return Socket{}, ErrTruncated
	}
	s := Socket{Family: b[0], State: b[1]}
	ne := binary.NativeEndian
	for a := b[msgLen:]; len(a) >= nlaHdrLen; {
		n := int(ne.Uint16(a[0:]))
		typ := ne.Uint16(a[2:]) & 0x3fff // without NLA_F_NESTED, NLA_F_NET_BYTEORDER
		if n < nlaHdrLen || n > len(a) {
			return Socket{}, ErrTruncated
		}
		v := a[nlaHdrLen:n]
		switch {
		case typ == attrCgroupID && len(v) >= 8:
			s.CgroupID = ne.Uint64(v)
		case typ == attrInfo && len(v) >= tcpiRTTOffset+4:
			s.RTT, s.HasInfo = ne.Uint32(v[tcpiRTTOffset:]), true
		}
		a = a[min(align4(n), len(a)):]
	}
	return s, nil
}

func align4(n int) int { return (n + 3) &^ 3 }
