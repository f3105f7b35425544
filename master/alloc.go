package master

import (
	"fmt"

	"github.com/cairnhq/cairn/master/allocator"
)

// newAllocator builds the default allocator: DRF, Mesos's minimum
// allocatable resources, agents visited in a shuffled order.
func newAllocator(cfg Config) (Allocator, error) {
	a, err := allocator.New(allocator.Config{
		AllocationInterval: cfg.AllocationInterval,
		Shuffle:            true,
		Seed:               uint64(cfg.Port)<<32 ^ uint64(cfg.GossipPort),
	})
	if err != nil {
		return nil, fmt.Errorf("create allocator: %w", err)
	}
	return a, nil
}
