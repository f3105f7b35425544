package fake

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"

	"github.com/cairnhq/cairn/containerizer"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/isolators"
)

// Containerizer runs containers as plain child processes.
type Containerizer struct {
	mu       sync.Mutex
	running  map[ids.ContainerID]*proc
	launched map[ids.ContainerID]containerizer.Spec // every Spec launched, kept after Destroy
}

type proc struct {
	pid  int
	cmd  *exec.Cmd
	done chan struct{} // closed by the reaper once exit is set
	exit containerizer.Exit
}

// New returns an empty fake containerizer.
func New() *Containerizer {
	return &Containerizer{
		running:  make(map[ids.ContainerID]*proc),
		launched: make(map[ids.ContainerID]containerizer.Spec),
	}
}

// SandboxPath returns the host path: the fake has no mount namespace.
func (f *Containerizer) SandboxPath(hostSandbox string) string { return hostSandbox }

// Spec returns the last Spec launched under id, also after Destroy.
func (f *Containerizer) Spec(id ids.ContainerID) (containerizer.Spec, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.launched[id]
	return s, ok
}

// Limits returns the Limits the last Launch of id was given.
func (f *Containerizer) Limits(id ids.ContainerID) (isolators.Limits, bool) {
	s, ok := f.Spec(id)
	return s.Limits, ok
}

// Launch starts Args as a child process and returns its pid. An id in use
// is containerizer.ErrExists. It does not block beyond starting the process.
func (f *Containerizer) Launch(ctx context.Context, spec containerizer.Spec) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := containerizer.ValidateID(spec.ID); err != nil {
		return 0, fmt.Errorf("launch container: %w", err)
	}
	if len(spec.Args) == 0 {
		return 0, errors.New("launch container: no command")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.running[spec.ID]; ok {
		return 0, fmt.Errorf("launch container %s: %w", spec.ID, containerizer.ErrExists)
	}
	cmd := exec.Command(spec.Args[0], spec.Args[1:]...)
	cmd.Env = append([]string{}, spec.Env...) // non-nil: nothing inherited
	cmd.Dir = spec.Sandbox
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := openOutput(spec.Stdout)
	if err != nil {
		return 0, fmt.Errorf("launch container %s: %w", spec.ID, err)
	}
	defer closeOutput(stdout)
	stderr, err := openOutput(spec.Stderr)
	if err != nil {
		return 0, fmt.Errorf("launch container %s: %w", spec.ID, err)
	}
	defer closeOutput(stderr)
	if stdout != nil {
		cmd.Stdout = stdout
	}
	if stderr != nil {
		cmd.Stderr = stderr
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("launch container %s: %w", spec.ID, err)
	}
	p := &proc{pid: cmd.Process.Pid, cmd: cmd, done: make(chan struct{})}
	f.running[spec.ID] = p
	f.launched[spec.ID] = spec
	go p.reap()
	return p.pid, nil
}

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

// reap waits for the init process, then kills what is left of its process
// group, as the kernel does when a pid namespace's init dies.
func (p *proc) reap() {
	_ = p.cmd.Wait()
	p.exit = containerizer.Exit{Code: -1}
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
		switch {
		case ws.Exited():
			p.exit = containerizer.Exit{Code: ws.ExitStatus()}
		case ws.Signaled():
			p.exit = containerizer.Exit{Code: 128 + int(ws.Signal()), Signal: ws.Signal()}
		}
	}
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	close(p.done)
}

func (f *Containerizer) get(id ids.ContainerID) (*proc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.running[id]
	if !ok {
		return nil, containerizer.ErrNotFound
	}
	return p, nil
}

// Wait blocks until the init process exits; every caller gets the same Exit.
// ErrNotFound for an unknown or destroyed id; ctx.Err() if ctx ends first.
// OOMKilled is always false.
func (f *Containerizer) Wait(ctx context.Context, id ids.ContainerID) (containerizer.Exit, error) {
	p, err := f.get(id)
	if err != nil {
		return containerizer.Exit{}, fmt.Errorf("wait for container %s: %w", id, err)
	}
	select {
	case <-p.done:
		return p.exit, nil
	case <-ctx.Done():
		return containerizer.Exit{}, ctx.Err()
	}
}

// Signal sends sig to the init process; nil once it has exited.
func (f *Containerizer) Signal(id ids.ContainerID, sig syscall.Signal) error {
	p, err := f.get(id)
	if err != nil {
		return fmt.Errorf("signal container %s: %w", id, err)
	}
	select {
	case <-p.done:
		return nil // reaped: the pid may belong to someone else now
	default:
	}
	if err := syscall.Kill(p.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal container %s: %w", id, err)
	}
	return nil
}

// SignalAll sends sig to the init's whole process group.
func (f *Containerizer) SignalAll(id ids.ContainerID, sig syscall.Signal) error {
	p, err := f.get(id)
	if err != nil {
		return fmt.Errorf("signal container %s: %w", id, err)
	}
	if err := syscall.Kill(-p.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal container %s: %w", id, err)
	}
	return nil
}

// Destroy kills the process group and waits for the init to be reaped.
// Idempotent: an unknown or destroyed id returns nil.
func (f *Containerizer) Destroy(ctx context.Context, id ids.ContainerID) error {
	p, err := f.get(id)
	if err != nil {
		return nil
	}
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-ctx.Done():
		return fmt.Errorf("destroy container %s: %w", id, ctx.Err())
	}
	f.mu.Lock()
	if f.running[id] == p {
		delete(f.running, id)
	}
	f.mu.Unlock()
	return nil
}

// Recover re-attaches to a container, as a restarted agent does; the fake
// keeps its containers for as long as the instance lives, so this finds
// those it launched and not yet destroyed (an agent restarted in the same
// test process, on the same instance). Returns the init's pid.
func (f *Containerizer) Recover(ctx context.Context, id ids.ContainerID) (int, error) {
	p, err := f.get(id)
	if err != nil {
		return 0, fmt.Errorf("recover container %s: %w", id, err)
	}
	return p.pid, nil
}

// Containers lists the launched, not yet destroyed containers, sorted.
func (f *Containerizer) Containers() ([]ids.ContainerID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]ids.ContainerID, 0, len(f.running))
	for id := range f.running {
		out = append(out, id)
	}
	slices.Sort(out)
	return out, nil
}

// CgroupPaths returns an empty map: the fake has no cgroups.
func (f *Containerizer) CgroupPaths(id ids.ContainerID) (map[string]string, error) {
	if _, err := f.get(id); err != nil {
		return nil, fmt.Errorf("cgroup paths of container %s: %w", id, err)
	}
	return map[string]string{}, nil
}
