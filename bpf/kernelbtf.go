package bpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf/btf"
)

// tracepointArgs checks, in kernel BTF, that the raw tracepoint name exists
// and passes arguments of the wanted kinds: a struct name means "pointer to
// that struct", "bool" a boolean, "" anything. tp_btf programs read their
// arguments by position, so an argument that changed type between kernel
// versions must be caught here rather than as a verifier error.
func tracepointArgs(name string, want ...string) error {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return err
	}
	var td *btf.Typedef
	if err := spec.TypeByName("btf_trace_"+name, &td); err != nil {
		return fmt.Errorf("tracepoint %s: %w", name, err)
	}
	ptr, ok := td.Type.(*btf.Pointer)
	if !ok {
		return fmt.Errorf("tracepoint %s: typedef is %T, not a pointer", name, td.Type)
	}
	proto, ok := ptr.Target.(*btf.FuncProto)
	if !ok {
		return fmt.Errorf("tracepoint %s: typedef points to %T, not a function", name, ptr.Target)
	}
	params := proto.Params
	if len(params) > 0 {
		params = params[1:] // the tracepoint's private data
	}
	if len(params) != len(want) {
		return fmt.Errorf("tracepoint %s: %d arguments, want %d", name, len(params), len(want))
	}
	for i, w := range want {
		if w == "" || argIs(params[i].Type, w) {
			continue
		}
		return fmt.Errorf("tracepoint %s: argument %d is %s, want %s", name, i, btf.UnderlyingType(params[i].Type), w)
	}
	return nil
}

func argIs(t btf.Type, want string) bool {
	t = btf.UnderlyingType(t)
	if want == "bool" {
		i, ok := t.(*btf.Int)
		return ok && i.Encoding == btf.Bool
	}
	p, ok := t.(*btf.Pointer)
	if !ok {
		return false
	}
	s, ok := btf.UnderlyingType(p.Target).(*btf.Struct)
	return ok && s.Name == want
}

// hasMember checks that a kernel struct has a member (also inside anonymous
// structs and unions): fields that exist only with some kernel options.
func hasMember(structName, name string) error {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return err
	}
	var s *btf.Struct
	if err := spec.TypeByName(structName, &s); err != nil {
		return err
	}
	if _, ok := member(s.Members, name); !ok {
		return fmt.Errorf("%s has no %s", structName, name)
	}
	return nil
}

// rssStatCounters checks that mm_struct.rss_stat is an array of percpu
// counters with a count field (Linux 6.2+), which bpf/mem reads directly.
func rssStatCounters() error {
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return err
	}
	var mm *btf.Struct
	if err := spec.TypeByName("mm_struct", &mm); err != nil {
		return err
	}
	m, ok := member(mm.Members, "rss_stat")
	if !ok {
		return errors.New("mm_struct has no rss_stat")
	}
	arr, ok := btf.UnderlyingType(m.Type).(*btf.Array)
	if !ok {
		return fmt.Errorf("mm_struct.rss_stat is %s, not an array", m.Type)
	}
	pc, ok := btf.UnderlyingType(arr.Type).(*btf.Struct)
	if !ok || pc.Name != "percpu_counter" {
		return fmt.Errorf("mm_struct.rss_stat holds %s, not percpu_counter", arr.Type)
	}
	return nil
}

// member finds a struct member by name, also inside anonymous structs and
// unions, as C lets code name it.
func member(ms []btf.Member, name string) (btf.Member, bool) {
	for _, m := range ms {
		if m.Name == name {
			return m, true
		}
		if m.Name != "" {
			continue
		}
		var inner []btf.Member
		switch t := btf.UnderlyingType(m.Type).(type) {
		case *btf.Struct:
			inner = t.Members
		case *btf.Union:
			inner = t.Members
		}
		if found, ok := member(inner, name); ok {
			return found, true
		}
	}
	return btf.Member{}, false
}
