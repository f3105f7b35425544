// Package endpoint holds the server- and client-side plumbing every Cairn v1
// HTTP endpoint shares, so the Mesos transport rules are implemented once:
// method and content negotiation, bounded body reads, error replies with the
// Mesos status codes, RecordIO event streams, and the protobuf requests of
// the internal master↔agent protocol.
//
// It does network I/O on the http.ResponseWriter / http.Client it is given and
// nothing else. A Stream is safe for concurrent Send calls; everything else is
// stateless.
package endpoint
