package gossip

import (
	"slices"
	"sync"

	"github.com/hashicorp/memberlist"
)

// On the wire a member's memberlist metadata is one byte of flags followed
// by the user's metadata (the Availability record).
//
// The flags exist because memberlist cannot tell its event delegate whether
// a member left or failed: it passes the Node embedded in its private state,
// whose own State field it never updates. So Leave first republishes the
// metadata with flagLeaving set, waits for that alive message to spread
// (memberlist rebroadcasts it epidemically, and push/pull carries it to late
// joiners), and only then sends the dead message. A peer that sees the
// member go, either way, with the flag set reports Leave; otherwise Fail.
const (
	envelopeSize = 1
	flagLeaving  = 1 << 0
)

func wrapMeta(flags byte, meta []byte) []byte {
	return append([]byte{flags}, meta...)
}

// unwrapMeta splits memberlist metadata into flags and a copy of the user's
// part. Unknown flag bits are ignored so that a later version may add some.
func unwrapMeta(raw []byte) (flags byte, meta []byte) {
	if len(raw) < envelopeSize {
		return 0, nil
	}
	return raw[0], slices.Clone(raw[envelopeSize:])
}

// metaDelegate serves the local metadata to memberlist, which asks for it
// from its own goroutines whenever it builds an alive message.
type metaDelegate struct {
	mu      sync.Mutex
	meta    []byte
	leaving bool
}

var _ memberlist.Delegate = (*metaDelegate)(nil)

func (d *metaDelegate) set(meta []byte) {
	d.mu.Lock()
	d.meta = slices.Clone(meta)
	d.mu.Unlock()
}

func (d *metaDelegate) setLeaving() {
	d.mu.Lock()
	d.leaving = true
	d.mu.Unlock()
}

// NodeMeta never exceeds limit: New and SetMeta enforce MetaMaxSize, and
// memberlist always asks with its own MetaMaxSize.
func (d *metaDelegate) NodeMeta(limit int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	var flags byte
	if d.leaving {
		flags |= flagLeaving
	}
	raw := wrapMeta(flags, d.meta)
	if len(raw) > limit {
		return nil
	}
	return raw
}

// Cairn sends no user messages or state of its own over gossip: everything
// rides in the metadata.
func (d *metaDelegate) NotifyMsg([]byte)                           {}
func (d *metaDelegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *metaDelegate) LocalState(join bool) []byte                { return nil }
func (d *metaDelegate) MergeRemoteState(buf []byte, join bool)     {}
