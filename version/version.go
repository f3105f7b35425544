// Package version reports which Cairn this binary is. Version is set at build
// time by the Makefile (-ldflags -X); the default marks a plain `go build`.
// The package is pure.
package version

import "runtime"

// Version is Cairn's release version (semantic versioning).
var Version = "0.1.0-dev"

// GitSHA is the commit the binary was built from, when the build knew it.
var GitSHA = ""

// Mesos is the Mesos API version Cairn speaks, reported where tools read a
// Mesos version (e.g. /version's "version") so they accept Cairn.
const Mesos = "1.11.0"

// String is a one-line description for `cairn version` and logs.
func String() string {
	s := "cairn " + Version
	if GitSHA != "" {
		s += " (" + GitSHA + ")"
	}
	return s + " " + runtime.Version() + " mesos-api/" + Mesos
}
