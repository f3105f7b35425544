//go:build linux

package netbw

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"

	"github.com/cairnhq/cairn/ids"
	"github.com/vishvananda/netlink"
)

// Defaults of NetConfig.
var (
	DefaultBridge = "cairn0"
	DefaultCIDR   = netip.MustParsePrefix("10.201.0.0/16")
)

// NetConfig says where tasks with their own network namespace are plugged.
type NetConfig struct {
	Bridge string       // the bridge's name; empty means DefaultBridge
	CIDR   netip.Prefix // --network_cidr; zero means DefaultCIDR. The bridge takes the first address
	Netns  string       // path of the namespace the bridge is in; empty means the caller's
	// Egress, when set, is the isolator of the uplink: task packets the host
	// forwards are tagged with their framework's class on the way in (see
	// tcclass), so the uplink shapes them per framework too.
	Egress *Isolator
}

// Network is the bridge and the tasks' namespaces plugged into it.
type Network struct {
	mu     sync.Mutex
	closed bool
	h      *netlink.Handle
	cfg    NetConfig
	bridge netlink.Link
	gw     netip.Prefix
}

// TaskNet is one task's namespace: its only interface, eth0, is a veth whose
// host end is on the bridge, shaped at LimitMbps both ways.
type TaskNet struct {
	ID        ids.ContainerID
	Netns     string       // path, for the containerizer (isolators.Prepared.NetNS)
	Addr      netip.Prefix // eth0's address
	Gateway   netip.Addr   // the bridge; the task's default route
	HostVeth  string
	LimitMbps float64
}

// aliasPrefix marks the host ends Cairn made; the rest of the alias is the
// container id and the task's address, which is how a restarted agent
// finds both again (List).
const aliasPrefix = "cairn-task "

// OpenNetwork makes the bridge (with the gateway address, up), or adopts
// it when it is there already.
func OpenNetwork(cfg NetConfig) (*Network, error) {
	if cfg.Bridge == "" {
		cfg.Bridge = DefaultBridge
	}
	if !cfg.CIDR.IsValid() {
		cfg.CIDR = DefaultCIDR
	}
	cfg.CIDR = cfg.CIDR.Masked()
	if !cfg.CIDR.Addr().Is4() || cfg.CIDR.Bits() > 30 {
		return nil, fmt.Errorf("open task network: --network_cidr %s is not an IPv4 prefix of /30 or wider", cfg.CIDR)
	}
	h, err := handle(cfg.Netns)
	if err != nil {
		return nil, err
	}
	n := &Network{h: h, cfg: cfg, gw: netip.PrefixFrom(cfg.CIDR.Addr().Next(), cfg.CIDR.Bits())}
	if err := n.openBridge(); err != nil {
		h.Close()
		return nil, err
	}
	return n, nil
}

func (n *Network) openBridge() error {
	name := n.cfg.Bridge
	l, err := n.h.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if !errors.As(err, &nf) {
			return fmt.Errorf("find bridge %s: %w", name, err)
		}
		if err := n.h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}); err != nil {
			return fmt.Errorf("create bridge %s: %w", name, err)
		}
		if l, err = n.h.LinkByName(name); err != nil {
			return fmt.Errorf("find bridge %s: %w", name, err)
		}
	} else if l.Type() != "bridge" {
		return fmt.Errorf("open task network: %s is a %s, not a bridge", name, l.Type())
	}
	n.bridge = l
	addr := &netlink.Addr{IPNet: ipNet(n.gw)}
	if err := n.h.AddrReplace(l, addr); err != nil {
		return fmt.Errorf("address bridge %s: %w", name, err)
	}
	if err := n.h.LinkSetUp(l); err != nil {
		return fmt.Errorf("bring up bridge %s: %w", name, err)
	}
	return nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// Gateway returns the bridge's address.
func (n *Network) Gateway() netip.Addr { return n.gw.Addr() }

// hostVethName is a stable interface name for the container's host end
// (15 bytes at most).
func hostVethName(id ids.ContainerID) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return fmt.Sprintf("cnt%08x", h.Sum32())
}

func taskNetns(id ids.ContainerID) string {
	return filepath.Join(NetnsDir, "cairn-"+string(id))
}

// ports lists the tasks plugged into the bridge, by host veth.
func (n *Network) ports() (map[string]TaskNet, error) {
	links, err := n.h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list task veths: %w", err)
	}
	out := map[string]TaskNet{}
	for _, l := range links {
		a := l.Attrs()
		rest, ok := strings.CutPrefix(a.Alias, aliasPrefix)
		if !ok || a.MasterIndex != n.bridge.Attrs().Index {
			continue
		}
		id, addr, _ := strings.Cut(rest, " ")
		p, err := netip.ParsePrefix(addr)
		if err != nil {
			continue
		}
		out[a.Name] = TaskNet{ID: ids.ContainerID(id), Netns: taskNetns(ids.ContainerID(id)), Addr: p, Gateway: n.gw.Addr(), HostVeth: a.Name}
	}
	return out, nil
}

// freeAddr returns the lowest address of the CIDR that is neither the
// network, the gateway, the broadcast nor taken.
func (n *Network) freeAddr(taken map[string]TaskNet) (netip.Prefix, error) {
	used := map[netip.Addr]bool{n.gw.Addr(): true}
	for _, t := range taken {
		used[t.Addr.Addr()] = true
	}
	for a := n.gw.Addr().Next(); n.cfg.CIDR.Contains(a.Next()); a = a.Next() {
		if !used[a] {
			return netip.PrefixFrom(a, n.cfg.CIDR.Bits()), nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("allocate task address: %s is full", n.cfg.CIDR)
}
