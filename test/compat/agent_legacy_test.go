package compat

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAgentLegacyEndpoints checks the agent's JSON endpoints tools scrape,
// bare and under /slave(1): /state, /flags, /health, /metrics/snapshot,
// /monitor/statistics, /containers and /files/browse|read|download, which
// never serve outside a sandbox.
func TestAgentLegacyEndpoints(t *testing.T) {
	s := startAgentScene(t)
	for _, prefix := range []string{"", "/slave(1)"} {
		base := s.ra.base + prefix
		st := jsonObj(t, mustGetJSON(t, base+"/state"))
		if str(st["id"]) != s.ra.id || !strings.HasPrefix(str(st["pid"]), "slave(1)@") || st["resources"] == nil {
			t.Errorf("%s/state: %v", prefix, st)
		}
		if fl := jsonObj(t, mustGetJSON(t, base+"/flags")); path(fl, "flags", "work_dir") == nil {
			t.Errorf("%s/flags: %v", prefix, fl)
		}
		if r := get(t, base+"/health"); r.status != 200 {
			t.Errorf("%s/health: %d", prefix, r.status)
		}
		snap := jsonObj(t, mustGetJSON(t, base+"/metrics/snapshot"))
		for _, k := range []string{"slave/cpus_total", "slave/cpus_used", "slave/cpus_percent", "slave/mem_total", "slave/mem_used",
			"slave/mem_percent", "slave/disk_total", "slave/disk_used", "slave/disk_percent", "slave/gpus_total", "slave/registered",
			"slave/uptime_secs", "slave/tasks_running", "slave/tasks_staging", "slave/executors_running", "slave/frameworks_active",
			"slave/recovery_errors", "slave/tasks_finished", "slave/tasks_failed", "slave/tasks_killed", "slave/tasks_lost",
			"slave/container_launch_errors"} {
			if _, ok := snap[k]; !ok {
				t.Errorf("%s/metrics/snapshot lacks %s", prefix, k)
			}
		}
		if snap["slave/registered"] != jsonNumber("1") || snap["slave/tasks_running"] != jsonNumber("1") {
			t.Errorf("%s/metrics/snapshot: registered %v, tasks_running %v", prefix, snap["slave/registered"], snap["slave/tasks_running"])
		}

		// /monitor/statistics fills in at the first sampling round, the
		// sandboxes' sizes soon after.
		var stats []any
		deadline := time.Now().Add(10 * time.Second)
		for !(len(stats) == 2 && path(stats[0], "statistics", "disk_used_bytes") != nil && path(stats[1], "statistics", "disk_used_bytes") != nil) &&
			time.Now().Before(deadline) {
			stats = asList(jsonValue(t, mustGetJSON(t, base+"/monitor/statistics")))
			time.Sleep(100 * time.Millisecond)
		}
		if len(stats) != 2 {
			t.Fatalf("%s/monitor/statistics: %v", prefix, stats)
		}
		for _, e := range stats {
			if str(path(e, "framework_id")) != s.fw || str(path(e, "executor_id")) == "" || path(e, "source") == nil ||
				path(e, "executor_name") == nil || path(e, "statistics", "timestamp") == nil {
				t.Errorf("%s/monitor/statistics entry %v", prefix, e)
			}
			checkMemDiskKeys(t, prefix, e)
		}
		cs := asList(jsonValue(t, mustGetJSON(t, base+"/containers")))
		if len(cs) != 2 {
			t.Fatalf("%s/containers: %v", prefix, cs)
		}
		for _, c := range cs {
			if str(path(c, "container_id")) == "" || str(path(c, "framework_id")) != s.fw || str(path(c, "executor_id")) == "" {
				t.Errorf("%s/containers entry %v", prefix, c)
			}
			if _, ok := path(c, "statistics").(map[string]any); !ok {
				t.Errorf("%s/containers statistics not an object: %v", prefix, c)
			}
		}
	}

	// /files: browse, read and download a sandbox file, by absolute and
	// by virtual path.
	if err := os.WriteFile(filepath.Join(s.sbox, "note.txt"), []byte("hello files"), 0o644); err != nil {
		t.Fatal(err)
	}
	virtual := "/frameworks/" + s.fw + "/executors/exec-run/runs/latest"
	for _, dir := range []string{s.sbox, virtual} {
		q := url.QueryEscape(dir)
		list := asList(jsonValue(t, mustGetJSON(t, s.ra.base+"/files/browse?path="+q)))
		if !hasPath(list, dir+"/note.txt") {
			t.Errorf("browse %s: %v", dir, list)
		}
		rd := jsonObj(t, mustGetJSON(t, s.ra.base+"/slave(1)/files/read?offset=6&path="+url.QueryEscape(dir+"/note.txt")))
		if str(rd["data"]) != "files" || rd["offset"] != jsonNumber("6") {
			t.Errorf("read %s: %v", dir, rd)
		}
		if r := get(t, s.ra.base+"/files/download?path="+url.QueryEscape(dir+"/note.txt")); r.status != 200 || string(r.body) != "hello files" {
			t.Errorf("download %s: %d %q", dir, r.status, r.body)
		}
	}
	// Never outside a sandbox: .., absolute paths elsewhere, symlinks out.
	if err := os.Symlink("/etc", filepath.Join(s.sbox, "etc-link")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/etc/passwd", s.sbox + "/../../../../../../../meta/agent_id", s.sbox + "/etc-link/passwd",
		virtual + "/../../../../../../meta/agent_id", "etc/passwd", ""} {
		for _, ep := range []string{"browse", "read", "download"} {
			r := get(t, s.ra.base+"/files/"+ep+"?offset=0&path="+url.QueryEscape(p))
			if r.status < 400 || r.status >= 500 {
				t.Errorf("/files/%s %q: %d %q", ep, p, r.status, r.body)
			}
		}
	}
}

func mustGetJSON(t *testing.T, u string) []byte {
	t.Helper()
	r := get(t, u)
	if r.status != 200 {
		t.Fatalf("GET %s: %d %q", u, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != ctJSON {
		t.Errorf("GET %s: Content-Type %q", u, ct)
	}
	return r.body
}

// jsonValue decodes any JSON document, numbers as json.Number.
func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode JSON %q: %v", b, err)
	}
	return v
}

func jsonNumber(s string) json.Number { return json.Number(s) }

// checkMemDiskKeys checks the memory and disk keys of a /monitor/statistics
// entry. The scene's containerizer is the fake (no cgroups): the soft limit
// and unevictable memory read 0 and memory pressure is not counted, so the
// pressure counters, when present, need only be consistent (the agent's
// kernel test checks them, and the soft limit, on real cgroups). The disk
// figures are real: exec-silent asks for 16 MB and task quiet for none;
// every sandbox holds at least its own directory.
func checkMemDiskKeys(t *testing.T, prefix string, e any) {
	t.Helper()
	st, _ := path(e, "statistics").(map[string]any)
	for _, k := range []string{"mem_soft_limit_bytes", "mem_unevictable_bytes", "disk_used_bytes"} {
		if _, ok := st[k].(json.Number); !ok {
			t.Errorf("%s/monitor/statistics lacks %s: %v", prefix, k, st)
		}
	}
	num := func(k string) float64 {
		v, _ := st[k].(json.Number).Float64()
		return v
	}
	if used := num("disk_used_bytes"); used < 4096 || used > 100<<20 {
		t.Errorf("%s/monitor/statistics: disk_used_bytes %v", prefix, used)
	}
	wantLimit := 0.0
	if str(path(e, "executor_id")) == "exec-silent" {
		wantLimit = 16 << 20
	}
	if lim, has := st["disk_limit_bytes"]; (wantLimit == 0) == has || (has && num("disk_limit_bytes") != wantLimit) {
		t.Errorf("%s/monitor/statistics of %v: disk_limit_bytes %v, want %v", prefix, path(e, "executor_id"), lim, wantLimit)
	}
	if _, has := st["mem_low_pressure_counter"]; has &&
		(num("mem_low_pressure_counter") < num("mem_medium_pressure_counter") || num("mem_medium_pressure_counter") < num("mem_critical_pressure_counter")) {
		t.Errorf("%s/monitor/statistics: pressure counters out of order: %v", prefix, st)
	}
}
