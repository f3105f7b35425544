package api

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// checkRequired reports the first unset proto2 required field, naming its
// path from the root (e.g. "subscribe.framework_info.user"). The library
// check runs first because it is cheap and almost always passes.
func checkRequired(m protoreflect.Message) error {
	if proto.CheckInitialized(m.Interface()) == nil {
		return nil
	}
	if p := missingRequired(m, "", 0); p != "" {
		return fmt.Errorf("%s: required field missing", p)
	}
	return fmt.Errorf("required field missing")
}

// missingRequired returns the path of the first unset required field
// under m, or "".
func missingRequired(m protoreflect.Message, prefix string, depth int) string {
	if depth > maxDepth {
		return ""
	}
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fd.Cardinality() == protoreflect.Required && !m.Has(fd) {
			return joinPath(prefix, string(fd.Name()))
		}
	}
	var found string
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := joinPath(prefix, string(fd.Name()))
		switch {
		case fd.IsMap():
			if fd.MapValue().Kind() != protoreflect.MessageKind {
				return true
			}
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				found = missingRequired(mv.Message(), fmt.Sprintf("%s[%q]", name, k.String()), depth+1)
				return found == ""
			})
		case fd.IsList():
			if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
				return true
			}
			l := v.List()
			for i := 0; i < l.Len() && found == ""; i++ {
				found = missingRequired(l.Get(i).Message(), fmt.Sprintf("%s[%d]", name, i), depth+1)
			}
		case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
			found = missingRequired(v.Message(), name, depth+1)
		}
		return found == ""
	})
	return found
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}
