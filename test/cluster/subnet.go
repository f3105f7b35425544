package cluster

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
)

// pickSubnet returns a third octet S such that 10.250.S.0/24 overlaps nothing
// in used and is not claimed by another cluster.
func pickSubnet(used []netip.Prefix, claimed map[int]bool, rng *rand.Rand) (int, error) {
	for _, s := range rng.Perm(254) {
		s++ // 1..254: keep away from the .0 and .255 networks
		if claimed[s] {
			continue
		}
		p := subnet(s)
		free := true
		for _, u := range used {
			if u.Overlaps(p) {
				free = false
				break
			}
		}
		if free {
			return s, nil
		}
	}
	return 0, fmt.Errorf("pick subnet: every 10.250.S.0/24 is in use")
}

func subnet(s int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 250, byte(s), 0}), 24)
}

func hostAddr(s, host int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, 250, byte(s), byte(host)})
}
