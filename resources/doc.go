// Package resources implements Mesos resource vectors: named scalar, ranges and
// set quantities, each optionally reserved for a role, and the arithmetic the
// master and the agent do on them (add, subtract, contains).
//
// Reservations follow Mesos: static ones come from an agent's --resources,
// dynamic ones from RESERVE operations (Resource.Dynamic) and are the only
// ones UNRESERVE may undo. Roles are hierarchical ("eng/web"); resources
// reserved for a role may be offered to that role and its subroles
// (AllocatableTo). Refined reservations (stacks) and reservation labels are
// not supported yet and are refused at the wire.
//
// A Resources value is immutable and always normalized: entries with the same
// name, role and type are merged, empty entries are dropped, ranges are sorted
// and coalesced, set items are sorted and unique. Every operation returns a new
// value, so Resources may be shared freely between goroutines and stored in
// maps without copying.
//
// Scalars are kept in fixed point with three decimals (Fixed, thousandths), as
// Mesos does, so that adding and subtracting many small cpu shares never
// drifts.
//
// Parse reads the Mesos --resources syntax (text or JSON array), String writes
// the text syntax back, Flatten gives the legacy /state map, and FromProto and
// ToProto convert to and from the v1 wire type in api/mesospb.
//
// The package is pure: no I/O, no global state.
package resources
