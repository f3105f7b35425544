// Package registry keeps what the master must not forget across a restart:
// the admitted agents (id, AgentInfo, gossip address, admission time), the
// frameworks (FrameworkInfo with its id, registration time, and the failover
// deadline while disconnected), the sequence numbers of the next agent and
// framework ids, the agents an operator marked gone, role weights and quotas.
//
// The state changes only through operations (AdmitAgent, RemoveAgent,
// MarkAgentGone, AddFramework, UpdateFramework, RemoveFramework, SetWeights,
// SetQuotas) applied by Registry.Apply.
// An operation is durable when Apply returns nil: the whole state is written
// to a temporary file, fsynced, renamed over <dir>/registry.pb and the
// directory fsynced. Operations are plain values so that a replicated log
// (hashicorp/raft, one voter today) can later carry them unchanged.
//
// The file is a small header (magic, format version, payload length, CRC-32C)
// followed by a State protobuf. A file that is truncated, corrupt or of an
// unknown version makes Open fail with an error naming the file and the
// problem; the registry never silently starts empty over a damaged file.
//
// I/O: file reads in Open, file writes and fsyncs in Apply. Threading: a
// Registry is safe for concurrent use (one mutex), but the master calls it
// from its single state loop.
package registry
