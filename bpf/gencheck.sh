#!/bin/sh
# Regenerate every bpf2go package under bpf/ into a temporary directory and
# compare the result, byte for byte, with the committed *_bpfel.go and
# *_bpfel.o. Exits 1 when anything differs (the sources changed without
# `make bpf`, or a different toolchain produces different bytes), 0 when all
# match. Without clang it says so and exits 0, unless GENCHECK_REQUIRE_CLANG=1.
#
# Usage: bpf/gencheck.sh   (from anywhere; needs clang, llvm-strip, libbpf-dev, go)
set -eu
cd "$(dirname "$0")"

if ! command -v clang >/dev/null 2>&1; then
	echo "gencheck: clang not found, committed eBPF objects not checked" >&2
	[ "${GENCHECK_REQUIRE_CLANG:-0}" = 1 ] && exit 1
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for gen in */gen.go; do
	pkg=$(dirname "$gen")
	cmd=$(sed -n "s|^//go:generate go tool bpf2go |go tool bpf2go -output-dir $tmp/$pkg |p" "$gen")
	[ -n "$cmd" ] || continue
	mkdir -p "$tmp/$pkg"
	(cd "$pkg" && export GOPACKAGE="$pkg" GOFILE=gen.go && eval "$cmd" >/dev/null)
	names=$(for f in "$tmp/$pkg"/* "$pkg"/*_bpfel.go "$pkg"/*_bpfel.o; do basename "$f"; done | sort -u)
	for name in $names; do
		if ! cmp -s "$tmp/$pkg/$name" "$pkg/$name"; then
			echo "gencheck: bpf/$pkg/$name does not match its sources; run make bpf (go generate ./bpf/...) and commit" >&2
			status=1
		fi
	done
done
[ "$status" = 0 ] && echo "gencheck: committed eBPF output matches the sources"
exit "$status"
