//go:build linux

package netbw

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/cairnhq/cairn/bpf"
	"golang.org/x/sys/unix"
)

// A kernel without sch_htb or cls_bpf answers ENOENT (no module for the
// kind): that must become an error naming the piece, which matches
// bpf.ErrNotSupported; anything else stays what it was.
func TestMissingNamesThePiece(t *testing.T) {
	err := missing(HTB, fmt.Errorf("create htb on eth0: %w", unix.ENOENT))
	if f, ok := bpf.IsMissing(err); !ok || f != HTB || !errors.Is(err, bpf.ErrNotSupported) {
		t.Errorf("ENOENT: %v (feature %q), want a MissingError naming %q", err, f, HTB)
	}
	if _, ok := bpf.IsMissing(missing(ClsBPF, unix.EPERM)); ok {
		t.Error("EPERM classified as a missing feature")
	}
}

func TestFreeAddr(t *testing.T) {
	cidr := netip.MustParsePrefix("10.201.0.0/29") // .1 gateway, .2-.6 tasks, .7 broadcast
	n := &Network{cfg: NetConfig{CIDR: cidr}, gw: netip.PrefixFrom(cidr.Addr().Next(), cidr.Bits())}
	taken := map[string]TaskNet{}
	var got []string
	for i := 0; ; i++ {
		p, err := n.freeAddr(taken)
		if err != nil {
			break
		}
		got = append(got, p.String())
		taken[p.String()] = TaskNet{Addr: p}
	}
	want := "[10.201.0.2/29 10.201.0.3/29 10.201.0.4/29 10.201.0.5/29 10.201.0.6/29]"
	if fmt.Sprint(got) != want {
		t.Errorf("addresses = %v, want %s", got, want)
	}
	delete(taken, "10.201.0.4/29")
	if p, err := n.freeAddr(taken); err != nil || p.String() != "10.201.0.4/29" {
		t.Errorf("after a release: %v, %v; want 10.201.0.4/29", p, err)
	}
}

func TestHostVethName(t *testing.T) {
	a, b := hostVethName("c1"), hostVethName("c2")
	if a == b || len(a) > 15 || a != hostVethName("c1") {
		t.Errorf("names %q and %q: want distinct, stable, at most 15 bytes", a, b)
	}
}
