package systemd

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Notifier sends sd_notify(3) messages to the service manager that started
// this process. Its zero value is not usable; call NewNotifier.
type Notifier struct {
	enabled  bool
	watchdog time.Duration // WatchdogSec= as systemd passed it; 0 when off
	send     func(state string) error
	log      *slog.Logger
}

// NewNotifier reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from the
// environment. The variables are left in place: systemd ignores messages from
// any process other than the main one (NotifyAccess=main), so children that
// inherit them cannot confuse it. A malformed WATCHDOG_USEC is logged and the
// watchdog left off rather than failing the daemon's start.
func NewNotifier(log *slog.Logger) *Notifier {
	n := &Notifier{send: sdNotify, log: log}
	// SdNotify with an empty state is never sent; probe the variable directly.
	n.enabled = notifySocket() != ""
	if !n.enabled {
		return n
	}
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn("systemd watchdog disabled", "error", err)
	}
	n.watchdog = d
	return n
}

func sdNotify(state string) error {
	_, err := daemon.SdNotify(false, state)
	return err
}

// Enabled reports whether a service manager listens (NOTIFY_SOCKET is set).
func (n *Notifier) Enabled() bool { return n.enabled }

// WatchdogInterval is how often Watchdog pings: half of WatchdogSec=, as
// sd_watchdog_enabled(3) advises, or 0 when the watchdog is off.
func (n *Notifier) WatchdogInterval() time.Duration { return n.watchdog / 2 }

// Ready tells systemd the daemon serves (READY=1): `systemctl start` of a
// Type=notify unit returns, and units ordered After= it start, only now.
func (n *Notifier) Ready() error { return n.notify(daemon.SdNotifyReady) }

// Stopping tells systemd the daemon is shutting down (STOPPING=1), so that a
// slow shutdown shows as "deactivating" instead of a hang.
func (n *Notifier) Stopping() error { return n.notify(daemon.SdNotifyStopping) }

// Status sets the free-form line `systemctl status` shows (STATUS=). It must
// be a single line; newlines are replaced because the protocol is line based.
func (n *Notifier) Status(s string) error { return n.notify("STATUS=" + oneLine(s)) }

func (n *Notifier) notify(state string) error {
	if !n.enabled {
		return nil
	}
	if err := n.send(state); err != nil {
		return fmt.Errorf("notify systemd %q: %w", state, err)
	}
	return nil
}

// Watchdog sends WATCHDOG=1 every WatchdogInterval until ctx is done and then
// returns nil; it returns at once when the watchdog is off. A failed send is
// logged and the loop goes on: if systemd is really gone there is nobody to
// kill us, and if the failure is transient the next ping repairs it.
func (n *Notifier) Watchdog(ctx context.Context) error {
	every := n.WatchdogInterval()
	if !n.enabled || every <= 0 {
		return nil
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := n.notify(daemon.SdNotifyWatchdog); err != nil {
			n.log.Warn("systemd watchdog ping", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func oneLine(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}
