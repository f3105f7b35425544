package gossip

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/ids"
)

func sampleAgent() Availability {
	return Availability{
		Role:     RoleAgent,
		AgentID:  "4f1c9a2e-8b7d-4c3a-9e6f-0a1b2c3d4e5f-S12",
		HTTPPort: 5051,
		Hostname: "agent-3.rack2.example.com",
		Seq:      1763780000123,
		Total:    Resources{CPUsMilli: 2000, MemMB: 24576, DiskMB: 102400, BandwidthMbps: 1000, GPUs: 0},
		Free:     Resources{CPUsMilli: 1500, MemMB: 20480, DiskMB: 90000, BandwidthMbps: 800},
		Measured: Usage{CPUsMilli: 420, MemMB: 3100, NetRxBps: 1 << 20, NetTxBps: 5 << 20},
	}
}

// maximal has every field at its largest: the biggest record there is.
func maximal(role Role) Availability {
	big := Resources{math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxUint64}
	a := Availability{
		Role:     role,
		HTTPPort: math.MaxUint16,
		Hostname: strings.Repeat("h", MaxHostnameLen),
		Seq:      math.MaxUint64,
		Total:    big,
		Free:     big,
		Measured: Usage{math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxUint64},
	}
	if role == RoleAgent {
		a.AgentID = ids.AgentID(strings.Repeat("a", MaxAgentIDLen))
	} else {
		a.Leader, a.Epoch = true, math.MaxUint64
	}
	return a
}

func TestAvailabilityRoundTrips(t *testing.T) {
	master := Availability{Role: RoleMaster, HTTPPort: 5050, Hostname: "m1", Seq: 9, Leader: true, Epoch: 4}
	for _, a := range []Availability{sampleAgent(), master, {Role: RoleAgent}, maximal(RoleAgent), maximal(RoleMaster)} {
		b, err := MarshalAvailability(a)
		if err != nil {
			t.Fatalf("marshal %+v: %v", a, err)
		}
		got, err := UnmarshalAvailability(b)
		if err != nil {
			t.Fatalf("unmarshal %x: %v", b, err)
		}
		if got != a {
			t.Errorf("round trip\n got %+v\nwant %+v", got, a)
		}
	}
}

func TestTypicalAgentRecordIsSmall(t *testing.T) {
	b, err := MarshalAvailability(sampleAgent())
	if err != nil {
		t.Fatal(err)
	}
	// Small records keep alive messages in one UDP packet with room to
	// spare; the bound is loose on purpose.
	if len(b) > 128 {
		t.Errorf("typical agent record is %d bytes", len(b))
	}
}

func TestMaximalRecordFitsMetadata(t *testing.T) {
	for _, role := range []Role{RoleAgent, RoleMaster} {
		b, err := MarshalAvailability(maximal(role))
		if err != nil {
			t.Fatal(err)
		}
		// availabilityMaxSize ≤ MetaMaxSize is checked by the compiler.
		if len(b) > availabilityMaxSize {
			t.Errorf("maximal %s record is %d bytes, more than availabilityMaxSize %d", role, len(b), availabilityMaxSize)
		}
		t.Logf("maximal %s record: %d bytes of %d", role, len(b), MetaMaxSize)
	}
}

func TestMarshalRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Availability)
		want string
	}{
		{"hostname too long", func(a *Availability) { a.Hostname = strings.Repeat("h", MaxHostnameLen+1) }, "hostname is 254 bytes, limit 253"},
		{"agent id too long", func(a *Availability) { a.AgentID = ids.AgentID(strings.Repeat("a", MaxAgentIDLen+1)) }, "agent id is 65 bytes"},
		{"control byte", func(a *Availability) { a.Hostname = "evil\nhost" }, "hostname has a bad byte at offset 4"},
		{"invalid utf-8", func(a *Availability) { a.Hostname = "h\xff" }, "bad byte"},
		{"no role", func(a *Availability) { a.Role = 0 }, "unknown role 0"},
		{"free over total", func(a *Availability) { a.Free.MemMB = a.Total.MemMB + 1 }, "free mem"},
		{"agent as leader", func(a *Availability) { a.Leader = true }, "leader fields"},
		{"master with agent id", func(a *Availability) { a.Role = RoleMaster }, "agent id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := sampleAgent()
			tc.edit(&a)
			_, err := MarshalAvailability(a)
			if !errors.Is(err, ErrInvalidAvailability) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want ErrInvalidAvailability mentioning %q", err, tc.want)
			}
		})
	}
}

func TestUnmarshalRejects(t *testing.T) {
	good, err := MarshalAvailability(sampleAgent())
	if err != nil {
		t.Fatal(err)
	}
	withByte := func(i int, v byte) []byte {
		b := bytes.Clone(good)
		b[i] = v
		return b
	}
	for _, tc := range []struct {
		name  string
		input []byte
		is    error
		want  string
	}{
		{"empty", nil, ErrTruncated, "empty"},
		{"future version", withByte(0, 2), ErrUnknownVersion, "version 2 (this build reads 1)"},
		{"header only", good[:2], ErrTruncated, "header"},
		{"cut in a number", good[:len(good)-1], ErrTruncated, "measured tx"},
		{"cut in a string", good[:20], ErrTruncated, "agent id"},
		{"trailing byte", append(bytes.Clone(good), 0), ErrInvalidAvailability, "1 trailing bytes"},
		{"unknown role", withByte(1, 9), ErrInvalidAvailability, "unknown role 9"},
		{"unknown flag", withByte(2, 0x80), ErrInvalidAvailability, "unknown flags"},
		{"long varint", []byte{1, 1, 0, 0x80, 0x00}, ErrInvalidAvailability, "seq is not in shortest form"},
		{"overflow", append([]byte{1, 1, 0}, bytes.Repeat([]byte{0xff}, 11)...), ErrInvalidAvailability, "overflows"},
		{"port too big", []byte{1, 1, 0, 0, 0, 0x80, 0x80, 0x04}, ErrInvalidAvailability, "http port 65536"},
		{"string over bound", []byte{1, 1, 0, 0, 0, 0, 65}, ErrInvalidAvailability, "agent id is 65 bytes, limit 64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := UnmarshalAvailability(tc.input)
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %v mentioning %q", err, tc.is, tc.want)
			}
		})
	}
}

// FuzzUnmarshalAvailability: decoding never panics, and whatever decodes is
// canonical: it re-encodes to exactly the input, within the size limit.
func FuzzUnmarshalAvailability(f *testing.F) {
	for _, a := range []Availability{sampleAgent(), maximal(RoleAgent), maximal(RoleMaster), {Role: RoleMaster}} {
		b, err := MarshalAvailability(a)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{1, 1, 0, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := UnmarshalAvailability(b)
		if err != nil {
			return
		}
		again, err := MarshalAvailability(a)
		if err != nil {
			t.Fatalf("decoded %+v but cannot encode it: %v", a, err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("not canonical: %x decodes to %+v, which encodes to %x", b, a, again)
		}
		if len(b) > MetaMaxSize {
			t.Fatalf("accepted a %d-byte record", len(b))
		}
	})
}

// FuzzAvailabilityRoundTrip: every record Marshal accepts comes back equal
// and fits the metadata limit.
func FuzzAvailabilityRoundTrip(f *testing.F) {
	f.Add(uint8(1), "agent-1", uint16(5051), "host", uint64(7), uint64(2000), uint64(1000), uint64(512), false, uint64(0))
	f.Add(uint8(2), "", uint16(5050), "m", uint64(1), uint64(0), uint64(0), uint64(0), true, uint64(3))
	f.Fuzz(func(t *testing.T, role uint8, agentID string, port uint16, host string, seq, total, free, measured uint64, leader bool, epoch uint64) {
		a := Availability{
			Role: Role(role), AgentID: ids.AgentID(agentID), HTTPPort: port, Hostname: host, Seq: seq,
			Total:    Resources{total, total, total, total, total},
			Free:     Resources{free, free, free, free, free},
			Measured: Usage{measured, measured, measured, measured},
			Leader:   leader, Epoch: epoch,
		}
		b, err := MarshalAvailability(a)
		if err != nil {
			return
		}
		if len(b) > MetaMaxSize {
			t.Fatalf("%+v encodes to %d bytes", a, len(b))
		}
		got, err := UnmarshalAvailability(b)
		if err != nil {
			t.Fatalf("%+v encodes to %x, which does not decode: %v", a, b, err)
		}
		if got != a {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, a)
		}
	})
}
