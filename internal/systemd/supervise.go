package systemd

import (
	"context"
	"sync"
)

// Supervise runs a daemon under the service manager: it calls run(ctx) and,
// while run is running, sends READY=1 once ready is closed, WATCHDOG=1 pings
// (when WatchdogSec= is set) and STOPPING=1 as soon as ctx is done. It returns
// run's error, after its own goroutine has ended. When run fails, the error
// becomes the unit's STATUS= line, which `systemctl status` shows next to the
// exit code. Without NOTIFY_SOCKET it is just run(ctx).
//
// ready must be closed only when the daemon really serves (its listener
// accepts): that is the contract Type=notify units rely on for ordering.
func (n *Notifier) Supervise(ctx context.Context, ready <-chan struct{}, run func(context.Context) error) error {
	if !n.enabled {
		return run(ctx)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		n.lifecycle(ctx, ready, done)
	}()
	wctx, stopWatchdog := context.WithCancel(ctx)
	go func() {
		defer wg.Done()
		_ = n.Watchdog(wctx)
	}()

	err := run(ctx)
	stopWatchdog()
	close(done)
	wg.Wait()
	if err != nil {
		_ = n.Status("failed: " + err.Error())
	}
	return err
}

// lifecycle sends READY=1 when ready closes and STOPPING=1 once ctx is done,
// until done closes (run returned). A daemon stopped before it was ready
// still says STOPPING=1, so systemd shows it deactivating, not starting; one
// whose run failed on its own (ctx still live) does not.
func (n *Notifier) lifecycle(ctx context.Context, ready, done <-chan struct{}) {
	select {
	case <-ready:
		if err := n.Ready(); err != nil {
			n.log.Warn("systemd readiness", "error", err)
		}
	case <-ctx.Done():
	case <-done:
	}
	if ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-done:
		}
	}
	if ctx.Err() != nil {
		if err := n.Stopping(); err != nil {
			n.log.Warn("systemd stopping", "error", err)
		}
	}
}
