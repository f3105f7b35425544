package systemd

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"github.com/coreos/go-systemd/v22/journal"
)

// Priority is a syslog priority as journald stores it in PRIORITY=.
type Priority int

// The priorities slog levels map to.
const (
	PriErr     Priority = 3
	PriWarning Priority = 4
	PriInfo    Priority = 6
	PriDebug   Priority = 7
)

// Sender writes one journal entry. message becomes MESSAGE=, priority
// PRIORITY=; fields are further FIELD=value pairs with valid journal names.
// It must be safe for concurrent use.
type Sender interface {
	Send(message string, priority Priority, fields map[string]string) error
}

type nativeSender struct{}

func (nativeSender) Send(msg string, p Priority, fields map[string]string) error {
	return journal.Send(msg, journal.Priority(p), fields)
}

// JournalEnabled reports whether logs should go to journald natively: stderr
// is the journal's stream transport (JOURNAL_STREAM names stderr's dev:ino,
// so a redirected stderr keeps plain text) and journald's socket answers.
func JournalEnabled() bool {
	ok, err := journal.StderrIsJournalStream()
	return ok && err == nil && journal.Enabled()
}

// Journal returns a handler writing to journald and true when
// JournalEnabled, else nil and false: the caller keeps its text handler on
// stderr. Entries journald refuses go to a text handler on stderr instead,
// so a log line is never silently dropped.
func Journal(opts *slog.HandlerOptions) (slog.Handler, bool) {
	if !JournalEnabled() {
		return nil, false
	}
	return NewJournalHandler(nativeSender{}, slog.NewTextHandler(os.Stderr, opts), opts), true
}

// NewJournalHandler returns a handler that writes each record through s:
// MESSAGE is the record's message followed by its attributes as key=value
// (journalctl's default view shows only MESSAGE, and operators should not need
// -o verbose to see which task a line is about); PRIORITY comes from the
// level; every attribute is also a field of its own, its key upper-cased
// (task_id → TASK_ID, group "http" key "path" → HTTP_PATH) so that
// `journalctl TASK_ID=…` finds it. fallback, when not nil, gets records s
// fails to send. opts may be nil.
func NewJournalHandler(s Sender, fallback slog.Handler, opts *slog.HandlerOptions) *JournalHandler {
	if opts == nil {
		opts = &slog.HandlerOptions{}
	}
	return &JournalHandler{s: s, fallback: fallback, opts: *opts}
}

// JournalHandler is a slog.Handler that writes to journald through a Sender.
type JournalHandler struct {
	s        Sender
	fallback slog.Handler
	opts     slog.HandlerOptions

	attrs  []groupedAttr // from WithAttrs, with the groups open at the time
	groups []string      // open groups, for attributes added later
}

type groupedAttr struct {
	groups []string
	attr   slog.Attr
}

// Enabled reports whether the level passes the configured minimum.
func (h *JournalHandler) Enabled(_ context.Context, l slog.Level) bool {
	min := slog.LevelInfo
	if h.opts.Level != nil {
		min = h.opts.Level.Level()
	}
	return l >= min
}

// Handle sends one entry; a failed send goes to the fallback handler.
func (h *JournalHandler) Handle(ctx context.Context, r slog.Record) error {
	all := make([]groupedAttr, 0, len(h.attrs)+r.NumAttrs())
	all = append(all, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		all = append(all, groupedAttr{groups: h.groups, attr: a})
		return true
	})
	fields := map[string]string{}
	var text strings.Builder
	text.WriteString(r.Message)
	for _, ga := range all {
		h.flatten(ga.groups, ga.attr, fields, &text)
	}
	if h.opts.AddSource && r.PC != 0 {
		addSource(r.PC, fields)
	}
	if err := h.s.Send(text.String(), priority(r.Level), fields); err != nil {
		if h.fallback == nil {
			return err
		}
		fr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		fr.AddAttrs(slog.String("journal_error", err.Error()))
		for _, ga := range all {
			fr.AddAttrs(nest(ga.groups, ga.attr))
		}
		return h.fallback.Handle(ctx, fr)
	}
	return nil
}

// WithAttrs returns a handler that adds attrs to every record.
func (h *JournalHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(c.attrs[:len(c.attrs):len(c.attrs)], make([]groupedAttr, 0, len(attrs))...)
	for _, a := range attrs {
		c.attrs = append(c.attrs, groupedAttr{groups: h.groups, attr: a})
	}
	return &c
}

// WithGroup returns a handler that qualifies later attributes with name.
func (h *JournalHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.groups = append(c.groups[:len(c.groups):len(c.groups)], name)
	return &c
}

func priority(l slog.Level) Priority {
	switch {
	case l >= slog.LevelError:
		return PriErr
	case l >= slog.LevelWarn:
		return PriWarning
	case l >= slog.LevelInfo:
		return PriInfo
	}
	return PriDebug
}

// nest wraps a in the groups it was logged under, for the fallback handler.
func nest(groups []string, a slog.Attr) slog.Attr {
	for i := len(groups) - 1; i >= 0; i-- {
		a = slog.Attr{Key: groups[i], Value: slog.GroupValue(a)}
	}
	return a
}
