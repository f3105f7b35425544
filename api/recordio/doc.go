// Package recordio frames the records of a Mesos v1 event stream:
// each record is its length in decimal ASCII, a '\n', then that many
// bytes (docs/recordio.md in Mesos). The framing says nothing about the
// record's encoding; JSON and protobuf streams use it alike.
//
// I/O: a Writer writes to, and a Reader reads from, the io.Writer or
// io.Reader it wraps, and does nothing else. Neither is safe for
// concurrent use: one goroutine owns each end of a stream.
package recordio
