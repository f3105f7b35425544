package gossip

import (
	"bytes"
	"context"
	"log"
	"log/slog"
)

// newMemberlistLogger returns a *log.Logger for memberlist whose every line
// becomes one slog record at Debug. memberlist logs routine churn at [WARN]
// and [ERR] (a peer that went away, a refused TCP fallback), which would be
// noise at those levels; what Cairn must act on reaches it as an Event or an
// error, and the original level is kept as the memberlist_level attribute.
func newMemberlistLogger(logger *slog.Logger) *log.Logger {
	return log.New(slogWriter{logger: logger}, "", 0)
}

type slogWriter struct {
	logger *slog.Logger
}

// Write receives exactly one formatted line per call: log.Logger serializes
// its writes and adds the trailing newline itself.
func (w slogWriter) Write(p []byte) (int, error) {
	level, msg := splitMemberlistLine(p)
	w.logger.LogAttrs(context.Background(), slog.LevelDebug, msg,
		slog.String("component", "memberlist"),
		slog.String("memberlist_level", level))
	return len(p), nil
}

// splitMemberlistLine turns "[WARN] memberlist: Got ping\n" into ("WARN",
// "Got ping"). Lines not in that shape pass through whole, level "".
func splitMemberlistLine(p []byte) (level, msg string) {
	line := bytes.TrimRight(p, "\r\n")
	if len(line) > 0 && line[0] == '[' {
		if end := bytes.IndexByte(line, ']'); end > 0 {
			level = string(line[1:end])
			line = bytes.TrimLeft(line[end+1:], " ")
		}
	}
	line = bytes.TrimPrefix(line, []byte("memberlist: "))
	return level, string(line)
}
