//go:build linux

package tcclass

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/cairnhq/cairn/bpf"
	"github.com/cilium/ebpf"
)

// Major is the HTB handle major of Cairn's trees ("ca1:"); a class id is
// Major<<16 | minor. The C side has the same constant.
const Major = 0x0ca1

// ClassID returns the class id of minor in a Cairn tree.
func ClassID(minor uint16) uint32 { return Major<<16 | uint32(minor) }

// MaxFrameworkID is the longest framework id the frameworks map holds.
const MaxFrameworkID = len(tcclassFwName{}.Id) - 1

// Pinned map names, inside the pin directory.
const (
	ClassesPin    = "classes"
	FrameworksPin = "frameworks"
)

// Classifier is the loaded programs and their pinned maps.
type Classifier struct {
	mu     sync.RWMutex // write-held by Close, read-held by every map access
	closed bool
	objs   tcclassObjects
	dir    string
}

// Load checks the kernel (Probe), then loads the programs with their maps
// pinned in pinDir, a directory on a bpffs that is created when missing. Maps
// already pinned there are adopted with their contents, so a filter left
// running by an earlier process keeps seeing the entries this one writes.
func Load(pinDir string) (*Classifier, error) {
	if err := Probe(); err != nil {
		return nil, fmt.Errorf("load tc classifier: %w", err)
	}
	bpf.RemoveMemlock()
	// The nearest existing ancestor must be on a bpffs: MkdirAll on
	// sysfs (no bpffs mounted at /sys/fs/bpf) would fail less clearly.
	existing := pinDir
	for {
		if _, err := os.Stat(existing); err == nil || filepath.Dir(existing) == existing {
			break
		}
		existing = filepath.Dir(existing)
	}
	if ok, err := bpf.Mounted("bpf", existing); err != nil || !ok {
		return nil, fmt.Errorf("load tc classifier: %s is not on a bpffs (mount one, bpf.MountBPFFS): %v", pinDir, err)
	}
	if err := os.MkdirAll(pinDir, 0o700); err != nil {
		return nil, fmt.Errorf("load tc classifier: %w", err)
	}
	c := &Classifier{dir: pinDir}
	opts := &ebpf.CollectionOptions{Maps: ebpf.MapOptions{PinPath: pinDir}}
	if err := loadTcclassObjects(&c.objs, opts); err != nil {
		return nil, fmt.Errorf("load tc classifier: %w", err)
	}
	return c, nil
}

// Classify is the cls_bpf program for the HTB qdisc (direct-action, with
// classid Major:0 on the filter).
func (c *Classifier) Classify() *ebpf.Program { return c.objs.Classify }

// Tag is the clsact ingress program for the host end of a task's veth.
func (c *Classifier) Tag() *ebpf.Program { return c.objs.Tag }

// Dir is the pin directory.
func (c *Classifier) Dir() string { return c.dir }

// Close releases this process's references; pinned maps and any filter
// still using the programs stay in the kernel. It is idempotent.
func (c *Classifier) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if err := c.objs.Close(); err != nil {
		return fmt.Errorf("close tc classifier: %w", err)
	}
	return nil
}

// Unpin removes the pinned maps and the pin directory (when empty then).
// The maps live on while a loaded program uses them.
func Unpin(pinDir string) error {
	var errs []error
	for _, name := range []string{ClassesPin, FrameworksPin} {
		if err := os.Remove(filepath.Join(pinDir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := os.Remove(pinDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("unpin tc classifier maps: %w", err)
	}
	return nil
}

var errClosed = errors.New("tc classifier is closed")
