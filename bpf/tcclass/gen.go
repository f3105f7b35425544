package tcclass

// Regenerate with `go generate ./bpf/...` (needs clang and libbpf-dev); the
// output (tcclass_bpfel.go, tcclass_bpfel.o) is committed and checked by
// bpf/gencheck.sh.
//go:generate go tool bpf2go -tags linux -target bpfel -type fw_name tcclass tcclass.c -- -I../include -mcpu=v3 -Wall -Werror
