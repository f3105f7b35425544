package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cairnhq/cairn/agent/checkpoint"
	"github.com/cairnhq/cairn/agent/statusupdate"
	"github.com/cairnhq/cairn/internal/flags"
	"github.com/cairnhq/cairn/internal/loglevel"
	"github.com/cairnhq/cairn/isolators/netbw"
)

// Config is the agent's configuration: the Mesos agent flags plus knobs
// tests turn.
type Config struct {
	Master      string // host:port of a master (--master)
	IP          string // listen address (--ip)
	Port        int    // HTTP port (--port); 0 picks one
	AdvertiseIP string // address others use to reach this agent (--advertise_ip)
	Hostname    string // reported hostname (--hostname)
	WorkDir     string // --work_dir
	RuntimeDir  string // --runtime_dir, default DefaultRuntimeDir(WorkDir)

	Resources  string // --resources, Mesos syntax
	Attributes string // --attributes, "rack:a;zone:b"

	Isolation        string // --isolation
	CgroupsRoot      string // --cgroups_root
	CgroupsDriver    string // --cgroups_driver
	CgroupsEnableCFS bool   // --cgroups_enable_cfs
	CgroupsPidsMax   int    // --cgroups_pids_max

	ExecutorRegistrationTimeout time.Duration // --executor_registration_timeout
	ExecutorShutdownGracePeriod time.Duration // --executor_shutdown_grace_period

	// Recover is --recover: "reconnect" re-attaches to the executors a
	// previous agent left running, "cleanup" kills them.
	Recover string
	// Strict (--strict) makes a corrupt checkpoint a startup error; when
	// false, what is corrupt is skipped (and counted) and recovery goes on.
	Strict bool
	// RecoveryTimeout (--recovery_timeout) is how long executors of
	// checkpointing frameworks wait for a restarting agent before they
	// give up (MESOS_RECOVERY_TIMEOUT).
	RecoveryTimeout time.Duration
	// ExecutorReregistrationTimeout (--executor_reregistration_timeout) is
	// how long a recovered executor has to re-subscribe.
	ExecutorReregistrationTimeout time.Duration

	GossipPort int // --gossip_port; 0 picks one

	// Network bandwidth isolation (issue #6), on when Isolation names
	// network/bandwidth (IsolationNetworkBandwidth).
	EgressInterface string // --egress_interface; empty: the default route's
	EgressCeil      string // --egress_ceil: link (borrow idle bandwidth) or rate (hard limit)
	NetworkCIDR     string // --network_cidr: addresses of tasks with their own netns
	NetworkName     string // --network_name: the network_infos name that asks for a task netns

	// UsageSource (--usage_source) is what per-task usage is measured with:
	// "ebpf" (the eBPF meters, or refuse to start), "cgroups" (cgroup
	// counters only) or "auto" (eBPF when the meters load, else cgroup
	// counters with a warning).
	UsageSource string
	// ContainerDiskWatchInterval (--container_disk_watch_interval) is how
	// often each sandbox's disk use is measured (disk_used_bytes).
	ContainerDiskWatchInterval time.Duration

	// Not flags.

	// BootID identifies the host's boot; default: read from
	// /proc/sys/kernel/random/boot_id. Tests change it to fake a reboot.
	BootID string
	// CheckpointFS is where checkpoints are written; default the real file
	// system. Tests inject failures (a full disk).
	CheckpointFS checkpoint.FS

	// StatusUpdateRetryMin/Max set the resend schedule of unacknowledged
	// status updates (defaults 10 s and 10 min, as Mesos).
	StatusUpdateRetryMin, StatusUpdateRetryMax time.Duration
	// MasterCheckInterval is how often the agent checks that the master is
	// among its live gossip members (default 2 s).
	MasterCheckInterval time.Duration
	// ExecutorBinary is the cairn binary bound into command task containers
	// at /.cairn/cairn; default: this process's executable.
	ExecutorBinary string
	// AvailabilityDebounce delays republishing availability after a
	// resource change so bursts cost one gossip update (default 200 ms).
	AvailabilityDebounce time.Duration
	// MaxConcurrentLaunches bounds how many containers are created at once
	// (default twice the cores): launches beyond it queue in arrival order.
	MaxConcurrentLaunches int
	// Flags, when set, is what GET_FLAGS reports (RegisterFlags sets it).
	Flags func() map[string]string
	// LogLevel, when set, is the level of the logger passed to New; the
	// operator's SET_LOGGING_LEVEL lowers it to Debug for a while.
	LogLevel *slog.LevelVar

	// logLevel is the operator's verbosity, made by defaults() so that the
	// Agent's copy of the Config carries it.
	logLevel *loglevel.Verbosity
}

// RegisterFlags registers the agent's flags on fs with their defaults.
func (c *Config) RegisterFlags(fs *flags.Set) {
	fs.String(&c.Master, "master", "", "host:port of a master (required)")
	fs.String(&c.IP, "ip", "0.0.0.0", "IP address to listen on")
	fs.Int(&c.Port, "port", 5051, "HTTP port to listen on")
	fs.String(&c.AdvertiseIP, "advertise_ip", "", "IP address advertised to the master and executors")
	fs.String(&c.Hostname, "hostname", "", "hostname to report (default: the system hostname)")
	fs.String(&c.WorkDir, "work_dir", "/var/lib/cairn/agent", "directory for sandboxes and agent metadata")
	fs.String(&c.RuntimeDir, "runtime_dir", "", "directory for per-boot runtime state such as container state (default /var/run/cairn/agent-<hash of work_dir>, or /dev/shm/cairn/… when /var/run is not a tmpfs)")
	fs.String(&c.Resources, "resources", "", "total resources, e.g. cpus:4;mem:2048;ports:[31000-32000]; missing ones are detected")
	fs.String(&c.Attributes, "attributes", "", "attributes, e.g. rack:a;zone:b;level:3")
	fs.String(&c.Isolation, "isolation", "cgroups/cpu,cgroups/mem,cgroups/pids", "isolators, comma separated")
	fs.String(&c.CgroupsRoot, "cgroups_root", "cairn", "cgroup below which containers are created")
	fs.String(&c.CgroupsDriver, "cgroups_driver", "auto", "who makes containers' cgroups: auto (systemd on pure cgroup v2 hosts run by systemd, else cgroupfs), cgroupfs, or systemd (a transient scope per container in cairn.slice)")
	fs.Bool(&c.CgroupsEnableCFS, "cgroups_enable_cfs", true, "enforce a hard CPU quota (CFS) of the task's cpus")
	fs.Int(&c.CgroupsPidsMax, "cgroups_pids_max", 4096, "maximum processes and threads per container")
	fs.Duration(&c.ExecutorRegistrationTimeout, "executor_registration_timeout", time.Minute, "how long an executor may take to subscribe")
	fs.Duration(&c.ExecutorShutdownGracePeriod, "executor_shutdown_grace_period", 5*time.Second, "how long an executor has to exit after SHUTDOWN")
	fs.String(&c.Recover, "recover", "reconnect", "what to do with executors a previous agent left running: reconnect (recover them) or cleanup (kill them)")
	fs.Bool(&c.Strict, "strict", true, "refuse to start when a checkpoint is corrupt; with --no-strict skip what is corrupt and recover the rest")
	fs.Duration(&c.RecoveryTimeout, "recovery_timeout", 15*time.Minute, "how long executors of checkpointing frameworks wait for a restarting agent")
	fs.Duration(&c.ExecutorReregistrationTimeout, "executor_reregistration_timeout", 2*time.Second, "how long a recovered executor has to re-subscribe")
	fs.Int(&c.GossipPort, "gossip_port", 5056, "gossip port (UDP and TCP)")
	fs.String(&c.EgressInterface, "egress_interface", "", "interface whose egress network/bandwidth shapes (default: the default route's)")
	fs.String(&c.EgressCeil, "egress_ceil", string(netbw.CeilLink), "what a framework may send with network/bandwidth: link (its share is a guarantee, idle bandwidth is borrowed) or rate (its share is a hard limit)")
	fs.String(&c.NetworkCIDR, "network_cidr", netbw.DefaultCIDR.String(), "addresses of tasks with their own network namespace (network/bandwidth); the bridge takes the first")
	fs.String(&c.NetworkName, "network_name", DefaultNetworkName, "name in a task's ContainerInfo.network_infos that gives it its own network namespace (network/bandwidth)")
	fs.String(&c.UsageSource, "usage_source", UsageSourceAuto, "what per-task usage is measured with: ebpf (eBPF meters, refuse to start without them), cgroups (cgroup counters only), auto (eBPF when the meters load, else cgroup counters)")
	fs.Duration(&c.ContainerDiskWatchInterval, "container_disk_watch_interval", 15*time.Second, "how often each container's sandbox disk use is measured")
	c.Flags = fs.Values
}

func (c *Config) defaults() error {
	c.logLevel = loglevel.New(c.LogLevel)
	if c.IP == "" {
		c.IP = "0.0.0.0"
	}
	if c.WorkDir == "" {
		c.WorkDir = "/var/lib/cairn/agent"
	}
	wd, err := filepath.Abs(c.WorkDir)
	if err != nil {
		return fmt.Errorf("resolve work_dir: %w", err)
	}
	c.WorkDir = wd
	if c.RuntimeDir == "" {
		c.RuntimeDir = DefaultRuntimeDir(c.WorkDir)
	}
	if c.RuntimeDir, err = filepath.Abs(c.RuntimeDir); err != nil {
		return fmt.Errorf("resolve runtime_dir: %w", err)
	}
	if c.Hostname == "" {
		if c.Hostname, err = os.Hostname(); err != nil {
			return fmt.Errorf("read hostname: %w", err)
		}
	}
	if c.CgroupsRoot == "" {
		c.CgroupsRoot = "cairn"
	}
	if c.ExecutorRegistrationTimeout <= 0 {
		c.ExecutorRegistrationTimeout = time.Minute
	}
	if c.ExecutorShutdownGracePeriod <= 0 {
		c.ExecutorShutdownGracePeriod = 5 * time.Second
	}
	if c.Recover == "" {
		c.Recover = "reconnect"
	}
	if c.UsageSource == "" {
		c.UsageSource = UsageSourceAuto
	}
	if c.EgressCeil == "" {
		c.EgressCeil = string(netbw.CeilLink)
	}
	if c.NetworkCIDR == "" {
		c.NetworkCIDR = netbw.DefaultCIDR.String()
	}
	if c.NetworkName == "" {
		c.NetworkName = DefaultNetworkName
	}
	if c.RecoveryTimeout <= 0 {
		c.RecoveryTimeout = 15 * time.Minute
	}
	if c.ExecutorReregistrationTimeout <= 0 {
		c.ExecutorReregistrationTimeout = 2 * time.Second
	}
	if c.BootID == "" {
		b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
		if err != nil {
			return fmt.Errorf("read boot id: %w", err)
		}
		c.BootID = strings.TrimSpace(string(b))
	}
	if c.CheckpointFS == nil {
		c.CheckpointFS = checkpoint.OS{}
	}
	if c.StatusUpdateRetryMin <= 0 {
		c.StatusUpdateRetryMin = statusupdate.DefaultRetryMin
	}
	if c.StatusUpdateRetryMax <= 0 {
		c.StatusUpdateRetryMax = statusupdate.DefaultRetryMax
	}
	if c.MasterCheckInterval <= 0 {
		c.MasterCheckInterval = 2 * time.Second
	}
	if c.MaxConcurrentLaunches <= 0 {
		c.MaxConcurrentLaunches = 2 * runtime.NumCPU()
	}
	if c.ContainerDiskWatchInterval <= 0 {
		c.ContainerDiskWatchInterval = 15 * time.Second
	}
	if c.AvailabilityDebounce <= 0 {
		c.AvailabilityDebounce = 200 * time.Millisecond
	}
	if c.ExecutorBinary == "" {
		if c.ExecutorBinary, err = os.Executable(); err != nil {
			return fmt.Errorf("find own executable: %w", err)
		}
	}
	return nil
}

func (c *Config) validate() error {
	if c.Master == "" {
		return errors.New("--master is required (host:port of a master)")
	}
	host, port, err := net.SplitHostPort(c.Master)
	if err != nil || host == "" {
		return fmt.Errorf("--master=%q is not host:port", c.Master)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return fmt.Errorf("--master=%q has no valid port", c.Master)
	}
	if net.ParseIP(c.IP) == nil {
		return fmt.Errorf("--ip=%q is not an IP address", c.IP)
	}
	if c.AdvertiseIP != "" && net.ParseIP(c.AdvertiseIP) == nil {
		return fmt.Errorf("--advertise_ip=%q is not an IP address", c.AdvertiseIP)
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("--port=%d out of range", c.Port)
	}
	if c.Recover != "reconnect" && c.Recover != "cleanup" {
		return fmt.Errorf("--recover=%q is not reconnect or cleanup", c.Recover)
	}
	switch c.UsageSource {
	case UsageSourceAuto, UsageSourceEBPF, UsageSourceCgroups:
	default:
		return fmt.Errorf("--usage_source=%q is not ebpf, cgroups or auto", c.UsageSource)
	}
	if c.GossipPort < 0 || c.GossipPort > 65535 {
		return fmt.Errorf("--gossip_port=%d out of range", c.GossipPort)
	}
	if _, err := netbw.ParseCeil(c.EgressCeil); err != nil {
		return fmt.Errorf("--egress_ceil: %w", err)
	}
	if p, err := netip.ParsePrefix(c.NetworkCIDR); err != nil || !p.Addr().Is4() || p.Bits() > 30 {
		return fmt.Errorf("--network_cidr=%q is not an IPv4 prefix of at least 4 addresses", c.NetworkCIDR)
	}
	return nil
}

// IsolationNetworkBandwidth is the --isolation name that turns bandwidth
// shaping on (Mesos-style, beside cgroups/cpu and the others).
const IsolationNetworkBandwidth = "network/bandwidth"

// DefaultNetworkName is --network_name's default.
const DefaultNetworkName = "cairn"

// splitIsolation takes the agent's own isolators out of --isolation: the
// rest goes to isolators.Parse (the container-level ones), and
// network/bandwidth says whether the agent shapes bandwidth itself.
func splitIsolation(flag string) (rest string, bandwidth bool) {
	var keep []string
	for _, name := range strings.Split(flag, ",") {
		if strings.TrimSpace(name) == IsolationNetworkBandwidth {
			bandwidth = true
			continue
		}
		keep = append(keep, name)
	}
	return strings.Join(keep, ","), bandwidth
}

// DefaultRuntimeDir is the --runtime_dir of an agent whose work dir is
// workDir: distinct per work dir, so two agents on one host never clean up
// each other's containers, and on a tmpfs, because it is per-boot state and
// container creation is 2-3x faster there than on a disk filesystem (measured:
// 12-15 ms against 27-45 ms per launch on ext4). That is /var/run, as Mesos's
// default, where it is a tmpfs, and /dev/shm otherwise.
func DefaultRuntimeDir(workDir string) string {
	sum := sha256.Sum256([]byte(workDir))
	name := "agent-" + hex.EncodeToString(sum[:6])
	base := "/var/run"
	if !onTmpfs(base) && onTmpfs("/dev/shm") {
		base = "/dev/shm"
	}
	return filepath.Join(base, "cairn", name)
}

func onTmpfs(dir string) bool {
	var st unix.Statfs_t
	return unix.Statfs(dir, &st) == nil && st.Type == unix.TMPFS_MAGIC
}
