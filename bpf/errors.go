package bpf

import (
	"errors"

	"github.com/cilium/ebpf"
)

// ErrNotSupported is wrapped by every error that means "this kernel lacks a
// feature". It is cilium/ebpf's sentinel, so errors the library itself
// classifies as unsupported match too.
var ErrNotSupported = ebpf.ErrNotSupported

// MissingError says which feature the kernel lacks and why we think so.
// It matches ErrNotSupported and the underlying cause with errors.Is.
type MissingError struct {
	Feature Feature
	Err     error // what the kernel answered, e.g. EPERM or EINVAL
}

func (e *MissingError) Error() string {
	return "kernel lacks " + string(e.Feature) + ": " + e.Err.Error()
}

// Unwrap lets errors.Is find both ErrNotSupported and the kernel's answer.
func (e *MissingError) Unwrap() []error {
	return []error{ErrNotSupported, e.Err}
}

// IsMissing reports whether err means a kernel feature is missing, and which.
func IsMissing(err error) (Feature, bool) {
	var m *MissingError
	if errors.As(err, &m) {
		return m.Feature, true
	}
	return "", errors.Is(err, ErrNotSupported)
}
