// Package api is Cairn's copy of the Mesos v1 wire contract: the message
// types, their two encodings, and content negotiation. It is a leaf: it
// imports nothing from Cairn.
//
// # Layout
//
//	proto/mesos/v1/...   .proto files; names, numbers, labels and defaults
//	                     follow Apache Mesos (the compatibility contract)
//	mesospb              mesos.v1 (shared types: Offer, TaskInfo, ...)
//	schedulerpb          mesos.v1.scheduler (Call, Event, Response)
//	executorpb           mesos.v1.executor (Call, Event)
//	masterpb             mesos.v1.master (operator Call, Response, Event)
//	recordio             stream framing for SUBSCRIBE responses
//
// The pb packages are generated (go generate ./api) and committed.
//
// # Codecs
//
// [JSON] and [Protobuf] implement [Codec]. [RequestCodec] and
// [ResponseCodec] choose one from Content-Type and Accept and fail with an
// [*HTTPError] carrying 400, 415 or 406.
//
// # JSON mapping
//
// Mesos's own mapping (stout's JSON::protobuf), not protojson's:
//
//   - Keys are the .proto field names (snake_case); on input the
//     lowerCamel JSON names are accepted too.
//   - Fields print in declaration order. A field prints if it is set, if
//     it is a non-empty repeated field, or (as in Mesos) if it is an
//     unset optional, non-deprecated field with an explicit default:
//     e.g. CommandInfo.shell prints as true. Output is one compact line of
//     printable ASCII; other characters are \u escapes.
//   - Enums print by name and are read by name or number. An unknown
//     value in an optional or repeated field is dropped (newer peers may
//     add values); in a required field it is an error.
//   - 64-bit integers are plain JSON numbers; on input they may also be
//     quoted, and integral forms like 5050.0 or 1e3 are accepted.
//   - Doubles print the shortest text that reads back exactly, with ".0"
//     on integral values as Mesos prints them (1.0) and exponents only
//     below 1e-6 or from 1e21; NaN and infinities cannot be encoded.
//   - bytes are base64 (standard alphabet, padded); input may use the
//     URL alphabet and omit padding.
//   - Maps print as objects with sorted keys; input may also use a list
//     of {"key":…,"value":…} entries.
//   - null means absent; unknown keys are skipped; a key given twice keeps
//     the last value; a single value where a list is expected is a
//     one-element list (as Mesos's parser allows).
//   - After decoding, and before encoding, proto2 required fields are
//     checked; errors name the path, e.g.
//     "subscribe.framework_info.name: required field missing" or
//     "framework_info.failover_timeout: expected number, got boolean".
//   - Nesting deeper than 100 levels is refused, so hostile input cannot
//     exhaust the stack.
//
// # Threading
//
// Everything here is stateless and safe for concurrent use, except the
// recordio Reader and Writer, which belong to one goroutine each. The
// package does no I/O outside recordio.
package api
