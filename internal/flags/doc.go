// Package flags is the command-line layer every Cairn daemon shares: Mesos
// flag spellings (`--work_dir=/x`, `--no-checkpoint`), Mesos duration syntax
// (`1secs`, `15mins`, `100ms`, as well as Go's `1m30s`), and a fallback to
// `CAIRN_<FLAG>` environment variables for flags not given on the command line.
//
// It wraps the standard library's flag.FlagSet; it does no I/O except reading
// the environment during Parse. A Set is not safe for concurrent use while
// parsing; afterwards Values may be read from any goroutine.
package flags
