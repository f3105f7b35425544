package systemd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/internal/kerneltest"
)

// install runs deploy/install.sh with a stub binary into a fresh DESTDIR and
// returns DESTDIR and the paths of the installed units.
func install(t *testing.T, bin string) (string, []string) {
	t.Helper()
	dest := t.TempDir()
	cmd := exec.Command("sh", "../../deploy/install.sh", "/usr/local", dest)
	cmd.Env = append(os.Environ(), "BIN="+bin, "UNITDIR=/etc/systemd/system")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("install.sh: %v\n%s", err, out)
	}
	dir := filepath.Join(dest, "etc/systemd/system")
	var units []string
	for _, n := range []string{"cairn.slice", "cairn-master.service", "cairn-agent.service"} {
		units = append(units, filepath.Join(dir, n))
	}
	for _, p := range append(units, filepath.Join(dest, "usr/local/bin/cairn"), filepath.Join(dest, "etc/default/cairn-agent")) {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("install.sh did not install %s: %v", p, err)
		}
	}
	return dest, units
}

// verify runs systemd-analyze verify on the units, which must exist with
// their ExecStart= binary, and returns its output lines.
func verify(t *testing.T, units []string) []string {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		kerneltest.Skip(t, "no systemd-analyze (Debian package systemd)")
	}
	cmd := exec.Command(analyze, append([]string{"verify", "--man=no"}, units...)...)
	// Warnings are logged at levels a caller's SYSTEMD_LOG_LEVEL could hide.
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=info", "SYSTEMD_LOG_COLOR=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze verify: %v", err)
	}
	var lines []string
	for l := range strings.Lines(string(out)) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

func stubBinary(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cairn")
	if err := os.WriteFile(p, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestUnitsVerifyStrict fails on any line systemd-analyze prints: it exits 0
// on warnings (unknown keys, unparsable values), so its output is the signal.
func TestUnitsVerifyStrict(t *testing.T) {
	dest, units := install(t, stubBinary(t))
	// ExecStart= must point at an existing binary: the installed stub, under
	// DESTDIR; the units name /usr/local/bin/cairn.
	for _, u := range units[1:] {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		b = []byte(strings.ReplaceAll(string(b), "ExecStart=/usr/local/bin/cairn ", "ExecStart="+dest+"/usr/local/bin/cairn "))
		if err := os.WriteFile(u, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range verify(t, units) {
		t.Errorf("systemd-analyze verify: %s", l)
	}
}

// TestVerifyCatchesWarnings shows the strict check can fail: a unit with an
// unknown key and a bad Type= verifies with exit code 0 but prints warnings.
func TestVerifyCatchesWarnings(t *testing.T) {
	stub := stubBinary(t)
	bad := filepath.Join(t.TempDir(), "cairn-bad.service")
	unit := "[Unit]\nDescription=bad\n[Service]\nType=notifyy\nBogusKey=1\nExecStart=" + stub + "\n"
	if err := os.WriteFile(bad, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	if lines := verify(t, []string{bad}); len(lines) < 2 {
		t.Fatalf("warnings not reported: %q", lines)
	}
}
