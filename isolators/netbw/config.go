//go:build linux

package netbw

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cairnhq/cairn/bpf"
	"github.com/vishvananda/netlink"
)

// Config says where and how to shape.
type Config struct {
	// Interface is the egress interface (--egress_interface); empty means
	// the interface of the default route.
	Interface string
	// LinkMbps is what the root class may send, in Mbit/s; 0 means the
	// interface's link speed (LinkMbps).
	LinkMbps float64
	// Ceil is the framework classes' ceil policy (--egress_ceil); empty
	// means CeilLink.
	Ceil Ceil
	// Netns is the path of the network namespace the interface is in;
	// empty means the caller's. Tests shape namespaces they made.
	Netns string
	// PinDir is where the classifier's maps are pinned, on a bpffs; empty
	// means DefaultPinRoot/<interface>.
	PinDir string
}

// DefaultPinRoot holds one directory of pinned maps per shaped interface.
var DefaultPinRoot = filepath.Join(bpf.BPFFSPath, "cairn", "netbw")

// DefaultInterface returns the interface of the IPv4 default route (IPv6's
// when there is no IPv4 one) in the caller's network namespace.
func DefaultInterface() (string, error) {
	h, err := netlink.NewHandle()
	if err != nil {
		return "", fmt.Errorf("find default route: %w", err)
	}
	defer h.Close()
	return defaultInterface(h)
}

func defaultInterface(h *netlink.Handle) (string, error) {
	for _, family := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		routes, err := h.RouteListFiltered(family, &netlink.Route{Table: 254}, netlink.RT_FILTER_TABLE)
		if err != nil {
			return "", fmt.Errorf("find default route: %w", err)
		}
		for _, r := range routes {
			if (r.Dst == nil || r.Dst.IP.IsUnspecified() && isZeroMask(r.Dst.Mask)) && r.LinkIndex > 0 {
				l, err := h.LinkByIndex(r.LinkIndex)
				if err != nil {
					return "", fmt.Errorf("find default route: %w", err)
				}
				return l.Attrs().Name, nil
			}
		}
	}
	return "", errors.New("find egress interface: no default route; set --egress_interface")
}

func isZeroMask(m []byte) bool {
	for _, b := range m {
		if b != 0 {
			return false
		}
	}
	return true
}

// LinkMbps returns the link speed of iface in Mbit/s, from
// /sys/class/net/<iface>/speed (what ethtool shows). Virtual devices and
// links that are down have none: the error says to set the bandwidth with
// --resources instead. The agent offers this as network_bandwidth unless
// --resources says otherwise.
func LinkMbps(iface string) (float64, error) {
	b, err := os.ReadFile(filepath.Join("/sys/class/net", iface, "speed"))
	if err != nil {
		return 0, fmt.Errorf("read link speed of %s: %w; set network_bandwidth with --resources", iface, err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("read link speed of %s: unknown (%q); set network_bandwidth with --resources", iface, strings.TrimSpace(string(b)))
	}
	return float64(n), nil
}
