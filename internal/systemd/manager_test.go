package systemd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBooted(t *testing.T) {
	dir := t.TempDir()
	old := runDir
	t.Cleanup(func() { runDir = old })

	runDir = filepath.Join(dir, "system")
	if Booted() {
		t.Error("Booted with no run directory")
	}
	if _, err := ManagerVersion(context.Background()); err == nil || !strings.Contains(err.Error(), "not the init system") {
		t.Errorf("ManagerVersion without systemd: %v, want not the init system", err)
	}
	// sd_booted(3) wants a directory, not just any file.
	if err := os.WriteFile(runDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if Booted() {
		t.Error("Booted with a file for the run directory")
	}
	if err := os.Remove(runDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if !Booted() {
		t.Error("not Booted with the run directory present")
	}
}

func TestScopeProperties(t *testing.T) {
	props := ScopeProperties()
	if len(props) != 1 || props[0].Name != "CollectMode" || props[0].Value.Value() != "inactive-or-failed" {
		t.Errorf("ScopeProperties = %+v", props)
	}
}
