//go:build linux

package netbw

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/cairnhq/cairn/bpf/tcclass"
	"github.com/cairnhq/cairn/ids"
	"github.com/cilium/ebpf"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Isolator is the HTB tree on one egress interface and the classifier that
// fills it.
type Isolator struct {
	mu     sync.Mutex // serialises every change: tree and maps move together
	closed bool
	h      *netlink.Handle
	link   netlink.Link
	cls    *tcclass.Classifier
	link64 uint64 // root rate, bit/s
	ceil   Ceil
	pinDir string
	fws    map[ids.FrameworkID]*framework
	log    *slog.Logger
}

type framework struct {
	minor uint16
	rate  uint64 // bit/s
}

// New builds the tree on the interface, or adopts the one an earlier agent
// left there (see Recovered); it never drops a packet of a flow a recovered
// task has open. A kernel without HTB, cls_bpf or tc eBPF programs gives an
// error wrapping bpf.ErrNotSupported that names the missing piece (a
// *bpf.MissingError). A root qdisc that is neither Cairn's nor a kernel
// default is left alone and is an error.
func New(cfg Config, log *slog.Logger) (*Isolator, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ceil, err := ParseCeil(string(cfg.Ceil))
	if err != nil {
		return nil, err
	}
	h, err := handle(cfg.Netns)
	if err != nil {
		return nil, err
	}
	i := &Isolator{h: h, ceil: ceil, fws: map[ids.FrameworkID]*framework{}, log: log}
	if err := i.open(cfg); err != nil {
		h.Close()
		return nil, err
	}
	return i, nil
}

func handle(nsPath string) (*netlink.Handle, error) {
	if nsPath == "" {
		h, err := netlink.NewHandle()
		if err != nil {
			return nil, fmt.Errorf("open netlink: %w", err)
		}
		return h, nil
	}
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return nil, fmt.Errorf("open netns %s: %w", nsPath, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("open netlink in %s: %w", nsPath, err)
	}
	return h, nil
}

func (i *Isolator) open(cfg Config) error {
	name := cfg.Interface
	if name == "" {
		var err error
		if name, err = defaultInterface(i.h); err != nil {
			return err
		}
	}
	link, err := i.h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find egress interface %q: %w", name, err)
	}
	i.link = link
	mbps := cfg.LinkMbps
	if mbps <= 0 {
		if cfg.Netns != "" {
			return fmt.Errorf("egress interface %s: LinkMbps must be given for an interface in another netns", name)
		}
		if mbps, err = LinkMbps(name); err != nil {
			return err
		}
	}
	i.link64 = bits(mbps)
	i.pinDir = cfg.PinDir
	if i.pinDir == "" {
		i.pinDir = filepath.Join(DefaultPinRoot, name)
	}
	// Before touching the interface: a kernel without tc eBPF fails here.
	i.cls, err = tcclass.Load(i.pinDir)
	if errors.Is(err, ebpf.ErrMapIncompatible) {
		// Pins of another version of the maps: what they said cannot be
		// read, so the tree they described goes too. Flows go on; the
		// packets queued in the old classes are lost.
		i.log.Warn("netbw pins incompatible, rebuilding", "interface", name, "pin_dir", i.pinDir, "error", err)
		if err := errors.Join(deleteQdisc(i.h, link), tcclass.Unpin(i.pinDir)); err != nil {
			return err
		}
		i.cls, err = tcclass.Load(i.pinDir)
	}
	if err != nil {
		return err
	}
	if err := i.build(); err != nil {
		i.cls.Close()
		return err
	}
	return nil
}

// Close removes everything the isolator made: the tree (the kernel puts its
// default qdisc back), the filter with it, and the pinned maps. It is what
// an agent does when bandwidth isolation is turned off; an agent that stops
// while its tasks run calls Release instead. Idempotent.
func (i *Isolator) Close() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return nil
	}
	i.closed = true
	err := errors.Join(deleteQdisc(i.h, i.link), i.cls.Close(), tcclass.Unpin(i.pinDir))
	i.h.Close()
	if err == nil && filepath.Dir(i.pinDir) == DefaultPinRoot {
		// The default root and its parent go with the last interface's
		// pins; another agent's still there keep them (not empty).
		_ = os.Remove(DefaultPinRoot)
		_ = os.Remove(filepath.Dir(DefaultPinRoot))
	}
	if err != nil {
		return fmt.Errorf("close netbw on %s: %w", i.link.Attrs().Name, err)
	}
	return nil
}

// Release lets go of the isolator's handles and leaves the tree, filter and
// pinned maps in the kernel, still shaping: the next New on the same
// interface and pin directory adopts them. Idempotent, like Close; after
// either, every method returns an error.
func (i *Isolator) Release() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return nil
	}
	i.closed = true
	err := i.cls.Close()
	i.h.Close()
	return err
}

// Interface returns the shaped interface's name.
func (i *Isolator) Interface() string { return i.link.Attrs().Name }

// LinkBitsPerSecond returns the root class's rate.
func (i *Isolator) LinkBitsPerSecond() uint64 { return i.link64 }

var errClosed = errors.New("netbw isolator is closed")
