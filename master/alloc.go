package master

import (
	"fmt"

	"github.com/cairnhq/cairn/master/allocator"
)

// newAllocator builds the allocator the policy flags describe (validated
// by Config.validate), visiting agents in a shuffled order as Mesos does.
func newAllocator(cfg Config) (Allocator, error) {
	a, err := allocator.New(allocator.Config{
		AllocationInterval: cfg.AllocationInterval,
		MinAllocatable:     cfg.minAllocatable,
		RoleSorter:         cfg.RoleSorter,
		FrameworkSorter:    cfg.FrameworkSorter,
		Weights:            cfg.weights,
		Shuffle:            true,
		Seed:               uint64(cfg.AllocatorSeed),
	})
	if err != nil {
		return nil, fmt.Errorf("create allocator: %w", err)
	}
	return a, nil
}
