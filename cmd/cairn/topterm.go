package main

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// terminal is cairn top's hold on the user's terminal: stdout is one (so
// the screen is cleared before each refresh) and, when stdin is one too,
// single key presses re-sort the table. Only canonical mode and echo are
// turned off, so output still translates newlines.
type terminal struct {
	fd     int
	outFd  int
	saved  *unix.Termios // nil: stdin is not a terminal, no keys
	stop   chan struct{}
	wg     sync.WaitGroup
	closed sync.Once
}

// openTerminal fails when out is not a terminal.
func openTerminal(in, out *os.File) (*terminal, error) {
	if _, err := unix.IoctlGetTermios(int(out.Fd()), unix.TCGETS); err != nil {
		return nil, err
	}
	t := &terminal{fd: int(in.Fd()), outFd: int(out.Fd()), stop: make(chan struct{})}
	saved, err := unix.IoctlGetTermios(t.fd, unix.TCGETS)
	if err != nil {
		return t, nil
	}
	raw := *saved
	raw.Lflag &^= unix.ICANON | unix.ECHO
	// Reads return after at most 0.1 s without input, so the key reader
	// notices stop without being interrupted.
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 0, 1
	if err := unix.IoctlSetTermios(t.fd, unix.TCSETS, &raw); err != nil {
		return t, nil
	}
	t.saved = saved
	return t, nil
}

// keys delivers key presses until restore; nil (never ready) without a
// terminal on stdin.
func (t *terminal) keys() <-chan byte {
	if t.saved == nil {
		return nil
	}
	ch := make(chan byte)
	t.wg.Go(func() {
		buf := make([]byte, 1)
		for {
			select {
			case <-t.stop:
				return
			default:
			}
			n, err := unix.Read(t.fd, buf)
			if err != nil && err != unix.EINTR && err != unix.EAGAIN {
				return
			}
			if n == 1 {
				select {
				case ch <- buf[0]:
				case <-t.stop:
					return
				}
			}
		}
	})
	return ch
}

// height is the terminal's number of lines, 0 when unknown.
func (t *terminal) height() int {
	ws, err := unix.IoctlGetWinsize(t.outFd, unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Row)
}

// restore stops the key reader and gives the terminal back as it was.
// Idempotent.
func (t *terminal) restore() {
	t.closed.Do(func() {
		close(t.stop)
		t.wg.Wait()
		if t.saved != nil {
			_ = unix.IoctlSetTermios(t.fd, unix.TCSETS, t.saved)
		}
	})
}
