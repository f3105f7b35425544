package mem

// Regenerate with `go generate ./bpf/...` (needs clang and libbpf-dev); the
// output (mem_bpfel.go, mem_bpfel.o) is committed and checked by bpf/gencheck.sh.
//go:generate go tool bpf2go -tags linux -target bpfel -type oom_event -type lost -type last mem mem.c -- -I../include -mcpu=v3 -Wall -Werror
