// Package systemd lets the Cairn daemons run as systemd services: the
// sd_notify protocol (READY=1 once serving, STOPPING=1 on shutdown, STATUS=,
// WATCHDOG=1 keep-alives) and a log/slog handler that writes to journald with
// structured fields. It also tells whether systemd runs this pid namespace
// and answers on D-Bus (Booted, ManagerVersion), which decides the
// containerizer's cgroups driver, and holds the extra properties of the
// containers' transient scopes (ScopeProperties). It is the only package that
// imports coreos/go-systemd.
//
// Everything degrades to a no-op outside systemd: without NOTIFY_SOCKET a
// Notifier sends nothing, and Journal reports false unless stderr is
// the journal's stream (JOURNAL_STREAM matches stderr's device and inode).
//
// I/O: a Notifier writes datagrams to $NOTIFY_SOCKET; the journal handler
// writes datagrams to journald's native socket (/run/systemd/journal/socket).
// Both read the environment once, when constructed. Booted stats
// /run/systemd/system; ManagerVersion connects to the system bus (or, for
// root, systemd's private socket) and closes the connection before it
// returns.
//
// Threading: a Notifier's methods are safe for concurrent use. Watchdog
// blocks until its context is done, Supervise until the daemon's run function
// returns; neither leaves a goroutine behind. A JournalHandler is safe for
// concurrent use, as slog requires.
package systemd
