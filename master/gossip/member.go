package gossip

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// State is a member's liveness as this member last heard it.
type State uint8

const (
	// Alive members answer probes (or have not yet been found not to).
	Alive State = iota + 1
	// Suspect is the SWIM state between a missed probe and a verdict.
	// memberlist gives no race-free way to observe it (no event, and its
	// Members list aliases state it keeps mutating), so this version never
	// reports it: a suspect member stays Alive until it is declared Dead.
	Suspect
	// Dead members were declared failed by the pool.
	Dead
	// Left members announced a graceful Leave.
	Left
)

func (s State) String() string {
	switch s {
	case Alive:
		return "alive"
	case Suspect:
		return "suspect"
	case Dead:
		return "dead"
	case Left:
		return "left"
	}
	return "unknown"
}

// Member is a snapshot of one pool member. Meta is a private copy.
type Member struct {
	Name  string
	Addr  netip.AddrPort // gossip address (UDP and TCP)
	Meta  []byte
	State State
}

// Kind says what happened to a member.
type Kind uint8

const (
	// Join: a member appeared, or came back after Dead or Left.
	Join Kind = iota + 1
	// Update: a live member changed its metadata.
	Update
	// Leave: a member left gracefully (it called Leave).
	Leave
	// Fail: a member was declared dead without saying goodbye.
	Fail
)

func (k Kind) String() string {
	switch k {
	case Join:
		return "join"
	case Update:
		return "update"
	case Leave:
		return "leave"
	case Fail:
		return "fail"
	}
	return "unknown"
}

// Event is one membership change. Member is the member as it was right
// after the change.
type Event struct {
	Kind   Kind
	Member Member
}

// memberFromNode copies n and reports its envelope flags. The state comes
// from the event: memberlist never updates n.State.
func memberFromNode(n *memberlist.Node, state State) (Member, byte) {
	ip, _ := netip.AddrFromSlice(n.Addr)
	flags, meta := unwrapMeta(n.Meta)
	return Member{
		Name:  n.Name,
		Addr:  netip.AddrPortFrom(ip.Unmap(), n.Port),
		Meta:  meta,
		State: state,
	}, flags
}

// table is this member's view of the pool, built only from memberlist's
// event callbacks. Those run with memberlist's node lock held, so the Node
// they pass is consistent; reading memberlist's own Members list later would
// race with its updates.
type table struct {
	now func() time.Time

	mu      sync.Mutex
	members map[string]entry
}

type entry struct {
	member Member
	gone   time.Time // when it became Dead or Left
}

func newTable(now func() time.Time) *table {
	return &table{now: now, members: make(map[string]entry)}
}

// apply records ev and returns what the table held before, if anything.
func (t *table) apply(ev Event) (prev Member, known bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old, known := t.members[ev.Member.Name]
	e := entry{member: ev.Member}
	if ev.Kind == Leave || ev.Kind == Fail {
		e.gone = t.now()
	}
	t.members[ev.Member.Name] = e
	return old.member, known
}

// snapshot lists every live member and the dead or left ones younger than
// goneRetention, sorted by name. Older ones are dropped, as memberlist does.
func (t *table) snapshot() []Member {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	out := make([]Member, 0, len(t.members))
	for name, e := range t.members {
		if !e.gone.IsZero() && now.Sub(e.gone) > goneRetention {
			delete(t.members, name)
			continue
		}
		m := e.member
		m.Meta = slices.Clone(m.Meta)
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}
