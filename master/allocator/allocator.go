package allocator

import (
	"fmt"
	"math/rand/v2"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

// Allocation is resources of one agent held by one framework under one of
// its roles. Allocate returns them (the master makes each an offer); the
// master passes them back to Recover, and uses them to describe resources
// already in use when an agent or framework is (re)added after a failover.
type Allocation struct {
	Framework ids.FrameworkID
	Agent     ids.AgentID
	Role      string
	Resources resources.Resources
}

// Allocator is the allocation state machine. Create it with New.
type Allocator struct {
	cfg            Config
	minAllocatable []resources.Resources
	names          nameTable

	agents         map[ids.AgentID]*agent
	agentSlots     []*agent // by agent.slot; nil once removed
	freeAgentSlots []int32
	agentOrder     []*agent // every agent once; sorted by id when !orderDirty
	orderDirty     bool
	rng            *rand.Rand // nil unless Config.Shuffle

	frameworks   map[ids.FrameworkID]*framework
	subSlots     []*sub // by sub.slot; nil once dropped
	freeSubSlots []int32

	root         *roleNode // not a role: the top of the tree
	roles        map[string]*roleNode
	deep         int    // roles with subroles; 0 means the order is the root's
	roleGen      uint64 // bumped by every change of a role's share or the tree
	leafGen      uint64 // roleGen leafBuf was flattened at
	leafTotalGen uint64
	leafBuf      []*client
	weights      map[string]float64
	quotas       map[string]*quota
	total        qvec   // every agent's total, active or not
	totalGen     uint64 // bumped when total changes

	expiry    expiryQueues
	filterSeq uint64
	nfilters  int

	sorterStreams uint64
	qbuf, ubuf    qvec // scratch for quantities

	runs, offersMade uint64
	lastOffers       int
}

// New returns an empty allocator with cfg's policy.
func New(cfg Config) (*Allocator, error) {
	if cfg.AllocationInterval < 0 {
		return nil, fmt.Errorf("negative allocation interval %v", cfg.AllocationInterval)
	}
	if err := checkSorter(cfg.RoleSorter); err != nil {
		return nil, fmt.Errorf("role sorter: %w", err)
	}
	if err := checkSorter(cfg.FrameworkSorter); err != nil {
		return nil, fmt.Errorf("framework sorter: %w", err)
	}
	minAlloc := cfg.MinAllocatable
	if minAlloc == nil {
		minAlloc = DefaultMinAllocatable()
	}
	for _, m := range minAlloc {
		if err := checkQuantities(m); err != nil {
			return nil, fmt.Errorf("min allocatable resources: %w", err)
		}
	}
	if err := checkWeights(cfg.Weights); err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	a := &Allocator{
		cfg:            cfg,
		minAllocatable: minAlloc,
		agents:         make(map[ids.AgentID]*agent),
		frameworks:     make(map[ids.FrameworkID]*framework),
		roles:          make(map[string]*roleNode),
		weights:        make(map[string]float64),
		quotas:         make(map[string]*quota),
	}
	for role, w := range cfg.Weights {
		a.weights[role] = w
	}
	a.root = &roleNode{}
	a.root.kids = a.newSorter(cfg.RoleSorter)
	if cfg.Shuffle {
		a.rng = rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	}
	return a, nil
}
