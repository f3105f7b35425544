package containerizer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"

	"github.com/cairnhq/cairn/ids"
)

// Recover re-attaches to a container an earlier agent process launched and
// left in StateDir: afterwards Wait, Signal, SignalAll, Usage and Destroy
// treat it as one this process launched. It returns the init process's pid.
// A container whose init has already exited is recovered too: Wait returns
// at once. ErrNotFound when StateDir has no such container. Recovering a
// container this process already knows returns its pid. It does not block
// beyond reading the container's state.
//
// The init process is usually not this process's child (its parent was the
// earlier agent), so its end is watched through a pidfd and its exit status
// is only known when this process happens to be its parent (Exit.Unknown
// otherwise).
func (l *Linux) Recover(ctx context.Context, id ids.ContainerID) (int, error) {
	if ValidateID(id) != nil {
		return 0, fmt.Errorf("recover container %s: %w", id, ErrNotFound)
	}
	l.mu.Lock()
	if _, ok := l.containers[id]; ok {
		l.mu.Unlock()
		c, err := l.get(ctx, id)
		if err != nil {
			return 0, fmt.Errorf("recover container %s: %w", id, err)
		}
		return c.pid, nil
	}
	c := &container{id: id, ready: make(chan struct{}), done: make(chan struct{})}
	l.containers[id] = c
	l.mu.Unlock()

	lc, err := libcontainer.Load(l.stateDir, string(id))
	if errors.Is(err, libcontainer.ErrNotExist) || errors.Is(err, os.ErrNotExist) {
		err = ErrNotFound
	}
	if err == nil {
		c.lc = lc
		c.cm, err = managerOf(lc)
	}
	if err == nil {
		var st *libcontainer.State
		if st, err = lc.State(); err == nil {
			c.pid = st.InitProcessPid
		}
	}
	if err != nil {
		l.mu.Lock()
		delete(l.containers, id)
		l.mu.Unlock()
		c.launchErr = err
		close(c.ready)
		return 0, fmt.Errorf("recover container %s: %w", id, err)
	}
	close(c.ready)
	go l.watch(c)
	l.log.Info("container recovered", "container_id", string(id), "pid", c.pid, "cgroup", cgroupOf(c.cm))
	return c.pid, nil
}

// watch stands in for reap for a recovered container: it waits for the init
// process to end through a pidfd and records what can be known.
func (l *Linux) watch(c *container) {
	exit := Exit{Code: -1, Unknown: true}
	fd, err := unix.PidfdOpen(c.pid, unix.PIDFD_NONBLOCK)
	switch {
	case err != nil:
		// ESRCH: gone (and reaped) before we looked.
		if !errors.Is(err, unix.ESRCH) {
			l.log.Warn("open pidfd of recovered container", "container_id", string(c.id), "error", err)
		}
	default:
		// The pid may have been recycled since the checkpoint: the
		// container's state says whether it is still the same process
		// (libcontainer compares start times).
		if st, serr := c.lc.Status(); serr == nil && st != libcontainer.Stopped {
			waitPidfd(fd)
		}
		if x, ok := exitOf(fd); ok {
			exit = x
		}
		unix.Close(fd)
	}
	if n, err := c.cm.OOMKillCount(); err == nil {
		exit.OOMKilled = n > 0
	}
	c.exit = exit
	close(c.done)
	l.log.Info("container exited", "container_id", string(c.id), "exit", exit.String())
}

// waitPidfd blocks until the pidfd's process has exited: through the
// runtime's poller when it takes the fd, else in poll(2).
func waitPidfd(fd int) {
	ready := func() bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		return err == nil && n > 0
	}
	dup, err := unix.Dup(fd)
	if err == nil {
		f := os.NewFile(uintptr(dup), "pidfd")
		defer f.Close()
		if rc, err := f.SyscallConn(); err == nil {
			if rc.Read(func(uintptr) bool { return ready() }) == nil {
				return
			}
		}
	}
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err == nil || !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

// sigchld is siginfo_t as waitid fills it for a child (64-bit layout).
type sigchld struct {
	Signo, Errno, Code, _ int32
	Pid                   int32
	UID                   uint32
	Status                int32
	_                     [100]byte
}

// exitOf reads the exit status of the pidfd's process without reaping it
// (its real parent does that); only possible when this process is that
// parent.
func exitOf(fd int) (Exit, bool) {
	var info sigchld
	err := unix.Waitid(unix.P_PIDFD, fd, (*unix.Siginfo)(unsafe.Pointer(&info)), unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
	if err != nil || info.Pid == 0 {
		return Exit{}, false
	}
	switch info.Code {
	case 1: // CLD_EXITED
		return Exit{Code: int(info.Status)}, true
	case 2, 3: // CLD_KILLED, CLD_DUMPED
		sig := syscall.Signal(info.Status)
		return Exit{Code: 128 + int(sig), Signal: sig}, true
	}
	return Exit{}, false
}

// cgroupOf names a container's cgroup for the log: its v2 cgroup (v2,
// hybrid), else its v1 memory cgroup; under the systemd driver, the scope's.
func cgroupOf(cm cgroups.Manager) string {
	if p := cm.Path(""); p != "" {
		return p
	}
	return cm.Path("memory")
}
