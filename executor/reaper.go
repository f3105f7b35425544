package executor

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// procExit is one reaped child the executor started.
type procExit struct {
	pid    int
	status syscall.WaitStatus
}

// reaper collects exited children with wait4 and reports the ones it was
// asked to watch. It owns waiting: nothing else may call Wait on the
// processes it starts, so the exit of the task is never lost to a race
// between two waiters.
//
// As pid 1 (all=true) it calls wait4(-1) and silently collects orphans that
// the task left behind, which would otherwise stay zombies forever.
type reaper struct {
	all   bool
	log   *slog.Logger
	sigs  chan os.Signal
	exits chan procExit

	mu      sync.Mutex
	watched map[int]struct{}
	orphans int // reaped children nobody watched; for tests and logs
}

// newReaper subscribes to SIGCHLD before any child exists, so no exit can
// slip by unnoticed.
func newReaper(all bool, log *slog.Logger) *reaper {
	r := &reaper{
		all:     all,
		log:     log,
		sigs:    make(chan os.Signal, 1),
		exits:   make(chan procExit, 4),
		watched: make(map[int]struct{}),
	}
	signal.Notify(r.sigs, syscall.SIGCHLD)
	return r
}

// start runs spawn with the reaper locked and watches the pid it returns.
// Holding the lock means a child that exits at once cannot be collected
// before it is known.
func (r *reaper) start(spawn func() (int, error)) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := spawn()
	if err != nil {
		return 0, err
	}
	r.watched[pid] = struct{}{}
	return pid, nil
}

// run reaps on every SIGCHLD until ctx is done. It sends exits of watched
// children on r.exits, which the caller must keep draining.
func (r *reaper) run(ctx context.Context) {
	defer signal.Stop(r.sigs)
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.sigs:
		}
		for _, e := range r.reap() {
			select {
			case r.exits <- e:
			case <-ctx.Done():
				return
			}
		}
	}
}

// reap collects every child that has exited so far.
func (r *reaper) reap() []procExit {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []procExit
	if r.all {
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if err == syscall.EINTR {
				continue
			}
			if err != nil || pid <= 0 {
				return out
			}
			if _, ok := r.watched[pid]; ok {
				delete(r.watched, pid)
				out = append(out, procExit{pid, ws})
				continue
			}
			r.orphans++
			r.log.Debug("reaped orphan", "pid", pid)
		}
	}
	for pid := range r.watched {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		if err == syscall.ECHILD {
			// Someone else reaped it; report it as killed rather than
			// waiting forever.
			delete(r.watched, pid)
			out = append(out, procExit{pid, syscall.WaitStatus(syscall.SIGKILL)})
			continue
		}
		if err != nil || got != pid {
			continue
		}
		delete(r.watched, pid)
		out = append(out, procExit{pid, ws})
	}
	return out
}
