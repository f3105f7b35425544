package api

import (
	"errors"
	"fmt"

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

func isMessage(fd protoreflect.FieldDescriptor) bool {
	k := fd.Kind()
	return k == protoreflect.MessageKind || k == protoreflect.GroupKind
}

func (d *decoder) typeError(want string) error {
	return &fieldError{msg: "expected " + want + ", got " + d.kindName()}
}
