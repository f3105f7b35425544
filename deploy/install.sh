#!/bin/sh
# Install Cairn: the binary, the systemd units and example configuration.
#
#   deploy/install.sh [PREFIX] [DESTDIR]
#
# PREFIX (default /usr/local) is where the binary runs from: $PREFIX/bin/cairn,
# and the units' ExecStart= is rewritten to match. DESTDIR (default empty) is
# prepended to every path, for packaging and for building a root filesystem.
# Environment: BIN, the binary to install (default bin/cairn next to deploy/);
# UNITDIR, where units go (default /etc/systemd/system, the administrator's
# directory: a distribution package would pass /lib/systemd/system).
# Existing /etc/default/cairn-* files are kept: they hold the operator's flags.
# Without DESTDIR, on a host booted with systemd, the units are reloaded.
set -eu

PREFIX=${1:-/usr/local}
DESTDIR=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$here/../bin/cairn}
UNITDIR=${UNITDIR:-/etc/systemd/system}

case $PREFIX in
/*) ;;
*) echo "install.sh: PREFIX must be absolute, got '$PREFIX'" >&2; exit 2 ;;
esac
[ -x "$BIN" ] || { echo "install.sh: no binary at $BIN (run make build first)" >&2; exit 1; }

install -d "$DESTDIR$PREFIX/bin" "$DESTDIR$UNITDIR" "$DESTDIR/etc/default"
install -m 0755 "$BIN" "$DESTDIR$PREFIX/bin/cairn"

install -m 0644 "$here/systemd/cairn.slice" "$DESTDIR$UNITDIR/cairn.slice"
for unit in cairn-master.service cairn-agent.service; do
	sed "s|^ExecStart=/usr/local/bin/cairn |ExecStart=$PREFIX/bin/cairn |" \
		"$here/systemd/$unit" >"$DESTDIR$UNITDIR/$unit.tmp"
	chmod 0644 "$DESTDIR$UNITDIR/$unit.tmp"
	mv "$DESTDIR$UNITDIR/$unit.tmp" "$DESTDIR$UNITDIR/$unit"
done

for f in cairn-master cairn-agent; do
	if [ -e "$DESTDIR/etc/default/$f" ]; then
		echo "install.sh: keeping existing $DESTDIR/etc/default/$f"
	else
		install -m 0644 "$here/default/$f" "$DESTDIR/etc/default/$f"
	fi
done

if [ -z "$DESTDIR" ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload
fi
echo "installed $DESTDIR$PREFIX/bin/cairn and units in $DESTDIR$UNITDIR"
echo "start with: systemctl enable --now cairn-master cairn-agent"
