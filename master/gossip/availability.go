package gossip

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cairnhq/cairn/ids"
)

// AvailabilityVersion is the record format MarshalAvailability writes and
// the only one UnmarshalAvailability reads. A change of layout bumps it;
// members of mixed versions then reject each other's records loudly instead
// of misreading them.
const AvailabilityVersion uint8 = 1

// Bounds on the record's strings, chosen so that a record with every field
// at its maximum still fits MetaMaxSize (see availabilityMaxSize).
const (
	// MaxHostnameLen is the longest DNS name.
	MaxHostnameLen = 253
	// MaxAgentIDLen fits a Mesos agent id: a 36-byte master UUID, "-S" and
	// a 20-digit counter.
	MaxAgentIDLen = 64
)

var (
	// ErrUnknownVersion: the record is of a format this build cannot read.
	ErrUnknownVersion = errors.New("unknown availability format version")
	// ErrTruncated: the record ends inside a field.
	ErrTruncated = errors.New("availability record truncated")
	// ErrInvalidAvailability: a field holds a value the format forbids.
	ErrInvalidAvailability = errors.New("invalid availability record")
)

// Role says what kind of process published a record.
type Role uint8

const (
	RoleAgent Role = iota + 1
	RoleMaster
)

func (r Role) String() string {
	switch r {
	case RoleAgent:
		return "agent"
	case RoleMaster:
		return "master"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// Resources is a quantity of each scalar resource an agent offers.
type Resources struct {
	CPUsMilli     uint64 // thousandths of a CPU
	MemMB         uint64
	DiskMB        uint64
	BandwidthMbps uint64 // network egress
	GPUs          uint64
}

// Usage is what the agent measured its tasks really using (eBPF); zero
// until measured.
type Usage struct {
	CPUsMilli uint64
	MemMB     uint64
	NetRxBps  uint64 // bytes per second received
	NetTxBps  uint64 // bytes per second sent
}

// Availability is the record every member publishes as its gossip metadata:
// who it is, where its HTTP API listens, and (for agents) what it has.
type Availability struct {
	Role Role
	// AgentID is empty until the leading master has admitted the agent;
	// always empty for masters.
	AgentID ids.AgentID
	// HTTPPort is the member's HTTP API port; its IP is the gossip IP.
	HTTPPort uint16
	// Hostname is the agent's --hostname, as Mesos reports it in AgentInfo.
	Hostname string
	// Seq grows with every change the publisher makes, so a receiver can
	// ignore a record older than one it already has. Seed it from the wall
	// clock at start (e.g. UnixMilli) so a restarted publisher does not go
	// back in time.
	Seq uint64

	// Total and Free are the agent's resources; Free ≤ Total field by field.
	Total, Free Resources
	Measured    Usage

	// Leader is set by the master that currently leads; Epoch is its term.
	// Both are zero for agents.
	Leader bool
	Epoch  uint64
}

func (a Availability) validate() error {
	switch a.Role {
	case RoleAgent:
		if a.Leader || a.Epoch != 0 {
			return errors.New("agent record carries leader fields")
		}
	case RoleMaster:
		if a.AgentID != "" {
			return errors.New("master record carries an agent id")
		}
	default:
		return fmt.Errorf("unknown role %d", uint8(a.Role))
	}
	if err := checkText("agent id", string(a.AgentID), MaxAgentIDLen); err != nil {
		return err
	}
	if err := checkText("hostname", a.Hostname, MaxHostnameLen); err != nil {
		return err
	}
	t, f := a.Total, a.Free
	for _, c := range []struct {
		name        string
		free, total uint64
	}{
		{"cpus", f.CPUsMilli, t.CPUsMilli},
		{"mem", f.MemMB, t.MemMB},
		{"disk", f.DiskMB, t.DiskMB},
		{"bandwidth", f.BandwidthMbps, t.BandwidthMbps},
		{"gpus", f.GPUs, t.GPUs},
	} {
		if c.free > c.total {
			return fmt.Errorf("free %s %d exceeds total %d", c.name, c.free, c.total)
		}
	}
	return nil
}

// checkText bounds a string and keeps it printable: these strings end up
// in logs, the CLI and the web UI.
func checkText(field, s string, limit int) error {
	if len(s) > limit {
		return fmt.Errorf("%s is %d bytes, limit %d", field, len(s), limit)
	}
	for i, r := range s {
		// Invalid UTF-8 ranges as U+FFFD; rejecting that rune too keeps
		// the check to one comparison.
		if r == '\uFFFD' || r < 0x20 || r == 0x7f {
			return fmt.Errorf("%s has a bad byte at offset %d", field, i)
		}
	}
	return nil
}

// The v1 layout, all integers unsigned varints in their shortest form:
//
//	version byte, role byte, flags byte (bit 0: leader)
//	seq, epoch, http port
//	agent id, hostname: length, then the bytes
//	total: cpus milli, mem MB, disk MB, bandwidth Mbps, gpus
//	free: the same five
//	measured: cpus milli, mem MB, rx B/s, tx B/s
//
// Varints keep a typical agent record under 60 bytes. Decoding accepts only
// what Marshal would write (shortest varints, no unknown flag bits, no
// trailing bytes), so every record has exactly one encoding.
const flagLeader = 1 << 0

// availabilityMaxSize is the size of a record with every field at its
// largest: 3 header bytes, 16 uint64 varints of up to 10 bytes, a port of
// up to 3, and the two strings behind 1- and 2-byte length prefixes.
const availabilityMaxSize = 3 + 16*binary.MaxVarintLen64 + 3 +
	1 + MaxAgentIDLen + 2 + MaxHostnameLen

// Compile-time proof that the largest record fits memberlist's limit.
var _ [MetaMaxSize - availabilityMaxSize]struct{}

// MarshalAvailability encodes a for gossip metadata. It refuses a record
// that is invalid or has a string over its bound, rather than truncating a
// name someone will later look up.
func MarshalAvailability(a Availability) ([]byte, error) {
	if err := a.validate(); err != nil {
		return nil, fmt.Errorf("encode availability: %w: %w", ErrInvalidAvailability, err)
	}
	var flags byte
	if a.Leader {
		flags |= flagLeader
	}
	b := make([]byte, 0, 64)
	b = append(b, AvailabilityVersion, byte(a.Role), flags)
	b = binary.AppendUvarint(b, a.Seq)
	b = binary.AppendUvarint(b, a.Epoch)
	b = binary.AppendUvarint(b, uint64(a.HTTPPort))
	b = appendString(b, string(a.AgentID))
	b = appendString(b, a.Hostname)
	for _, r := range []Resources{a.Total, a.Free} {
		b = appendUvarints(b, r.CPUsMilli, r.MemMB, r.DiskMB, r.BandwidthMbps, r.GPUs)
	}
	m := a.Measured
	b = appendUvarints(b, m.CPUsMilli, m.MemMB, m.NetRxBps, m.NetTxBps)
	return b, nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendUvarints(b []byte, vs ...uint64) []byte {
	for _, v := range vs {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

// UnmarshalAvailability decodes and validates a record. Errors wrap
// ErrUnknownVersion, ErrTruncated or ErrInvalidAvailability.
func UnmarshalAvailability(b []byte) (Availability, error) {
	a, err := decodeAvailability(b)
	if err != nil {
		return Availability{}, fmt.Errorf("decode availability: %w", err)
	}
	return a, nil
}

func decodeAvailability(b []byte) (Availability, error) {
	var a Availability
	if len(b) == 0 {
		return a, fmt.Errorf("%w: empty", ErrTruncated)
	}
	if b[0] != AvailabilityVersion {
		return a, fmt.Errorf("%w %d (this build reads %d)", ErrUnknownVersion, b[0], AvailabilityVersion)
	}
	if len(b) < 3 {
		return a, fmt.Errorf("%w: header", ErrTruncated)
	}
	a.Role = Role(b[1])
	if b[2]&^flagLeader != 0 {
		return a, fmt.Errorf("%w: unknown flags %#x", ErrInvalidAvailability, b[2])
	}
	a.Leader = b[2]&flagLeader != 0

	d := decoder{b: b[3:]}
	a.Seq = d.uvarint("seq")
	a.Epoch = d.uvarint("epoch")
	a.HTTPPort = d.port("http port")
	a.AgentID = ids.AgentID(d.string("agent id", MaxAgentIDLen))
	a.Hostname = d.string("hostname", MaxHostnameLen)
	for _, r := range []*Resources{&a.Total, &a.Free} {
		r.CPUsMilli = d.uvarint("cpus")
		r.MemMB = d.uvarint("mem")
		r.DiskMB = d.uvarint("disk")
		r.BandwidthMbps = d.uvarint("bandwidth")
		r.GPUs = d.uvarint("gpus")
	}
	a.Measured.CPUsMilli = d.uvarint("measured cpus")
	a.Measured.MemMB = d.uvarint("measured mem")
	a.Measured.NetRxBps = d.uvarint("measured rx")
	a.Measured.NetTxBps = d.uvarint("measured tx")
	if d.err != nil {
		return Availability{}, d.err
	}
	if len(d.b) != 0 {
		return Availability{}, fmt.Errorf("%w: %d trailing bytes", ErrInvalidAvailability, len(d.b))
	}
	if err := a.validate(); err != nil {
		return Availability{}, fmt.Errorf("%w: %w", ErrInvalidAvailability, err)
	}
	return a, nil
}

// decoder reads fields in order and keeps the first error, so the field
// list above reads like the layout.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	switch {
	case n == 0:
		d.err = fmt.Errorf("%w: in %s", ErrTruncated, field)
		return 0
	case n < 0:
		d.err = fmt.Errorf("%w: %s overflows 64 bits", ErrInvalidAvailability, field)
		return 0
	case n > 1 && d.b[n-1] == 0:
		// A final zero byte adds nothing: a longer form than Marshal writes.
		d.err = fmt.Errorf("%w: %s is not in shortest form", ErrInvalidAvailability, field)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) port(field string) uint16 {
	v := d.uvarint(field)
	if d.err == nil && v > 0xffff {
		d.err = fmt.Errorf("%w: %s %d", ErrInvalidAvailability, field, v)
		return 0
	}
	return uint16(v)
}

func (d *decoder) string(field string, limit int) string {
	n := d.uvarint(field + " length")
	if d.err != nil {
		return ""
	}
	if n > uint64(limit) {
		d.err = fmt.Errorf("%w: %s is %d bytes, limit %d", ErrInvalidAvailability, field, n, limit)
		return ""
	}
	if uint64(len(d.b)) < n {
		d.err = fmt.Errorf("%w: in %s", ErrTruncated, field)
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
