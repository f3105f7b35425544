package netdiag

import (
	"bytes"
	"fmt"
	"strconv"
)

// Device is a network device's counters, from its own side: Rx is what it
// received.
type Device struct {
	Name                                    string
	RxBytes, RxPackets, RxErrors, RxDropped uint64
	TxBytes, TxPackets, TxErrors, TxDropped uint64
}

// ParseNetDev reads the format of /proc/net/dev: two header lines, then per
// device "name: rx bytes packets errs drop fifo frame compressed multicast
// tx bytes packets errs drop fifo colls carrier compressed".
func ParseNetDev(b []byte) ([]Device, error) {
	var out []Device
	for i, line := range bytes.Split(b, []byte{'\n'}) {
		if i < 2 || len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		name, rest, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return nil, fmt.Errorf("parse net/dev line %d: no device name", i+1)
		}
		f := bytes.Fields(rest)
		if len(f) < 16 {
			return nil, fmt.Errorf("parse net/dev line %d: %d fields, want 16", i+1, len(f))
		}
		var v [16]uint64
		for j := range v {
			n, err := strconv.ParseUint(string(f[j]), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("parse net/dev line %d: %w", i+1, err)
			}
			v[j] = n
		}
		out = append(out, Device{
			Name:    string(bytes.TrimSpace(name)),
			RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDropped: v[3],
			TxBytes: v[8], TxPackets: v[9], TxErrors: v[10], TxDropped: v[11],
		})
	}
	return out, nil
}
