package containerizer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/manager"
	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"

	"github.com/cairnhq/cairn/ids"
)

// get returns a container launched by this process once its Launch has
// returned, or ErrNotFound.
func (l *Linux) get(ctx context.Context, id ids.ContainerID) (*container, error) {
	l.mu.Lock()
	c := l.containers[id]
	l.mu.Unlock()
	if c == nil {
		return nil, ErrNotFound
	}
	select {
	case <-c.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if c.launchErr != nil {
		return nil, ErrNotFound
	}
	return c, nil
}

// Wait blocks until the container's init process has exited and returns how
// it ended; every call (from any goroutine) gets the same Exit. It returns
// ctx.Err() when ctx is done first, and ErrNotFound for a container this
// process neither launched nor recovered, or has destroyed.
func (l *Linux) Wait(ctx context.Context, id ids.ContainerID) (Exit, error) {
	c, err := l.get(ctx, id)
	if err != nil {
		return Exit{}, fmt.Errorf("wait for container %s: %w", id, err)
	}
	select {
	case <-c.done:
		return c.exit, nil
	case <-ctx.Done():
		return Exit{}, ctx.Err()
	}
}

// attach returns the libcontainer handle of a container, launched by this
// process or found in StateDir, or ErrNotFound.
func (l *Linux) attach(id ids.ContainerID) (*libcontainer.Container, cgroups.Manager, error) {
	if c, err := l.get(context.Background(), id); err == nil {
		return c.lc, c.cm, nil
	}
	if ValidateID(id) != nil {
		return nil, nil, ErrNotFound
	}
	lc, err := libcontainer.Load(l.stateDir, string(id))
	if errors.Is(err, libcontainer.ErrNotExist) || errors.Is(err, os.ErrNotExist) {
		return nil, nil, ErrNotFound
	} else if err != nil {
		return nil, nil, fmt.Errorf("load: %w", err)
	}
	cm, err := managerOf(lc)
	if err != nil {
		return nil, nil, err
	}
	return lc, cm, nil
}

// Signal sends sig to the container's init process. A container whose init
// has already exited is not an error (there is nothing left to signal).
// Does not block.
func (l *Linux) Signal(id ids.ContainerID, sig syscall.Signal) error {
	lc, _, err := l.attach(id)
	if err != nil {
		return fmt.Errorf("signal container %s: %w", id, err)
	}
	if err := lc.Signal(sig); err != nil && !errors.Is(err, libcontainer.ErrNotRunning) {
		return fmt.Errorf("signal container %s: %w", id, err)
	}
	return nil
}

// SignalAll sends sig to every process in the container's cgroup. Processes
// forked while it runs may be missed; Destroy is the reliable kill.
func (l *Linux) SignalAll(id ids.ContainerID, sig syscall.Signal) error {
	_, cm, err := l.attach(id)
	if err != nil {
		return fmt.Errorf("signal container %s: %w", id, err)
	}
	return signalCgroup(cm, sig)
}

func signalCgroup(cm cgroups.Manager, sig syscall.Signal) error {
	pids, err := cm.GetAllPids()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("list processes: %w", err)
	}
	var errs []error
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("signal pid %d: %w", pid, err))
		}
	}
	return errors.Join(errs...)
}

// Destroy kills every process of the container, waits for them, and removes
// its cgroups, libcontainer state and root directory. It works for containers
// of an earlier agent found in StateDir too. Idempotent: an unknown or
// already destroyed id returns nil. It blocks until the processes are gone or
// ctx is done (then it returns ctx.Err() and may be called again).
func (l *Linux) Destroy(ctx context.Context, id ids.ContainerID) error {
	if err := l.destroy(ctx, id); err != nil {
		return fmt.Errorf("destroy container %s: %w", id, err)
	}
	return nil
}

func (l *Linux) destroy(ctx context.Context, id ids.ContainerID) error {
	if ValidateID(id) != nil {
		return nil // never created: Launch refuses such ids
	}
	c, err := l.get(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return l.destroyOrphan(ctx, id)
	case err != nil:
		return err
	}
	c.destroyMu.Lock()
	defer c.destroyMu.Unlock()
	select {
	case <-c.done:
	default:
		// The init is pid 1 of its namespace: the kernel kills the rest.
		if err := c.lc.Signal(unix.SIGKILL); err != nil && !errors.Is(err, libcontainer.ErrNotRunning) {
			return fmt.Errorf("kill: %w", err)
		}
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := l.remove(c.lc, id); err != nil {
		return err
	}
	l.mu.Lock()
	if l.containers[id] == c {
		delete(l.containers, id)
	}
	l.mu.Unlock()
	l.log.Info("container destroyed", "container_id", string(id))
	return nil
}

// remove deletes a stopped container's cgroups, state and root directory.
func (l *Linux) remove(lc *libcontainer.Container, id ids.ContainerID) error {
	l.forceEmpty(id)
	if err := lc.Destroy(); err != nil {
		return err
	}
	return removeRootfs(filepath.Join(l.stateDir, rootfsDir, string(id)))
}

// destroyOrphan destroys a container this process did not launch: one an
// earlier agent left in StateDir, possibly half-created.
func (l *Linux) destroyOrphan(ctx context.Context, id ids.ContainerID) error {
	stateDir := filepath.Join(l.stateDir, string(id))
	rootfs := filepath.Join(l.stateDir, rootfsDir, string(id))
	if _, err := os.Stat(stateDir); errors.Is(err, os.ErrNotExist) {
		return removeRootfs(rootfs)
	}
	lc, err := libcontainer.Load(l.stateDir, string(id))
	if err != nil {
		// No usable state.json: the agent died between creating and
		// starting. The cgroup is where Launch would have put it.
		l.log.Warn("destroy container without state", "container_id", string(id), "error", err)
		return l.destroyStateless(ctx, id, stateDir, rootfs)
	}
	if err := lc.Signal(unix.SIGKILL); err != nil && !errors.Is(err, libcontainer.ErrNotRunning) {
		return fmt.Errorf("kill: %w", err)
	}
	// Not our child: poll until whoever reaps it has done so.
	for {
		st, err := lc.Status()
		if err != nil {
			return fmt.Errorf("read status: %w", err)
		}
		if st == libcontainer.Stopped {
			break
		}
		select {
		case <-time.After(5 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := l.remove(lc, id); err != nil {
		return err
	}
	l.log.Info("container destroyed", "container_id", string(id), "orphan", true)
	return nil
}

func (l *Linux) destroyStateless(ctx context.Context, id ids.ContainerID, stateDir, rootfs string) error {
	cm, err := manager.New(cgroupsOf(l.host.placement(l.cgroupsRoot, string(id)), &cgroups.Resources{}))
	if err != nil {
		return fmt.Errorf("attach cgroups: %w", err)
	}
	for {
		if err := signalCgroup(cm, unix.SIGKILL); err != nil {
			return err
		}
		pids, err := cm.GetAllPids()
		if len(pids) == 0 || err != nil {
			break
		}
		select {
		case <-time.After(5 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := cm.Destroy(); err != nil {
		return fmt.Errorf("remove cgroups: %w", err)
	}
	if err := os.RemoveAll(stateDir); err != nil {
		return fmt.Errorf("remove state: %w", err)
	}
	return removeRootfs(rootfs)
}

// Containers lists the containers present in StateDir, launched by this
// process or left by an earlier one, sorted. It reads the directory.
func (l *Linux) Containers() ([]ids.ContainerID, error) {
	entries, err := os.ReadDir(l.stateDir)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var out []ids.ContainerID
	for _, e := range entries {
		id := ids.ContainerID(e.Name())
		if e.IsDir() && ValidateID(id) == nil {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// CgroupPaths returns the container's cgroup directories, keyed by v1
// controller name, and "" for its v2 cgroup (v2 and hybrid hosts).
func (l *Linux) CgroupPaths(id ids.ContainerID) (map[string]string, error) {
	_, cm, err := l.attach(id)
	if err != nil {
		return nil, fmt.Errorf("cgroup paths of container %s: %w", id, err)
	}
	return cm.GetPaths(), nil
}
