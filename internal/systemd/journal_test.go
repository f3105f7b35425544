package systemd

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
)

type entry struct {
	msg    string
	pri    Priority
	fields map[string]string
}

// fakeSender records entries, or fails every send when err is set.
type fakeSender struct {
	mu      sync.Mutex
	entries []entry
	err     error
}

func (f *fakeSender) Send(msg string, p Priority, fields map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.entries = append(f.entries, entry{msg, p, maps.Clone(fields)})
	return nil
}

func (f *fakeSender) only(t *testing.T) entry {
	t.Helper()
	if len(f.entries) != 1 {
		t.Fatalf("%d entries, want 1: %+v", len(f.entries), f.entries)
	}
	return f.entries[0]
}

func TestJournalFields(t *testing.T) {
	s := &fakeSender{}
	log := slog.New(NewJournalHandler(s, nil, nil)).With("agent_id", "a-1")
	log.Info("task launched", "task_id", "t 1", slog.Group("res", "cpus", 0.5, "mem", 32))
	e := s.only(t)
	if want := `task launched agent_id=a-1 task_id="t 1" res.cpus=0.5 res.mem=32`; e.msg != want {
		t.Errorf("MESSAGE %q, want %q", e.msg, want)
	}
	if e.pri != PriInfo {
		t.Errorf("PRIORITY %d, want %d", e.pri, PriInfo)
	}
	want := map[string]string{"AGENT_ID": "a-1", "TASK_ID": "t 1", "RES_CPUS": "0.5", "RES_MEM": "32"}
	if !maps.Equal(e.fields, want) {
		t.Errorf("fields %v, want %v", e.fields, want)
	}
}

func TestJournalGroupsAndAttrs(t *testing.T) {
	s := &fakeSender{}
	log := slog.New(NewJournalHandler(s, nil, nil))
	log.With("component", "agent").WithGroup("http").With("method", "POST").Info("request", "path", "/api/v1", slog.Group("", "inline", 1), slog.Group("empty"))
	e := s.only(t)
	want := map[string]string{"COMPONENT": "agent", "HTTP_METHOD": "POST", "HTTP_PATH": "/api/v1", "HTTP_INLINE": "1"}
	if !maps.Equal(e.fields, want) {
		t.Errorf("fields %v, want %v", e.fields, want)
	}
	if want := "request component=agent http.method=POST http.path=/api/v1 http.inline=1"; e.msg != want {
		t.Errorf("MESSAGE %q, want %q", e.msg, want)
	}
}

func TestJournalPriority(t *testing.T) {
	for _, tc := range []struct {
		level slog.Level
		want  Priority
	}{
		{slog.LevelDebug, PriDebug},
		{slog.LevelDebug + 1, PriDebug},
		{slog.LevelInfo, PriInfo},
		{slog.LevelInfo + 2, PriInfo},
		{slog.LevelWarn, PriWarning},
		{slog.LevelError, PriErr},
		{slog.LevelError + 4, PriErr},
	} {
		s := &fakeSender{}
		log := slog.New(NewJournalHandler(s, nil, &slog.HandlerOptions{Level: slog.LevelDebug}))
		log.Log(context.Background(), tc.level, "x")
		if got := s.only(t).pri; got != tc.want {
			t.Errorf("level %v: priority %d, want %d", tc.level, got, tc.want)
		}
	}
}

func TestJournalLevelFilter(t *testing.T) {
	s := &fakeSender{}
	log := slog.New(NewJournalHandler(s, nil, &slog.HandlerOptions{Level: slog.LevelWarn}))
	log.Info("dropped")
	log.Warn("kept")
	if e := s.only(t); e.msg != "kept" {
		t.Fatalf("sent %q", e.msg)
	}
	s = &fakeSender{}
	slog.New(NewJournalHandler(s, nil, nil)).Debug("below the default Info")
	if len(s.entries) != 0 {
		t.Fatalf("debug sent with default options: %+v", s.entries)
	}
}

func TestJournalSource(t *testing.T) {
	s := &fakeSender{}
	slog.New(NewJournalHandler(s, nil, &slog.HandlerOptions{AddSource: true})).Info("x")
	f := s.only(t).fields
	if !strings.HasSuffix(f["CODE_FILE"], "journal_test.go") || f["CODE_LINE"] == "" || !strings.HasSuffix(f["CODE_FUNC"], "TestJournalSource") {
		t.Fatalf("source fields %v", f)
	}
}

func TestJournalFallbackOnSendError(t *testing.T) {
	s := &fakeSender{err: errors.New("journald gone")}
	var buf bytes.Buffer
	log := slog.New(NewJournalHandler(s, slog.NewTextHandler(&buf, nil), nil)).WithGroup("g")
	log.Error("lost?", "task_id", "t1")
	out := buf.String()
	for _, want := range []string{`msg=lost?`, `level=ERROR`, `journal_error="journald gone"`, `g.task_id=t1`} {
		if !strings.Contains(out, want) {
			t.Errorf("fallback output %q lacks %q", out, want)
		}
	}
	if err := NewJournalHandler(s, nil, nil).Handle(context.Background(), slog.Record{}); err == nil {
		t.Error("no fallback: send error not returned")
	}
}

func TestFieldName(t *testing.T) {
	for key, want := range map[string]string{
		"task_id":               "TASK_ID",
		"http.path":             "HTTP_PATH",
		"task-id":               "TASK_ID",
		"message":               "ATTR_MESSAGE",
		"priority":              "ATTR_PRIORITY",
		"_pid":                  "ATTR__PID",
		"9lives":                "ATTR_9LIVES",
		"":                      "ATTR_",
		"ünï":                   "ATTR___N__", // Ü and Ï are two bytes each
		strings.Repeat("a", 70): strings.Repeat("A", 64),
	} {
		if got := FieldName(key); got != want {
			t.Errorf("FieldName(%q) = %q, want %q", key, got, want)
		}
	}
}
