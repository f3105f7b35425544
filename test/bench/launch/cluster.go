package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/cairnhq/cairn/agent"
	"github.com/cairnhq/cairn/internal/flags"
	"github.com/cairnhq/cairn/master"
)

// cluster is a master and an agent running in this process.
type cluster struct {
	masterAddr  string
	dir         string
	runtimeDir  string
	cgroupsRoot string
	cancel      context.CancelFunc
	started     int        // daemons whose Run was started
	done        chan error // one result per started daemon
}

// startCluster starts a master and an agent on loopback with ephemeral
// ports and waits until the master has admitted the agent.
func startCluster(ctx context.Context, parent, runtimeParent string, log *slog.Logger) (*cluster, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("an in-process agent needs root (or give --master)")
	}
	dir, err := os.MkdirTemp(parent, "cairn-bench-")
	if err != nil {
		return nil, fmt.Errorf("make work dir: %w", err)
	}
	runtimeDir := filepath.Join(dir, "agent-run")
	if runtimeParent != "" {
		if runtimeDir, err = os.MkdirTemp(runtimeParent, "cairn-bench-run-"); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("make runtime dir: %w", err)
		}
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	c := &cluster{dir: dir, runtimeDir: runtimeDir, cgroupsRoot: "cairn-bench-" + hex.EncodeToString(suffix), done: make(chan error, 2)}

	var mcfg master.Config
	mcfg.RegisterFlags(flags.NewSet("master", io.Discard))
	mcfg.IP, mcfg.Port, mcfg.GossipPort = "127.0.0.1", 0, 0
	mcfg.WorkDir = filepath.Join(dir, "master")
	m, err := master.New(mcfg, log.With("component", "master"))
	if err != nil {
		os.RemoveAll(dir)
		os.RemoveAll(runtimeDir)
		return nil, fmt.Errorf("configure master: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	c.started++
	go func() { c.done <- m.Run(runCtx) }()
	select {
	case <-m.Ready():
	case err := <-c.done:
		c.done <- err
		return nil, errors.Join(fmt.Errorf("master: %w", err), c.stop())
	}
	c.masterAddr = m.Addr().String()

	var acfg agent.Config
	acfg.RegisterFlags(flags.NewSet("agent", io.Discard))
	acfg.Master = c.masterAddr
	acfg.IP, acfg.Port, acfg.GossipPort = "127.0.0.1", 0, 0
	acfg.WorkDir = filepath.Join(dir, "agent")
	acfg.RuntimeDir = runtimeDir
	acfg.CgroupsRoot = c.cgroupsRoot
	a, err := agent.New(acfg, log.With("component", "agent"))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("configure agent: %w", err), c.stop())
	}
	c.started++
	go func() { c.done <- a.Run(runCtx) }()
	select {
	case <-a.Ready():
	case err := <-c.done:
		c.done <- err
		return nil, errors.Join(fmt.Errorf("agent: %w", err), c.stop())
	}
	return c, nil
}

// stop stops both daemons (the agent destroys its containers), removes the
// cgroups named after the agent's root that the agent leaves behind, and
// the work dirs.
func (c *cluster) stop() error {
	c.cancel()
	var errs []error
	for range c.started {
		select {
		case err := <-c.done:
			if err != nil {
				errs = append(errs, err)
			}
		case <-time.After(time.Minute):
			errs = append(errs, errors.New("daemons did not stop within a minute"))
		}
	}
	// A stopped agent has destroyed its containers; state left behind is
	// a leak worth knowing about.
	if left, _ := os.ReadDir(filepath.Join(c.runtimeDir, "containers")); len(left) > 0 {
		n := 0
		for _, e := range left {
			if e.Name() != ".rootfs" {
				n++
			}
		}
		if n > 0 {
			errs = append(errs, fmt.Errorf("the stopped agent left the state of %d containers in %s", n, c.runtimeDir))
		}
	}
	errs = append(errs, removeCgroups(c.cgroupsRoot))
	for _, d := range []string{c.dir, c.runtimeDir} {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeCgroups removes every cgroup directory named root in every
// hierarchy, children first, killing whatever still runs in them. A
// relative cgroups root sits below this process's own cgroup, which differs
// per hierarchy, so the trees are searched.
func removeCgroups(root string) error {
	const mount = "/sys/fs/cgroup"
	var found []string
	_ = filepath.WalkDir(mount, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if d.Name() == root {
			_ = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					found = append(found, q)
				}
				return nil
			})
			return filepath.SkipDir
		}
		return nil
	})
	slices.Reverse(found) // children before parents
	var errs []error
	for _, dir := range found {
		var err error
		for range 100 {
			if err = syscall.Rmdir(dir); err == nil || errors.Is(err, syscall.ENOENT) {
				err = nil
				break
			}
			killProcs(dir)
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dir, err))
		}
	}
	return errors.Join(errs...)
}

func killProcs(dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return
	}
	var pid int
	for len(b) > 0 {
		if n, _ := fmt.Sscan(string(b), &pid); n == 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		i := slices.Index(b, '\n')
		if i < 0 {
			break
		}
		b = b[i+1:]
	}
}
