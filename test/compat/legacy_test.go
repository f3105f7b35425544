package compat

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// snapshotKeys are the /metrics/snapshot keys the reference lists.
var snapshotKeys = func() []string {
	keys := []string{"master/elected", "master/uptime_secs", "master/outstanding_offers",
		"allocator/mesos/allocation_runs", "allocator/mesos/allocation_run_ms",
		"allocator/mesos/allocation_run_ms/count", "allocator/mesos/allocation_run_ms/p50",
		"allocator/mesos/allocation_run_ms/p90", "allocator/mesos/allocation_run_ms/p99",
		"system/cpus_total", "system/load_1min", "system/mem_total_bytes", "system/mem_free_bytes"}
	for _, r := range []string{"cpus", "mem", "disk", "gpus"} {
		keys = append(keys, "master/"+r+"_total", "master/"+r+"_used", "master/"+r+"_percent")
	}
	for _, s := range []string{"active", "connected", "disconnected", "inactive", "unreachable"} {
		keys = append(keys, "master/slaves_"+s)
	}
	for _, s := range []string{"active", "connected", "disconnected", "inactive"} {
		keys = append(keys, "master/frameworks_"+s)
	}
	for _, s := range []string{"staging", "starting", "running", "killing", "finished", "failed", "killed", "lost",
		"error", "dropped", "unreachable", "gone", "gone_by_operator"} {
		keys = append(keys, "master/tasks_"+s)
	}
	return keys
}()

func TestMetricsSnapshot(t *testing.T) {
	c := startCluster(t)
	for _, p := range []string{"/metrics/snapshot", "/master/metrics/snapshot"} {
		r := get(t, c.base+p)
		if r.status != 200 || r.header.Get("Content-Type") != ctJSON {
			t.Fatalf("%s: %d %q", p, r.status, r.header.Get("Content-Type"))
		}
		var snap map[string]any
		if err := json.Unmarshal(r.body, &snap); err != nil {
			t.Fatal(err)
		}
		for _, k := range snapshotKeys {
			if _, ok := snap[k].(float64); !ok {
				t.Errorf("%s: %s missing or not a number", p, k)
			}
		}
		for k, v := range snap {
			if _, ok := v.(float64); !ok {
				t.Errorf("%s: %s = %v is not a number", p, k, v)
			}
		}
		if snap["master/elected"] != 1.0 || snap["master/slaves_active"] != 1.0 || snap["master/cpus_total"] != 4.0 ||
			snap["system/cpus_total"].(float64) < 1 || snap["system/mem_total_bytes"].(float64) <= 0 ||
			snap["allocator/mesos/allocation_runs"].(float64) < 1 {
			t.Errorf("%s: implausible values %v", p, snap)
		}
	}
}

func TestLegacyState(t *testing.T) {
	c := startCluster(t)
	subscribeJSONStream(t, c, `,"failover_timeout":60`)
	for _, p := range []string{"/state", "/master/state", "/state.json"} {
		r := get(t, c.base+p)
		if r.status != 200 || r.header.Get("Content-Type") != ctJSON {
			t.Fatalf("%s: %d", p, r.status)
		}
		st := jsonObj(t, r.body)
		for _, k := range []string{"version", "id", "pid", "hostname", "leader", "leader_info", "start_time",
			"elected_time", "activated_slaves", "slaves", "frameworks", "completed_frameworks", "flags"} {
			if _, ok := st[k]; !ok {
				t.Errorf("%s lacks %q", p, k)
			}
		}
		if !strings.HasPrefix(str(st["pid"]), "master@") || st["leader"] != st["pid"] {
			t.Errorf("%s: pid %v leader %v", p, st["pid"], st["leader"])
		}
		fw, _ := path(st, "frameworks", 0).(map[string]any)
		if _, has := fw["pid"]; has {
			t.Errorf("%s: an HTTP framework has a pid key: %v", p, fw)
		}
		res, _ := path(st, "slaves", 0, "resources").(map[string]any)
		if res["ports"] != "[31000-32000]" || fmt.Sprint(res["cpus"]) != "4" {
			t.Errorf("%s: flat resources = %v", p, res)
		}
		if path(st, "flags", "quorum") != "1" {
			t.Errorf("%s: flags = %v", p, st["flags"])
		}
	}
}

func TestLegacyEndpoints(t *testing.T) {
	c := startCluster(t)
	s, sid, fid := subscribeJSONStream(t, c, `,"failover_timeout":60`)
	o := path(nextJSON(t, s, "OFFERS"), "offers", "offers", 0)
	for i := range 3 {
		accept := fmt.Sprintf(`{"type":"ACCEPT","framework_id":{"value":%q},"accept":{"offer_ids":[{"value":%q}],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"x","task_id":{"value":"t%d"},"agent_id":{"value":%q},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}}],"command":{"value":"sleep"}}]}}],"filters":{"refuse_seconds":0}}}`,
			fid, str(path(o, "id", "value")), i, str(path(o, "agent_id", "value")))
		if r := post(t, c.base+"/api/v1/scheduler", ctJSON, "", sid, []byte(accept)); r.status != 202 {
			t.Fatalf("accept: %d %s", r.status, r.body)
		}
		o = path(nextJSON(t, s, "OFFERS"), "offers", "offers", 0)
	}
	// Wait until every task reported its first status (its start time, by
	// which /tasks sorts).
	for deadline := time.Now().Add(10 * time.Second); ; {
		list, _ := jsonObj(t, get(t, c.base+"/tasks").body)["tasks"].([]any)
		started := 0
		for _, tk := range list {
			if st, _ := path(tk, "statuses").([]any); len(st) > 0 {
				started++
			}
		}
		if started == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tasks not started: %v", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, prefix := range []string{"", "/master"} {
		if r := get(t, c.base+prefix+"/health"); r.status != 200 {
			t.Errorf("%s/health: %d", prefix, r.status)
		}
		if v := jsonObj(t, get(t, c.base+prefix+"/version").body); str(v["version"]) == "" {
			t.Errorf("%s/version = %v", prefix, v)
		}
		if f := jsonObj(t, get(t, c.base+prefix+"/flags").body); path(f, "flags", "port") != "0" {
			t.Errorf("%s/flags = %v", prefix, f)
		}
		if sl := jsonObj(t, get(t, c.base+prefix+"/slaves").body); str(path(sl, "slaves", 0, "id")) != c.agent.agentID() {
			t.Errorf("%s/slaves = %v", prefix, sl)
		}
		if fw := jsonObj(t, get(t, c.base+prefix+"/frameworks").body); str(path(fw, "frameworks", 0, "id")) != fid {
			t.Errorf("%s/frameworks = %v", prefix, fw)
		}
		if ro := jsonObj(t, get(t, c.base+prefix+"/roles").body); path(ro, "roles", 0, "name") != "*" {
			t.Errorf("%s/roles = %v", prefix, ro)
		}
		tasks := jsonObj(t, get(t, c.base+prefix+"/tasks?limit=2&offset=0&order=asc").body)
		if list, _ := tasks["tasks"].([]any); len(list) != 2 || str(path(list, 0, "id")) != "t0" {
			t.Errorf("%s/tasks?limit=2&order=asc = %v", prefix, tasks)
		}
		tasks = jsonObj(t, get(t, c.base+prefix+"/tasks?limit=5&offset=1").body)
		if list, _ := tasks["tasks"].([]any); len(list) != 2 || str(path(list, 0, "id")) != "t1" {
			t.Errorf("%s/tasks?offset=1 (descending) = %v", prefix, tasks)
		}
		if r := get(t, c.base+prefix+"/tasks?limit=x"); r.status != 400 {
			t.Errorf("%s/tasks?limit=x: %d", prefix, r.status)
		}
		r := get(t, c.base+prefix+"/redirect")
		if r.status != 307 || !strings.HasPrefix(r.header.Get("Location"), "//compat-master:") {
			t.Errorf("%s/redirect: %d Location %q", prefix, r.status, r.header.Get("Location"))
		}
	}
	if r := get(t, c.base+"/teardown"); r.status != 405 {
		t.Errorf("GET /teardown: %d", r.status)
	}
	form := "application/x-www-form-urlencoded"
	if r := post(t, c.base+"/master/teardown", form, "", "", []byte("frameworkId=nope")); r.status != 400 {
		t.Errorf("teardown of an unknown framework: %d", r.status)
	}
	if r := post(t, c.base+"/master/teardown", form, "", "", []byte("frameworkId="+url.QueryEscape(fid))); r.status != 200 {
		t.Fatalf("teardown: %d %s", r.status, r.body)
	}
	c.agent.waitFor(t, "shutdown_framework")
	st := jsonObj(t, get(t, c.base+"/state").body)
	if str(path(st, "completed_frameworks", 0, "id")) != fid || path(st, "completed_frameworks", 0, "completed_tasks", 0, "state") != "TASK_KILLED" {
		t.Errorf("after teardown: %v", st["completed_frameworks"])
	}
}
