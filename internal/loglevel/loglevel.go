// Package loglevel is the operator API's logging verbosity
// (GET_LOGGING_LEVEL, SET_LOGGING_LEVEL) for the master and the agent:
// Mesos's glog verbosity, where 0 is the default and higher is chattier.
// Through a slog.LevelVar it takes effect: 0 keeps the level the daemon
// started with, 1 and above log at Debug. A level set for a duration
// reverts to 0 after it, as in Mesos.
//
// A Verbosity is safe for concurrent use; the revert runs on a timer
// goroutine that Stop cancels.
package loglevel

import (
	"log/slog"
	"sync"
	"time"
)

// Verbosity is one daemon's operator verbosity.
type Verbosity struct {
	mu    sync.Mutex
	level uint32
	gen   uint64 // bumped by every Set, so an older revert does nothing
	v     *slog.LevelVar
	base  slog.Level
	timer *time.Timer
}

// New returns verbosity 0 over v; with a nil v the level is only
// remembered.
func New(v *slog.LevelVar) *Verbosity {
	l := &Verbosity{v: v}
	if v != nil {
		l.base = v.Level()
	}
	return l
}

// Get returns the current verbosity.
func (l *Verbosity) Get() uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.level
}

// Set changes the verbosity for d (until the next Set when d <= 0).
func (l *Verbosity) Set(level uint32, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gen++
	l.apply(level)
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	if d > 0 && level != 0 {
		gen := l.gen
		l.timer = time.AfterFunc(d, func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.gen == gen {
				l.apply(0)
			}
		})
	}
}

func (l *Verbosity) apply(level uint32) {
	l.level = level
	if l.v == nil {
		return
	}
	if level == 0 {
		l.v.Set(l.base)
	} else {
		l.v.Set(min(l.base, slog.LevelDebug))
	}
}

// Stop cancels a pending revert (shutdown).
func (l *Verbosity) Stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer != nil {
		l.timer.Stop()
	}
}
