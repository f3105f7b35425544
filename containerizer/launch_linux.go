package containerizer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
	"github.com/opencontainers/runc/libcontainer"

	"github.com/cairnhq/cairn/ids"
)

// DefaultCgroupsRoot is the default of the agent flag --cgroups_root.
const DefaultCgroupsRoot = "cairn"

// Config configures the Linux containerizer.
type Config struct {
	// StateDir is libcontainer's state root (e.g. <runtime_dir>/containers):
	// one directory per container, plus the containers' root directories.
	// It belongs on a tmpfs such as /run: on disk, libcontainer's state
	// writes make each launch 2-3 times slower.
	StateDir string
	// CgroupsRoot is the cgroup under which containers live, at
	// <CgroupsRoot>/<container id> in every hierarchy (--cgroups_root). A
	// relative root is resolved below the agent's own cgroup (v1) or its
	// parent (v2). Default DefaultCgroupsRoot.
	CgroupsRoot string
	// CgroupsDriver is DriverAuto, DriverCgroupfs or DriverSystemd
	// (--cgroups_driver); empty means $CAIRN_CGROUPS_DRIVER, else auto.
	// New fails when systemd is asked for and does not answer.
	CgroupsDriver string
	Logger        *slog.Logger
}

// Linux runs containers with libcontainer: mount, pid, ipc and uts
// namespaces (net when Spec.NetNS is set), cgroups (v1 or v2, as the host
// has them), and a read-only root made of the host's system directories.
//
// All methods are safe for concurrent use. Each container has one reaper
// goroutine, from Launch until its init process exits; Destroy waits for it.
type Linux struct {
	stateDir    string
	cgroupsRoot string
	host        hostCgroups
	hostDirs    []string
	log         *slog.Logger

	mu         sync.Mutex
	containers map[ids.ContainerID]*container
}

// container is one container launched by this process.
type container struct {
	id    ids.ContainerID
	ready chan struct{} // closed when Launch returns; then launchErr, lc, proc, cm, pid are set

	launchErr error
	lc        *libcontainer.Container
	proc      *libcontainer.Process
	cm        cgroups.Manager
	pid       int

	done chan struct{} // closed by the reaper once exit is set
	exit Exit

	destroyMu sync.Mutex // one Destroy at a time
}

// New probes the host's cgroups and prepares StateDir. It fails when not
// root, or when a cgroup controller the containers need is missing (the error
// names it).
func New(cfg Config) (*Linux, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("new linux containerizer: needs root")
	}
	if cfg.StateDir == "" {
		return nil, errors.New("new linux containerizer: no state directory")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	// libcontainer refuses a rootfs path that goes through a symlink.
	stateDir, err := filepath.EvalSymlinks(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("resolve state directory: %w", err)
	}
	stateDir, err = filepath.Abs(stateDir)
	if err != nil {
		return nil, fmt.Errorf("resolve state directory: %w", err)
	}
	root := cfg.CgroupsRoot
	if root == "" {
		root = DefaultCgroupsRoot
	}
	if root, err = cleanCgroupsRoot(root); err != nil {
		return nil, fmt.Errorf("new linux containerizer: %w", err)
	}
	host, err := probeCgroups(requestedDriver(cfg.CgroupsDriver))
	if err != nil {
		return nil, fmt.Errorf("probe cgroups: %w", err)
	}
	l := &Linux{
		stateDir:    stateDir,
		cgroupsRoot: root,
		host:        host,
		hostDirs:    existingHostDirs(),
		log:         log,
		containers:  make(map[ids.ContainerID]*container),
	}
	log.Info("linux containerizer ready", "cgroup_mode", host.mode.String(), "cgroup_driver", host.driverName(), "cgroup_driver_reason", host.driverWhy,
		"cgroups_root", root, "state_dir", stateDir)
	if !host.swapLimit {
		log.Warn("memory controller has no swap accounting: containers may swap beyond their memory limit")
	}
	return l, nil
}

// SandboxPath returns where a host sandbox directory appears inside a
// container: always SandboxMount.
func (l *Linux) SandboxPath(string) string { return SandboxMount }

// Launch creates and starts a container and returns its init process's pid
// (in the agent's pid namespace). It blocks until the init process has
// exec'd Args[0] (or failed to); ctx is only checked before starting, as a
// half-started container cannot be abandoned. An id in use (or left in
// StateDir by an earlier agent and not yet destroyed) is ErrExists. On error
// nothing of the container remains.
func (l *Linux) Launch(ctx context.Context, spec Spec) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := spec.validate(); err != nil {
		return 0, fmt.Errorf("launch container: %w", err)
	}
	c := &container{id: spec.ID, ready: make(chan struct{}), done: make(chan struct{})}
	l.mu.Lock()
	if _, ok := l.containers[spec.ID]; ok {
		l.mu.Unlock()
		return 0, fmt.Errorf("launch container %s: %w", spec.ID, ErrExists)
	}
	l.containers[spec.ID] = c
	l.mu.Unlock()

	err := l.start(c, &spec)
	if err != nil {
		l.mu.Lock()
		delete(l.containers, spec.ID)
		l.mu.Unlock()
		c.launchErr = err
		close(c.ready)
		return 0, fmt.Errorf("launch container %s: %w", spec.ID, err)
	}
	close(c.ready)
	go l.reap(c)
	l.log.Info("container started", "container_id", string(spec.ID), "pid", c.pid)
	return c.pid, nil
}

// start does Launch's work and undoes it on failure.
func (l *Linux) start(c *container, spec *Spec) (retErr error) {
	id := string(spec.ID)
	// A container of an earlier agent may still run under this id: its
	// root directory must not be touched (the checks below would replace it).
	if _, err := os.Stat(filepath.Join(l.stateDir, id)); err == nil {
		return ErrExists
	}
	rootfs := filepath.Join(l.stateDir, rootfsDir, id)
	if err := makeRootfs(rootfs); err != nil {
		return err
	}
	defer func() {
		if retErr != nil {
			if err := removeRootfs(rootfs); err != nil {
				l.log.Warn("remove rootfs of failed launch", "container_id", id, "error", err)
			}
		}
	}()
	taskProcs, err := l.taskCgroup(id, spec.Limits)
	if err != nil {
		return err
	}
	if taskProcs != nil {
		defer taskProcs.Close()
		defer func() {
			if retErr != nil {
				l.removeTaskCgroup(id)
			}
		}()
	}
	limited := *spec
	limited.Limits = containerLimits(l.host.mode, spec.Limits)
	cfg := buildConfig(&limited, launchConfig{
		rootfs:     rootfs,
		cgroupSpec: l.host.placement(l.cgroupsRoot, id),
		hostDirs:   l.hostDirs,
		swapLimit:  l.host.swapLimit,
	})
	lc, err := libcontainer.Create(l.stateDir, id, cfg)
	if errors.Is(err, libcontainer.ErrExist) {
		return ErrExists
	} else if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	defer func() {
		if retErr != nil {
			if err := lc.Destroy(); err != nil {
				l.log.Warn("destroy failed launch", "container_id", id, "error", err)
			}
		}
	}()
	proc := &libcontainer.Process{Args: spec.Args, Env: spec.Env, Cwd: SandboxMount, Init: true}
	if taskProcs != nil {
		// The first extra file is the process's fd 3.
		proc.ExtraFiles = []*os.File{taskProcs}
		proc.Env = append(slices.Clip(proc.Env), TaskCgroupFDEnv+"=3")
	}
	stdout, err := openOutput(spec.Stdout)
	if err != nil {
		return err
	}
	defer closeOutput(stdout)
	stderr, err := openOutput(spec.Stderr)
	if err != nil {
		return err
	}
	defer closeOutput(stderr)
	// A nil *os.File in an io.Writer would not be nil; set only real files.
	if stdout != nil {
		proc.Stdout = stdout
	}
	if stderr != nil {
		proc.Stderr = stderr
	}
	if err := lc.Run(proc); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	pid, err := proc.Pid()
	if err == nil {
		c.cm, err = managerOf(lc)
	}
	if err != nil {
		_ = lc.Signal(syscall.SIGKILL)
		_, _ = proc.Wait()
		return err
	}
	c.lc, c.proc, c.pid = lc, proc, pid
	return nil
}

// openOutput opens a host file for a container's stdout or stderr; "" gives
// nil (the process gets /dev/null).
func openOutput(p string) (*os.File, error) {
	if p == "" {
		return nil, nil
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open output: %w", err)
	}
	return f, nil
}

func closeOutput(f *os.File) {
	if f != nil {
		_ = f.Close()
	}
}

// managerOf returns a cgroup manager for a started (or loaded) container,
// built from the paths libcontainer recorded.
func managerOf(lc *libcontainer.Container) (cgroups.Manager, error) {
	st, err := lc.State()
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	cfg := lc.Config()
	cm, err := manager.NewWithPaths(cfg.Cgroups, st.CgroupPaths)
	if err != nil {
		return nil, fmt.Errorf("attach cgroups: %w", err)
	}
	return cm, nil
}

// reap waits for the init process, records how it ended, and releases
// waiters. The OOM counter is read before anyone can destroy the cgroup,
// since Destroy waits for done.
func (l *Linux) reap(c *container) {
	ps, err := c.proc.Wait()
	var exit Exit
	if ps != nil {
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok {
			exit = exitFromStatus(ws)
		}
	} else {
		exit = Exit{Code: -1}
		l.log.Error("wait for container init", "container_id", string(c.id), "error", err)
	}
	if n, err := c.cm.OOMKillCount(); err != nil {
		l.log.Warn("read oom kill count", "container_id", string(c.id), "error", err)
	} else {
		exit.OOMKilled = n > 0
	}
	c.exit = exit
	close(c.done)
	l.log.Info("container exited", "container_id", string(c.id), "exit", exit.String())
}

// exitFromStatus maps a wait status onto Exit (without OOMKilled).
func exitFromStatus(ws syscall.WaitStatus) Exit {
	switch {
	case ws.Exited():
		return Exit{Code: ws.ExitStatus()}
	case ws.Signaled():
		return Exit{Code: 128 + int(ws.Signal()), Signal: ws.Signal()}
	}
	return Exit{Code: -1}
}
