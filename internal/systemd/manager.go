package systemd

import (
	"context"
	"fmt"
	"os"
	"strings"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"
)

// runDir exists when systemd is the init of this process's pid namespace
// (sd_booted(3)); a variable so tests can point it elsewhere.
var runDir = "/run/systemd/system"

// Booted reports whether systemd is the init system of this process's pid
// namespace, as sd_booted(3) decides it: /run/systemd/system is a directory.
// It does not tell whether systemd answers; ManagerVersion does.
func Booted() bool {
	fi, err := os.Lstat(runDir)
	return err == nil && fi.IsDir()
}

// ManagerVersion asks systemd for its version over its D-Bus API: the system
// bus, or for root systemd's private socket (/run/systemd/private) when no
// bus daemon runs, the same way libcontainer's systemd cgroup driver
// connects. An error means that driver could not work either. It blocks at
// most until ctx is done.
func ManagerVersion(ctx context.Context) (string, error) {
	if !Booted() {
		return "", fmt.Errorf("systemd is not the init system (no %s)", runDir)
	}
	conn, err := sddbus.NewWithContext(ctx)
	if err != nil {
		return "", fmt.Errorf("connect to systemd: %w", err)
	}
	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := conn.GetManagerProperty("Version")
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		conn.Close()
		if r.err != nil {
			return "", fmt.Errorf("read systemd version: %w", r.err)
		}
		// The property comes back in D-Bus text form, quoted.
		return strings.Trim(r.v, `"`), nil
	case <-ctx.Done():
		conn.Close() // unblocks the call, which then reports ErrClosed
		return "", fmt.Errorf("read systemd version: %w", ctx.Err())
	}
}

// ScopeProperties are unit properties for the transient scopes Cairn runs
// containers in, beyond those libcontainer sets: CollectMode=
// inactive-or-failed, so a scope that failed (an OOM kill, a stop that timed
// out) is unloaded by systemd rather than kept until someone runs
// `systemctl reset-failed` — the agent may never come back for it.
func ScopeProperties() []sddbus.Property {
	return []sddbus.Property{
		{Name: "CollectMode", Value: godbus.MakeVariant("inactive-or-failed")},
	}
}
