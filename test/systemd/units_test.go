package systemd

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const unitDir = "../../deploy/systemd"

// unit is a parsed unit file: section → key → values in order (a key may
// repeat, as After= does).
type unit map[string]map[string][]string

func readUnit(t *testing.T, name string) unit {
	t.Helper()
	f, err := os.Open(filepath.Join(unitDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	var section string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s: bad line %q", name, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// get returns the last value of key (the one systemd uses), split into words
// for list settings.
func (u unit) get(section, key string) string {
	vs := u[section][key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

func (u unit) words(section, key string) []string {
	var w []string
	for _, v := range u[section][key] {
		w = append(w, strings.Fields(v)...)
	}
	return w
}

// TestUnitSettings pins what issue 7 asks of the units, so that an edit that
// drops one of them fails here and not on an operator's machine.
func TestUnitSettings(t *testing.T) {
	for _, tc := range []struct{ file, verb string }{
		{"cairn-master.service", "master"},
		{"cairn-agent.service", "agent"},
	} {
		t.Run(tc.verb, func(t *testing.T) {
			u := readUnit(t, tc.file)
			want := map[string]string{
				"Type":            "notify",
				"NotifyAccess":    "main",
				"ExecStart":       "/usr/local/bin/cairn " + tc.verb,
				"EnvironmentFile": "-/etc/default/cairn-" + tc.verb,
				"Restart":         "on-failure",
				"Slice":           "cairn.slice",
			}
			if tc.verb == "agent" {
				// Tasks must survive `systemctl restart cairn-agent`.
				want["KillMode"] = "process"
				want["Delegate"] = "yes"
			}
			for k, v := range want {
				if got := u.get("Service", k); got != v {
					t.Errorf("[Service] %s=%q, want %q", k, got, v)
				}
			}
			if n, err := strconv.Atoi(u.get("Service", "LimitNOFILE")); err != nil || n < 65536 {
				t.Errorf("LimitNOFILE=%q, want a number ≥ 65536", u.get("Service", "LimitNOFILE"))
			}
			if u.get("Service", "WatchdogSec") == "" {
				t.Error("no WatchdogSec=")
			}
			for _, k := range []string{"Wants", "After"} {
				if !slices.Contains(u.words("Unit", k), "network-online.target") {
					t.Errorf("[Unit] %s= lacks network-online.target", k)
				}
			}
			if u.get("Install", "WantedBy") != "multi-user.target" {
				t.Error("not WantedBy=multi-user.target")
			}
		})
	}
}

// TestDefaultFilesOnlyCairnVariables checks the example environment files
// set nothing but CAIRN_<FLAG> variables, which is all cairn reads.
func TestDefaultFilesOnlyCairnVariables(t *testing.T) {
	for _, name := range []string{"cairn-master", "cairn-agent"} {
		b, err := os.ReadFile(filepath.Join("../../deploy/default", name))
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(b)) {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, _, ok := strings.Cut(line, "=")
			if !ok || !strings.HasPrefix(k, "CAIRN_") || k != strings.ToUpper(k) {
				t.Errorf("%s: %q is not a CAIRN_<FLAG>= setting", name, line)
			}
		}
	}
}
