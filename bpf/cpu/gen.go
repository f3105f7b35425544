package cpu

// Regenerate with `go generate ./bpf/...` (needs clang and libbpf-dev); the
// output (cpu_bpfel.go, cpu_bpfel.o) is committed and checked by bpf/gencheck.sh.
//go:generate go tool bpf2go -tags linux -target bpfel -type cg_cpu -type running -type lost cpu cpu.c -- -I../include -mcpu=v3 -Wall -Werror
