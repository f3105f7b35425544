package net

// Regenerate with `go generate ./bpf/...` (needs clang and libbpf-dev); the
// output (net_bpfel.go, net_bpfel.o) is committed and checked by bpf/gencheck.sh.
//go:generate go tool bpf2go -tags linux -target bpfel -type traffic -type lost -type cache net net.c -- -I../include -mcpu=v3 -Wall -Werror
