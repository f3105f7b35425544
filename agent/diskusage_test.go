package agent

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairnhq/cairn/agent/usage"
	"github.com/cairnhq/cairn/ids"
)

// TestSandboxSize: the size is the blocks of every entry below the
// sandbox, a file with two links counted once, and a symbolic link measured
// as itself, never as the (larger) file it points to outside.
func TestSandboxSize(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	write := func(path string, n int) {
		t.Helper()
		if err := os.WriteFile(path, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	big := filepath.Join(outside, "big")
	write(big, 4<<20)
	write(filepath.Join(root, "a"), 10000)
	if err := os.Mkdir(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(root, "sub", "c"), 70000)
	if err := os.Link(filepath.Join(root, "a"), filepath.Join(root, "sub", "a-again")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(big, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "dirlink")); err != nil {
		t.Fatal(err)
	}
	var want uint64
	for _, p := range []string{"", "a", "sub", "sub/c", "link", "dirlink"} {
		st, err := lstat(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		want += uint64(st.Blocks) * 512
	}
	got, err := sandboxSize(root, maxDiskEntries)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sandbox %d bytes", got)
	if got != want {
		t.Errorf("size %d, want %d", got, want)
	}
	if got < 80000 || got >= 4<<20 {
		t.Errorf("size %d: not the two files (80000 bytes) without the linked 4 MiB", got)
	}

	part, err := sandboxSize(root, 3)
	if !errors.Is(err, errTooManyEntries) || part == 0 || part >= got {
		t.Errorf("3 entries: size %d, err %v; want part of %d and errTooManyEntries", part, err, got)
	}
	if _, err := sandboxSize(filepath.Join(root, "a"), maxDiskEntries); err == nil {
		t.Error("a file measured as a sandbox")
	}
}

// TestDiskWatch: a tracked sandbox is measured when it first appears, its
// size is forgotten once it is no longer tracked, and one that cannot be
// measured has no size.
func TestDiskWatch(t *testing.T) {
	d := newDiskWatch(slog.New(slog.DiscardHandler))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), make([]byte, 50000), 0o644); err != nil {
		t.Fatal(err)
	}
	d.track([]usage.Target{{Container: "c1", Sandbox: dir}, {Container: "c2", Sandbox: filepath.Join(dir, "missing")}, {Container: "c3"}})
	select {
	case <-d.kick:
	default:
		t.Fatal("new sandboxes did not ask for a measurement")
	}
	d.measure(true)
	if b, ok := d.DiskUsed("c1"); !ok || b < 50000 {
		t.Errorf("c1: %d bytes, %v; want at least 50000", b, ok)
	}
	for _, id := range []string{"c2", "c3"} {
		if b, ok := d.DiskUsed(ids.ContainerID(id)); ok {
			t.Errorf("%s: %d bytes, want none", id, b)
		}
	}
	d.track([]usage.Target{{Container: "c2", Sandbox: filepath.Join(dir, "missing")}})
	select {
	case <-d.kick:
		t.Error("a sandbox that failed asked for a measurement again")
	default:
	}
	if _, ok := d.DiskUsed("c1"); ok {
		t.Error("c1 kept a size after it ended")
	}
}
