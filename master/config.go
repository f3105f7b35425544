package master

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cairnhq/cairn/internal/flags"
	"github.com/cairnhq/cairn/master/allocator"
	"github.com/cairnhq/cairn/resources"
)

// Version is the master's version until a version package exists.
const Version = "0.1.0"

// Config is the master's configuration; RegisterFlags fills in the defaults.
type Config struct {
	IP                            string
	Port                          int
	AdvertiseIP                   string
	Hostname                      string
	WorkDir                       string
	Quorum                        int
	AllocationInterval            time.Duration
	GossipPort                    int
	OfferTimeout                  time.Duration
	MaxCompletedFrameworks        int
	MaxCompletedTasksPerFramework int
	// Allocation policy (Mesos's flags of the same names). Weights is
	// "role=weight,..." (allocator.ParseWeights); MinAllocatableResources is
	// "cpus:0.01|mem:32" (allocator.ParseMinAllocatable); the sorters are
	// one of allocator.SorterNames(). AllocatorSeed feeds agent shuffling
	// and the random sorter; 0 derives one from the clock at start.
	Weights                 string
	RoleSorter              string
	FrameworkSorter         string
	MinAllocatableResources string
	AllocatorSeed           uint

	// Not flags.

	// HeartbeatInterval between HEARTBEAT events (Mesos: 15 s).
	HeartbeatInterval time.Duration
	// StreamQueue bounds the events queued for one framework; a framework
	// that falls this far behind has its stream closed. 0: 4096.
	StreamQueue int
	// Allocator replaces the default allocator (tests).
	Allocator Allocator
	// AgentRetry is the first delay between attempts to deliver a message
	// to an agent (doubling to 2 s). 0: 100 ms.
	AgentRetry time.Duration
	// RunTasksAttempts bounds delivery attempts of a run_tasks before its
	// tasks are reported lost. 0: 6.
	RunTasksAttempts int
	// Flags, when set, is reported by GET_FLAGS and /flags.
	Flags func() map[string]string
	// LogLevel, when set, is the level of the logger passed to New; the
	// operator's SET_LOGGING_LEVEL lowers it to Debug for a while.
	LogLevel *slog.LevelVar

	// Parsed by validate.
	weights        map[string]float64
	minAllocatable []resources.Resources
}

// RegisterFlags registers the master's flags on fs with Mesos spellings
// and defaults.
func (c *Config) RegisterFlags(fs *flags.Set) {
	fs.String(&c.IP, "ip", "0.0.0.0", "IP address to listen on")
	fs.Int(&c.Port, "port", 5050, "HTTP port to listen on")
	fs.String(&c.AdvertiseIP, "advertise_ip", "", "IP address advertised to agents and frameworks")
	fs.String(&c.Hostname, "hostname", "", "hostname advertised (default: the system's)")
	fs.String(&c.WorkDir, "work_dir", "/var/lib/cairn/master", "where the registry is stored")
	fs.Int(&c.Quorum, "quorum", 1, "number of masters that must agree (1: a single master)")
	fs.Duration(&c.AllocationInterval, "allocation_interval", time.Second, "time between allocations")
	fs.Int(&c.GossipPort, "gossip_port", 5055, "gossip (UDP and TCP) port")
	fs.Duration(&c.OfferTimeout, "offer_timeout", 0, "rescind offers not used for this long (0: never)")
	fs.Int(&c.MaxCompletedFrameworks, "max_completed_frameworks", 50, "completed frameworks kept for /state")
	fs.Int(&c.MaxCompletedTasksPerFramework, "max_completed_tasks_per_framework", 1000, "completed tasks kept per framework")
	fs.String(&c.Weights, "weights", "", `role weights, "eng=2,ops=0.5"; weights stored by UPDATE_WEIGHTS win after a restart`)
	fs.String(&c.RoleSorter, "role_sorter", allocator.SorterDRF, "policy ordering roles: "+strings.Join(allocator.SorterNames(), " | "))
	fs.String(&c.FrameworkSorter, "framework_sorter", allocator.SorterDRF, "policy ordering a role's frameworks: "+strings.Join(allocator.SorterNames(), " | "))
	fs.String(&c.MinAllocatableResources, "min_allocatable_resources", "cpus:0.01|mem:32",
		`offer only resources containing one of these quantities, "cpus:0.01|mem:32"`)
	fs.Uint(&c.AllocatorSeed, "allocator_seed", 0, "seed of agent shuffling and the random sorter (0: from the clock, logged)")
	c.Flags = fs.Values
}

// validatePolicy parses and checks the allocation policy flags.
func (c *Config) validatePolicy() error {
	w, err := allocator.ParseWeights(c.Weights)
	if err != nil {
		return fmt.Errorf("--weights: %w", err)
	}
	c.weights = w
	for _, s := range []struct{ flag, v string }{{"role_sorter", c.RoleSorter}, {"framework_sorter", c.FrameworkSorter}} {
		if s.v != "" && !slices.Contains(allocator.SorterNames(), s.v) {
			return fmt.Errorf("--%s %q: not one of %s", s.flag, s.v, strings.Join(allocator.SorterNames(), ", "))
		}
	}
	// Empty keeps the allocator's default (nil), Mesos's "cpus:0.01|mem:32",
	// so that a Config built in code behaves like the flag's default.
	c.minAllocatable = nil
	if c.MinAllocatableResources != "" {
		if c.minAllocatable, err = allocator.ParseMinAllocatable(c.MinAllocatableResources); err != nil {
			return fmt.Errorf("--min_allocatable_resources: %w", err)
		}
	}
	if c.AllocatorSeed == 0 {
		c.AllocatorSeed = uint(time.Now().UnixNano())
	}
	return nil
}

func (c *Config) validate() error {
	if c.Quorum > 1 {
		return errors.New("--quorum > 1 needs the replicated registry, not built yet")
	}
	if c.Quorum < 1 {
		c.Quorum = 1
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("--port %d out of range", c.Port)
	}
	if c.GossipPort < 0 || c.GossipPort > 65535 {
		return fmt.Errorf("--gossip_port %d out of range", c.GossipPort)
	}
	if c.IP == "" {
		c.IP = "0.0.0.0"
	}
	if _, err := netip.ParseAddr(c.IP); err != nil {
		return fmt.Errorf("--ip: %w", err)
	}
	if c.AdvertiseIP != "" {
		if _, err := netip.ParseAddr(c.AdvertiseIP); err != nil {
			return fmt.Errorf("--advertise_ip: %w", err)
		}
	}
	if c.WorkDir == "" {
		return errors.New("--work_dir is required")
	}
	if err := c.validatePolicy(); err != nil {
		return err
	}
	if c.AllocationInterval <= 0 {
		c.AllocationInterval = time.Second
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 15 * time.Second
	}
	if c.StreamQueue <= 0 {
		c.StreamQueue = 4096
	}
	if c.AgentRetry <= 0 {
		c.AgentRetry = 100 * time.Millisecond
	}
	if c.RunTasksAttempts <= 0 {
		c.RunTasksAttempts = 6
	}
	if c.MaxCompletedFrameworks < 0 {
		c.MaxCompletedFrameworks = 0
	}
	if c.MaxCompletedTasksPerFramework < 0 {
		c.MaxCompletedTasksPerFramework = 0
	}
	if c.Hostname == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("get hostname: %w", err)
		}
		c.Hostname = h
	}
	return nil
}

// advertiseAddr is the IP others reach this master at: --advertise_ip, else
// --ip unless it is a wildcard, else the first non-loopback IPv4 address.
func (c *Config) advertiseAddr() netip.Addr {
	if c.AdvertiseIP != "" {
		return netip.MustParseAddr(c.AdvertiseIP)
	}
	ip := netip.MustParseAddr(c.IP)
	if !ip.IsUnspecified() {
		return ip
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				ip = ip.Unmap()
				if ip.Is4() && !ip.IsLoopback() {
					return ip
				}
			}
		}
	}
	return netip.MustParseAddr("127.0.0.1")
}
