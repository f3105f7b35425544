// Package scheduler is Cairn's Go SDK for writing frameworks against the
// Mesos v1 scheduler API (POST /api/v1/scheduler on the leading master).
//
// A Client subscribes, follows 307 redirects to the leading master, reads
// the RecordIO event stream and hands each event to a Handler, remembers
// the framework id and Mesos-Stream-Id, acknowledges status updates, and
// re-subscribes with backoff when the stream breaks or heartbeats stop.
// Its call methods (Accept, Launch, Decline, Kill, Acknowledge, …) each make
// one HTTP request on pooled keep-alive connections.
//
// I/O: HTTP only. Threading: Run blocks and calls the Handler from one
// goroutine, one event at a time, in stream order; it starts one helper
// goroutine per stream to read it and waits for it before returning. The
// call methods are safe for concurrent use, from handlers too.
package scheduler
