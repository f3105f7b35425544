package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// errTooDeep is a plain error, not a fieldError: it is shared, so the
// path-building wrappers must leave it alone.
var errTooDeep = fmt.Errorf("JSON nested more than %d levels", maxDepth)

// decodeJSON implements JSONCodec.Unmarshal: one object, nothing after
// it but whitespace, then the required-field check.
func decodeJSON(b []byte, m proto.Message) error {
	proto.Reset(m)
	d := decoder{scanner{data: b}}
	switch d.peek() {
	case 0:
		return errors.New("invalid JSON: empty body")
	case '{':
	default:
		return fmt.Errorf("expected a JSON object, got %s", d.kindName())
	}
	if err := d.object(m.ProtoReflect(), 0); err != nil {
		return err
	}
	if d.peek() != 0 {
		return d.syntaxError("data after the top-level object")
	}
	return checkRequired(m.ProtoReflect())
}

type decoder struct {
	scanner
}

// object decodes a JSON object into m. The caller has checked that the
// next byte is '{'.
func (d *decoder) object(m protoreflect.Message, depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	d.pos++
	if d.peek() == '}' {
		d.pos++
		return nil
	}
	byName := planOf(m.Descriptor()).byName
	for {
		key, err := d.str()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		fd := byName[string(key)]
		if fd == nil {
			// Unknown fields are ignored, as Mesos does.
			err = d.skip(depth + 1)
		} else {
			err = d.field(m, fd, depth)
		}
		if err != nil {
			if fd != nil {
				return wrapName(string(fd.Name()), err)
			}
			return err
		}
		if done, err := d.next('}'); done || err != nil {
			return err
		}
	}
}

// field decodes the value of one member into fd. A repeated key replaces
// what an earlier one set (last wins, as in Mesos's object model).
func (d *decoder) field(m protoreflect.Message, fd protoreflect.FieldDescriptor, depth int) error {
	m.Clear(fd)
	if d.literal("null") {
		return nil
	}
	switch {
	case fd.IsMap():
		return d.mapField(m, fd, depth)
	case fd.IsList():
		return d.listField(m, fd, depth)
	case isMessage(fd):
		if d.peek() != '{' {
			return d.typeError("object")
		}
		return d.object(m.Mutable(fd).Message(), depth+1)
	}
	v, ok, err := d.scalar(fd)
	if err != nil || !ok {
		return err
	}
	m.Set(fd, v)
	return nil
}

// listField accepts an array, or (as Mesos does) a single value that
// becomes a one-element list. Null elements are skipped.
func (d *decoder) listField(m protoreflect.Message, fd protoreflect.FieldDescriptor, depth int) error {
	l := m.Mutable(fd).List()
	if d.peek() != '[' {
		return d.element(l, fd, depth)
	}
	if depth+1 > maxDepth {
		return errTooDeep
	}
	d.pos++
	if d.peek() == ']' {
		d.pos++
		return nil
	}
	for i := 0; ; i++ {
		if err := d.element(l, fd, depth+1); err != nil {
			return wrapIndex(i, err)
		}
		if done, err := d.next(']'); done || err != nil {
			return err
		}
	}
}

func (d *decoder) element(l protoreflect.List, fd protoreflect.FieldDescriptor, depth int) error {
	if d.literal("null") {
		return nil
	}
	if isMessage(fd) {
		if d.peek() != '{' {
			return d.typeError("object")
		}
		v := l.NewElement()
		if err := d.object(v.Message(), depth+1); err != nil {
			return err
		}
		l.Append(v)
		return nil
	}
	v, ok, err := d.scalar(fd)
	if ok {
		l.Append(v)
	}
	return err
}

// mapField accepts the object form {"k": v} (what the encoder writes)
// and the entry-list form [{"key": k, "value": v}] that a reflection
// walk over map entries produces.
func (d *decoder) mapField(m protoreflect.Message, fd protoreflect.FieldDescriptor, depth int) error {
	mp := m.Mutable(fd).Map()
	switch d.peek() {
	case '{':
		if depth+1 > maxDepth {
			return errTooDeep
		}
		d.pos++
		if d.peek() == '}' {
			d.pos++
			return nil
		}
		for {
			raw, err := d.str()
			if err != nil {
				return err
			}
			key := string(raw)
			if err := d.expect(':'); err != nil {
				return err
			}
			if err := d.mapEntry(mp, fd, key, depth+1); err != nil {
				return wrapKey(key, err)
			}
			if done, err := d.next('}'); done || err != nil {
				return err
			}
		}
	case '[':
		return d.mapEntries(mp, fd, depth)
	}
	return d.typeError("object")
}

func (d *decoder) mapEntry(mp protoreflect.Map, fd protoreflect.FieldDescriptor, key string, depth int) error {
	k, err := parseMapKey(fd.MapKey(), key)
	if err != nil {
		return err
	}
	if d.literal("null") {
		return nil
	}
	vd := fd.MapValue()
	if isMessage(vd) {
		if d.peek() != '{' {
			return d.typeError("object")
		}
		v := mp.NewValue()
		if err := d.object(v.Message(), depth+1); err != nil {
			return err
		}
		mp.Set(k, v)
		return nil
	}
	v, ok, err := d.scalar(vd)
	if ok {
		mp.Set(k, v)
	}
	return err
}

func (d *decoder) mapEntries(mp protoreflect.Map, fd protoreflect.FieldDescriptor, depth int) error {
	if depth+1 > maxDepth {
		return errTooDeep
	}
	d.pos++
	if d.peek() == ']' {
		d.pos++
		return nil
	}
	for i := 0; ; i++ {
		if d.peek() != '{' {
			return wrapIndex(i, d.typeError("object"))
		}
		entry := dynamicpb.NewMessage(fd.Message())
		if err := d.object(entry, depth+2); err != nil {
			return wrapIndex(i, err)
		}
		kfd, vfd := fd.MapKey(), fd.MapValue()
		if !entry.Has(kfd) || !entry.Has(vfd) {
			return wrapIndex(i, &fieldError{msg: "map entry needs key and value"})
		}
		k := entry.Get(kfd).MapKey()
		if isMessage(vfd) {
			v := mp.NewValue()
			proto.Merge(v.Message().Interface(), entry.Get(vfd).Message().Interface())
			mp.Set(k, v)
		} else {
			mp.Set(k, entry.Get(vfd))
		}
		if done, err := d.next(']'); done || err != nil {
			return err
		}
	}
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

func isMessage(fd protoreflect.FieldDescriptor) bool {
	k := fd.Kind()
	return k == protoreflect.MessageKind || k == protoreflect.GroupKind
}

func (d *decoder) typeError(want string) error {
	return &fieldError{msg: "expected " + want + ", got " + d.kindName()}
}

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
