package api

import (
	"strconv"
	"strings"
)

// fieldError is a codec error tied to a place in the message, printed as
// "<path>: <msg>", e.g. "framework_info.failover_timeout: expected
// number, got string". The path is built while the error unwinds.
type fieldError struct {
	path string
	msg  string
}

func (e *fieldError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return e.path + ": " + e.msg
}

// wrapName prefixes err's path with a field name.
func wrapName(name string, err error) error {
	fe, ok := err.(*fieldError)
	if !ok {
		return err
	}
	switch {
	case fe.path == "":
		fe.path = name
	case strings.HasPrefix(fe.path, "["):
		fe.path = name + fe.path
	default:
		fe.path = name + "." + fe.path
	}
	return fe
}

// wrapIndex prefixes err's path with a list index.
func wrapIndex(i int, err error) error {
	return wrapSegment("["+strconv.Itoa(i)+"]", err)
}

// wrapKey prefixes err's path with a map key.
func wrapKey(k string, err error) error {
	return wrapSegment("["+strconv.Quote(k)+"]", err)
}

func wrapSegment(seg string, err error) error {
	fe, ok := err.(*fieldError)
	if !ok {
		return err
	}
	switch {
	case fe.path == "", strings.HasPrefix(fe.path, "["):
		fe.path = seg + fe.path
	default:
		fe.path = seg + "." + fe.path
	}
	return fe
}
