// Package compat is Cairn's Mesos v1 conformance suite (tests only). It
// drives a real master, started in-process on an ephemeral port, with raw
// HTTP (net/http and, for streams, a hand-written chunked reader over a
// plain TCP connection) in both codecs, and checks what a Mesos client
// relies on: status codes, exact Content-Type, Mesos-Stream-Id, chunked
// RecordIO with one record per chunk, required fields, the `type` of
// operator responses, the legacy JSON shapes and the /metrics/snapshot keys.
//
// The framework side never uses Cairn's clients: JSON requests are written
// by hand from the Mesos docs, protobuf requests use only the generated wire
// types. Master-only tests pair the master with a fake agent speaking
// Cairn's internal protocol (it joins gossip and answers /internal/v1/*).
// The agent tests (agent_*_test.go) run a real in-process agent on the fake
// containerizer and drive its operator API, executor API and legacy
// endpoints the same way; TestFrameworkWithCustomExecutor runs a framework
// and a custom executor (./executor, built by the test and fetched by URI)
// written from the Mesos docs alone.
//
// Tests start goroutines (the master, the fake agent's update senders) and
// stop them in t.Cleanup.
package compat
