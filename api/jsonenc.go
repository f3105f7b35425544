package api

import (
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// maxDepth bounds message nesting in both directions, so that hostile
// input (or a cyclic Go value) cannot exhaust the stack.
const maxDepth = 100

// fieldPlan is what the encoder needs to know about one field, computed
// once per message type.
type fieldPlan struct {
	fd       protoreflect.FieldDescriptor
	key      string // `"name":`
	required bool
	// Mesos prints an unset optional field whose .proto gives an explicit
	// default, unless the field is deprecated (stout's JSON::protobuf).
	emitDefault bool
}

// msgPlan is the per-type table both directions use.
type msgPlan struct {
	fields []fieldPlan
	// byName maps proto names and JSON (lowerCamel) names to fields;
	// indexing it with string(bytes) does not allocate.
	byName map[string]protoreflect.FieldDescriptor
}

// plans caches msgPlans by descriptor: keying by the descriptor (a
// pointer) rather than its name keeps lookups allocation-free.
var plans sync.Map // protoreflect.MessageDescriptor -> *msgPlan

func planOf(md protoreflect.MessageDescriptor) *msgPlan {
	if p, ok := plans.Load(md); ok {
		return p.(*msgPlan)
	}
	fields := md.Fields()
	p := &msgPlan{
		fields: make([]fieldPlan, fields.Len()),
		byName: make(map[string]protoreflect.FieldDescriptor, 2*fields.Len()),
	}
	for i := range p.fields {
		fd := fields.Get(i)
		p.byName[fd.JSONName()] = fd
		p.fields[i] = fieldPlan{
			fd:       fd,
			key:      strconv.Quote(string(fd.Name())) + ":",
			required: fd.Cardinality() == protoreflect.Required,
			emitDefault: fd.Cardinality() == protoreflect.Optional &&
				fd.HasDefault() && !isDeprecated(fd) && fd.ContainingOneof() == nil,
		}
	}
	// Proto names win over a JSON name that happens to collide with one.
	for i := range p.fields {
		p.byName[string(p.fields[i].fd.Name())] = p.fields[i].fd
	}
	plans.Store(md, p)
	return p
}

// planFor returns the field table of md.
func planFor(md protoreflect.MessageDescriptor) []fieldPlan {
	return planOf(md).fields
}

func isDeprecated(fd protoreflect.FieldDescriptor) bool {
	opts, ok := fd.Options().(*descriptorpb.FieldOptions)
	return ok && opts.GetDeprecated()
}

type encoder struct {
	buf []byte
}

func (e *encoder) message(m protoreflect.Message, depth int) error {
	if depth > maxDepth {
		return &fieldError{msg: "message nested too deeply"}
	}
	e.buf = append(e.buf, '{')
	first := true
	for i, plan := 0, planFor(m.Descriptor()); i < len(plan); i++ {
		f := &plan[i]
		fd := f.fd
		var v protoreflect.Value
		switch {
		case fd.IsMap():
			if v = m.Get(fd); v.Map().Len() == 0 {
				continue
			}
		case fd.IsList():
			if v = m.Get(fd); v.List().Len() == 0 {
				continue
			}
		case m.Has(fd):
			v = m.Get(fd)
		case f.required:
			return &fieldError{path: string(fd.Name()), msg: "required field missing"}
		case f.emitDefault:
			v = fd.Default()
		default:
			continue
		}
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		e.buf = append(e.buf, f.key...)
		var err error
		switch {
		case fd.IsMap():
			err = e.mapValue(fd, v.Map(), depth)
		case fd.IsList():
			err = e.list(fd, v.List(), depth)
		default:
			err = e.value(fd, v, depth)
		}
		if err != nil {
			return wrapName(string(fd.Name()), err)
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

func (e *encoder) list(fd protoreflect.FieldDescriptor, l protoreflect.List, depth int) error {
	e.buf = append(e.buf, '[')
	for i := 0; i < l.Len(); i++ {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.value(fd, l.Get(i), depth); err != nil {
			return wrapIndex(i, err)
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

// mapValue writes a map as a JSON object with sorted keys, so output is
// deterministic.
func (e *encoder) mapValue(fd protoreflect.FieldDescriptor, mp protoreflect.Map, depth int) error {
	keys := make([]protoreflect.MapKey, 0, mp.Len())
	mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	slices.SortFunc(keys, compareMapKeys)
	e.buf = append(e.buf, '{')
	for i, k := range keys {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendString(e.buf, k.String())
		e.buf = append(e.buf, ':')
		if err := e.value(fd.MapValue(), mp.Get(k), depth); err != nil {
			return wrapKey(k.String(), err)
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

func compareMapKeys(a, b protoreflect.MapKey) int {
	switch x := a.Interface().(type) {
	case string:
		return cmpOrdered(x, b.Interface().(string))
	case bool:
		return cmpOrdered(strconv.FormatBool(x), strconv.FormatBool(b.Bool()))
	case int32, int64:
		return cmpOrdered(a.Int(), b.Int())
	default:
		return cmpOrdered(a.Uint(), b.Uint())
	}
}

func cmpOrdered[T int64 | uint64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// value writes one singular value (a list element, a map value or a
// field) of fd's kind.
func (e *encoder) value(fd protoreflect.FieldDescriptor, v protoreflect.Value, depth int) error {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		e.buf = strconv.AppendBool(e.buf, v.Bool())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
	case protoreflect.FloatKind:
		return e.float(v.Float(), 32)
	case protoreflect.DoubleKind:
		return e.float(v.Float(), 64)
	case protoreflect.StringKind:
		e.buf = appendString(e.buf, v.String())
	case protoreflect.BytesKind:
		e.buf = append(e.buf, '"')
		e.buf = base64.StdEncoding.AppendEncode(e.buf, v.Bytes())
		e.buf = append(e.buf, '"')
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			e.buf = append(e.buf, '"')
			e.buf = append(e.buf, ev.Name()...)
			e.buf = append(e.buf, '"')
		} else {
			// A number the .proto does not know: keep it rather than lie.
			e.buf = strconv.AppendInt(e.buf, int64(v.Enum()), 10)
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return e.message(v.Message(), depth+1)
	}
	return nil
}

// float writes the shortest decimal that reads back as the same value.
// Integral values keep a ".0" as Mesos prints them (e.g. "cpus":1.0).
func (e *encoder) float(f float64, bits int) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return &fieldError{msg: "cannot encode NaN or infinity in JSON"}
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(e.buf)
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, bits)
	num := e.buf[start:]
	if format == 'e' {
		// 1e-07 -> 1e-7, as encoding/json does.
		if n := len(num); n >= 4 && num[n-4] == 'e' && num[n-3] == '-' && num[n-2] == '0' {
			num[n-2] = num[n-1]
			e.buf = e.buf[:len(e.buf)-1]
		}
		return nil
	}
	for _, c := range num {
		if c == '.' {
			return nil
		}
	}
	e.buf = append(e.buf, '.', '0')
	return nil
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string using only printable ASCII:
// everything else is a \u escape (UTF-16 surrogate pairs beyond the BMP),
// and invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = appendU(b, rune(c))
			}
			i++
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		r, size := utf8.DecodeRuneInString(s[i:])
		if r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			b = appendU(appendU(b, r1), r2)
		} else {
			b = appendU(b, r) // RuneError for invalid bytes is U+FFFD
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u',
		hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
