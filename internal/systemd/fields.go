package systemd

import (
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"unicode"
)

// reserved are the fields the handler itself sets; an attribute that maps to
// one of them gets the prefix "ATTR_" instead of overwriting it.
var reserved = map[string]bool{
	"MESSAGE": true, "PRIORITY": true, "CODE_FILE": true, "CODE_LINE": true, "CODE_FUNC": true,
	"SYSLOG_IDENTIFIER": true, "MESSAGE_ID": true, "ERRNO": true,
}

// flatten adds attribute a, logged under groups, to fields and as " key=value"
// to text. Group values recurse; empty groups and empty attributes vanish, as
// in slog's own handlers.
func (h *JournalHandler) flatten(groups []string, a slog.Attr, fields map[string]string, text *strings.Builder) {
	a.Value = a.Value.Resolve()
	if a.Value.Kind() == slog.KindGroup {
		attrs := a.Value.Group()
		if len(attrs) == 0 {
			return
		}
		inner := groups
		if a.Key != "" { // an inline group: its attributes join the outer level
			inner = append(groups[:len(groups):len(groups)], a.Key)
		}
		for _, ga := range attrs {
			h.flatten(inner, ga, fields, text)
		}
		return
	}
	if h.opts.ReplaceAttr != nil {
		a = h.opts.ReplaceAttr(groups, a)
		a.Value = a.Value.Resolve()
	}
	if a.Equal(slog.Attr{}) {
		return
	}
	key := strings.Join(append(groups[:len(groups):len(groups)], a.Key), ".")
	val := a.Value.String()
	text.WriteByte(' ')
	text.WriteString(key)
	text.WriteByte('=')
	text.WriteString(quote(val))
	fields[FieldName(key)] = val
}

// FieldName maps an attribute key (groups joined with ".") to a journal field
// name: upper case, every character other than A-Z, 0-9 and _ becomes _,
// leading underscores (trusted fields, set only by journald) and a leading
// digit get the prefix "ATTR_", as do names the handler sets itself. journald
// limits names to 64 bytes; longer ones are cut.
func FieldName(key string) string {
	b := []byte(strings.ToUpper(key))
	for i, c := range b {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	name := string(b)
	if name == "" || name[0] == '_' || (name[0] >= '0' && name[0] <= '9') || reserved[name] {
		name = "ATTR_" + name
	}
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

// quote returns v as text handlers print it: bare when it is one plain word.
func quote(v string) string {
	needs := v == "" || strings.IndexFunc(v, func(r rune) bool {
		return r == ' ' || r == '"' || r == '=' || !unicode.IsPrint(r)
	}) >= 0
	if needs {
		return strconv.Quote(v)
	}
	return v
}

func addSource(pc uintptr, fields map[string]string) {
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	fields["CODE_FILE"] = f.File
	fields["CODE_LINE"] = strconv.Itoa(f.Line)
	fields["CODE_FUNC"] = f.Function
}
