package api

import (
	"fmt"

	"google.golang.org/protobuf/proto"
)

// Content types of the two encodings every v1 endpoint speaks. Responses
// carry exactly these strings, without parameters.
const (
	ContentTypeJSON     = "application/json"
	ContentTypeProtobuf = "application/x-protobuf"
)

// Codec encodes and decodes one v1 message in one encoding. Codecs are
// stateless and safe for concurrent use.
type Codec interface {
	// ContentType is the media type to put in Content-Type.
	ContentType() string
	// Marshal encodes m. It fails if a proto2 required field is unset.
	Marshal(m proto.Message) ([]byte, error)
	// Unmarshal replaces the contents of m with the decoded b. It fails
	// if b is malformed or leaves a required field unset.
	Unmarshal(b []byte, m proto.Message) error
}

// The two codecs.
var (
	JSON     = JSONCodec{}
	Protobuf = ProtobufCodec{}
)

// JSONCodec implements Mesos's JSON mapping (see the package doc).
type JSONCodec struct{}

// ContentType returns "application/json".
func (JSONCodec) ContentType() string { return ContentTypeJSON }

// Marshal encodes m as one line of ASCII JSON.
func (JSONCodec) Marshal(m proto.Message) ([]byte, error) {
	return JSONCodec{}.Append(nil, m)
}

// Append appends the JSON encoding of m to b, so that a caller can reuse
// a buffer (for instance to put a RecordIO header in front of it).
func (JSONCodec) Append(b []byte, m proto.Message) ([]byte, error) {
	e := encoder{buf: b}
	if err := e.message(m.ProtoReflect(), 0); err != nil {
		return b, err
	}
	return e.buf, nil
}

// Unmarshal decodes one JSON object into m.
func (JSONCodec) Unmarshal(b []byte, m proto.Message) error {
	return decodeJSON(b, m)
}

// ProtobufCodec is the protobuf binary encoding, unframed.
type ProtobufCodec struct{}

// ContentType returns "application/x-protobuf".
func (ProtobufCodec) ContentType() string { return ContentTypeProtobuf }

// Marshal encodes m; required fields are checked.
func (ProtobufCodec) Marshal(m proto.Message) ([]byte, error) {
	return ProtobufCodec{}.Append(nil, m)
}

// Append appends the binary encoding of m to b.
func (ProtobufCodec) Append(b []byte, m proto.Message) ([]byte, error) {
	out, err := proto.MarshalOptions{}.MarshalAppend(b, m)
	if err != nil {
		// The library's message names the field but not where it sits;
		// walk the message to say which one.
		if perr := checkRequired(m.ProtoReflect()); perr != nil {
			return b, perr
		}
		return b, fmt.Errorf("marshal protobuf: %w", err)
	}
	return out, nil
}

// Unmarshal decodes b into m; required fields are checked.
func (ProtobufCodec) Unmarshal(b []byte, m proto.Message) error {
	err := proto.UnmarshalOptions{AllowPartial: true}.Unmarshal(b, m)
	if err != nil {
		return fmt.Errorf("unmarshal protobuf: %w", err)
	}
	return checkRequired(m.ProtoReflect())
}
