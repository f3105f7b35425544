package isolators

import (
	"errors"
	"math"
)

// MinMemoryBytes is the Mesos minimum memory limit (32 MB): below it a
// container's own runtime barely starts.
const MinMemoryBytes = 32 << 20

// Mem is the cgroups/mem isolator: a hard memory limit and no swap.
type Mem struct{}

// Name implements Isolator.
func (Mem) Name() string { return "cgroups/mem" }

// Spec implements Isolator. It sets MemoryBytes to the requested memory (at
// least MinMemoryBytes) and MemorySwapBytes to the same value, so that the
// container cannot push its excess into swap: it is OOM-killed instead, which
// the agent reports as REASON_CONTAINER_LIMITATION_MEMORY.
func (Mem) Spec(req Request, l *Limits) error {
	if err := checkQuantity("mem", req.MemMB); err != nil {
		return err
	}
	if req.MemMB == 0 {
		return errors.New("no mem in request")
	}
	b := req.MemMB * (1 << 20)
	if b >= math.MaxInt64/2 {
		return errors.New("mem too large")
	}
	limit := max(int64(b), MinMemoryBytes)
	l.MemoryBytes = limit
	l.MemorySwapBytes = limit
	return nil
}
