package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// scalar decodes a non-message value of fd's kind. ok is false when the
// value was consumed but must be dropped: an enum name (or number) this
// .proto does not know, in a field that is not required, so that newer
// peers can add values.
func (d *decoder) scalar(fd protoreflect.FieldDescriptor) (v protoreflect.Value, ok bool, err error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		switch {
		case d.literal("true"):
			return protoreflect.ValueOfBool(true), true, nil
		case d.literal("false"):
			return protoreflect.ValueOfBool(false), true, nil
		}
		return v, false, d.typeError("boolean")
	case protoreflect.StringKind:
		if d.peek() != '"' {
			return v, false, d.typeError("string")
		}
		s, err := d.str()
		return protoreflect.ValueOfString(string(s)), err == nil, err
	case protoreflect.BytesKind:
		if d.peek() != '"' {
			return v, false, d.typeError("string")
		}
		s, err := d.str()
		if err != nil {
			return v, false, err
		}
		b, err := decodeBase64(s)
		return protoreflect.ValueOfBytes(b), err == nil, err
	case protoreflect.EnumKind:
		return d.enum(fd)
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		text, err := d.numberText("number")
		if err != nil {
			return v, false, err
		}
		v, err = parseFloat(fd, text)
		return v, err == nil, err
	default:
		text, err := d.numberText("integer")
		if err != nil {
			return v, false, err
		}
		v, err = parseInteger(fd, text)
		return v, err == nil, err
	}
}

// numberText returns the text of a JSON number, or of a string holding
// one (64-bit integers are often sent quoted).
func (d *decoder) numberText(want string) ([]byte, error) {
	switch c := d.peek(); {
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case c == '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		if !isNumber(s) {
			return nil, &fieldError{msg: fmt.Sprintf("expected %s, got string %q", want, s)}
		}
		return s, nil
	}
	return nil, d.typeError(want)
}

func (d *decoder) enum(fd protoreflect.FieldDescriptor) (protoreflect.Value, bool, error) {
	values := fd.Enum().Values()
	var ev protoreflect.EnumValueDescriptor
	var shown string
	switch c := d.peek(); {
	case c == '"':
		s, err := d.str()
		if err != nil {
			return protoreflect.Value{}, false, err
		}
		ev, shown = values.ByName(protoreflect.Name(s)), strconv.Quote(string(s))
	case c == '-' || (c >= '0' && c <= '9'):
		text, err := d.number()
		if err != nil {
			return protoreflect.Value{}, false, err
		}
		n, err := strconv.ParseInt(string(text), 10, 32)
		if err != nil {
			return protoreflect.Value{}, false, &fieldError{msg: "enum number " + string(text) + " is not an int32"}
		}
		ev, shown = values.ByNumber(protoreflect.EnumNumber(n)), string(text)
	default:
		return protoreflect.Value{}, false, d.typeError("enum name or number")
	}
	if ev != nil {
		return protoreflect.ValueOfEnum(ev.Number()), true, nil
	}
	if fd.Cardinality() == protoreflect.Required {
		return protoreflect.Value{}, false, &fieldError{msg: "unknown " + string(fd.Enum().FullName()) + " value " + shown}
	}
	return protoreflect.Value{}, false, nil
}

func parseFloat(fd protoreflect.FieldDescriptor, text []byte) (protoreflect.Value, error) {
	bits := 64
	if fd.Kind() == protoreflect.FloatKind {
		bits = 32
	}
	f, err := strconv.ParseFloat(string(text), bits)
	if err != nil {
		return protoreflect.Value{}, &fieldError{msg: "number " + string(text) + " out of range"}
	}
	if bits == 32 {
		return protoreflect.ValueOfFloat32(float32(f)), nil
	}
	return protoreflect.ValueOfFloat64(f), nil
}

// parseInteger accepts integral JSON numbers of the field's width,
// including forms like 1e3 or 2.0 that some encoders produce.
func parseInteger(fd protoreflect.FieldDescriptor, text []byte) (protoreflect.Value, error) {
	bits, signed := 64, true
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		bits = 32
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		bits, signed = 32, false
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		signed = false
	}
	s := string(text)
	var i int64
	var u uint64
	var err error
	if signed {
		i, err = strconv.ParseInt(s, 10, bits)
	} else {
		u, err = strconv.ParseUint(s, 10, bits)
	}
	if errors.Is(err, strconv.ErrSyntax) {
		i, u, err = integralFloat(s, bits, signed)
	}
	if err != nil {
		return protoreflect.Value{}, &fieldError{msg: fmt.Sprintf("%s is not a valid %s", s, fd.Kind())}
	}
	switch {
	case signed && bits == 32:
		return protoreflect.ValueOfInt32(int32(i)), nil
	case signed:
		return protoreflect.ValueOfInt64(i), nil
	case bits == 32:
		return protoreflect.ValueOfUint32(uint32(u)), nil
	}
	return protoreflect.ValueOfUint64(u), nil
}

func integralFloat(s string, bits int, signed bool) (int64, uint64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) {
		return 0, 0, strconv.ErrSyntax
	}
	limit := math.Ldexp(1, bits) // 2^bits, exact in float64
	if signed {
		if f < -limit/2 || f >= limit/2 {
			return 0, 0, strconv.ErrRange
		}
		return int64(f), 0, nil
	}
	if f < 0 || f >= limit {
		return 0, 0, strconv.ErrRange
	}
	return 0, uint64(f), nil
}

// decodeBase64 accepts standard and URL-safe alphabets, padded or not.
func decodeBase64(s []byte) ([]byte, error) {
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.AppendDecode(nil, s); err == nil {
			if b == nil {
				b = []byte{}
			}
			return b, nil
		}
	}
	return nil, &fieldError{msg: "invalid base64"}
}

func parseMapKey(fd protoreflect.FieldDescriptor, s string) (protoreflect.MapKey, error) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(s).MapKey(), nil
	case protoreflect.BoolKind:
		b, err := strconv.ParseBool(s)
		if err != nil || (s != "true" && s != "false") {
			return protoreflect.MapKey{}, &fieldError{msg: "map key must be true or false"}
		}
		return protoreflect.ValueOfBool(b).MapKey(), nil
	}
	v, err := parseInteger(fd, []byte(s))
	if err != nil {
		return protoreflect.MapKey{}, err
	}
	return v.MapKey(), nil
}
