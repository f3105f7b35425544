package allocator

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/resources"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/*.txt with the actual output")

// TestScripts runs the golden scripts in testdata. A script is a list of
// blocks: command lines, a "----" line, the expected output, a blank line.
// Lines starting with '#' before "----" are comments. With -rewrite the
// expected outputs are replaced by what the allocator does.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts in testdata: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runScript(t, file)
		})
	}
}

type block struct {
	line     int
	commands []string // including comments
	want     string
}

func parseScript(t *testing.T, text string) []block {
	var blocks []block
	var cur *block
	inOutput := false
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		switch {
		case inOutput && line == "":
			inOutput, cur = false, nil
		case inOutput:
			cur.want += line + "\n"
		case line == "----":
			if cur == nil {
				t.Fatalf("line %d: ---- without commands", i+1)
			}
			inOutput = true
		case line == "":
			if cur != nil {
				t.Fatalf("line %d: blank line before ----", i+1)
			}
		default:
			if cur == nil {
				blocks = append(blocks, block{line: i + 1})
				cur = &blocks[len(blocks)-1]
			}
			cur.commands = append(cur.commands, line)
		}
	}
	if cur != nil && !inOutput {
		t.Fatalf("script ends inside a block without ----")
	}
	return blocks
}

func runScript(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	blocks := parseScript(t, string(data))
	h := &harness{t: t, now: time.Unix(0, 0).UTC()}
	var rewritten strings.Builder
	for _, b := range blocks {
		var got strings.Builder
		for _, cmd := range b.commands {
			if strings.HasPrefix(cmd, "#") {
				continue
			}
			got.WriteString(h.run(cmd))
			if h.a != nil {
				if err := checkInvariants(h.a); err != nil {
					t.Fatalf("%s:%d: after %q: %v", file, b.line, cmd, err)
				}
			}
		}
		if *rewrite {
			rewritten.WriteString(strings.Join(b.commands, "\n") + "\n----\n" + got.String() + "\n")
			continue
		}
		if got.String() != b.want {
			t.Errorf("%s:%d: %s\ngot:\n%swant:\n%s", file, b.line, strings.Join(b.commands, "\n"), got.String(), b.want)
		}
	}
	if *rewrite {
		out := strings.TrimSuffix(rewritten.String(), "\n")
		if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// harness executes script commands against one allocator.
type harness struct {
	t   *testing.T
	a   *Allocator
	now time.Time
}

// args splits a command into positional arguments and key=value options.
// Resources never contain '=', so the split is unambiguous.
type args struct {
	pos  []string
	opts map[string][]string
}

func (g args) opt(key, def string) string {
	if v := g.opts[key]; len(v) > 0 {
		return v[len(v)-1]
	}
	return def
}

func (g args) has(flag string) bool {
	_, ok := g.opts[flag]
	return ok
}

func splitArgs(fields []string) args {
	g := args{opts: make(map[string][]string)}
	for _, f := range fields {
		if k, v, ok := strings.Cut(f, "="); ok {
			g.opts[k] = append(g.opts[k], v)
		} else if f == "inactive" || f == "gpu" || f == "force" || f == "noshuffle" {
			g.opts[f] = nil
		} else {
			g.pos = append(g.pos, f)
		}
	}
	return g
}

func (h *harness) run(line string) string {
	fields := strings.Fields(line)
	cmd, g := fields[0], splitArgs(fields[1:])
	if v := g.opt("now", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Sprintf("bad now=%s: %v\n", v, err)
		}
		h.now = time.Unix(0, 0).UTC().Add(d)
	}
	if h.a == nil && cmd != "config" {
		h.a = mustNew(h.t, Config{AllocationInterval: time.Second})
	}
	out, err := h.exec(cmd, g)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	return out
}

func mustNew(t testing.TB, cfg Config) *Allocator {
	a, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return a
}

func (h *harness) exec(cmd string, g args) (string, error) {
	pos := func(i int) string {
		if i < len(g.pos) {
			return g.pos[i]
		}
		return ""
	}
	switch cmd {
	case "config":
		cfg := Config{AllocationInterval: time.Second, Shuffle: g.has("seed")}
		if v := g.opt("interval", ""); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return "", err
			}
			cfg.AllocationInterval = d
		}
		if v, ok := g.opts["min"]; ok {
			m, err := ParseMinAllocatable(v[0])
			if err != nil {
				return "", err
			}
			cfg.MinAllocatable = m
		}
		if g.has("seed") {
			seed, err := strconv.ParseUint(g.opt("seed", ""), 10, 64)
			if err != nil {
				return "", err
			}
			cfg.Seed = seed
		}
		cfg.Shuffle = g.has("seed") && !g.has("noshuffle")
		cfg.RoleSorter, cfg.FrameworkSorter = g.opt("roles", ""), g.opt("frameworks", "")
		if v := g.opt("weights", ""); v != "" {
			w, err := ParseWeights(v)
			if err != nil {
				return "", err
			}
			cfg.Weights = w
		}
		a, err := New(cfg)
		if err != nil {
			return "", err
		}
		h.a = a
		return "", nil
	case "tick":
		d, err := time.ParseDuration(pos(0))
		if err != nil {
			return "", err
		}
		h.now = h.now.Add(d)
		return "", nil
	case "add-agent":
		used, err := parseUsed(g.opts["used"], func(key string, u *Allocation) { u.Framework = ids.FrameworkID(key) })
		if err != nil {
			return "", err
		}
		total, err := resources.Parse(pos(1))
		if err != nil {
			return "", err
		}
		if err := h.a.AddAgent(ids.AgentID(pos(0)), AgentInfo{Hostname: pos(0), Total: total}, used); err != nil {
			return "", err
		}
		if g.has("inactive") {
			return "", h.a.DeactivateAgent(ids.AgentID(pos(0)))
		}
		return "", nil
	case "update-agent":
		total, err := resources.Parse(pos(1))
		if err != nil {
			return "", err
		}
		return "", h.a.UpdateAgent(ids.AgentID(pos(0)), AgentInfo{Hostname: pos(0), Total: total})
	case "remove-agent":
		return "", h.a.RemoveAgent(ids.AgentID(pos(0)))
	case "deactivate-agent":
		return "", h.a.DeactivateAgent(ids.AgentID(pos(0)))
	case "activate-agent":
		return "", h.a.ActivateAgent(ids.AgentID(pos(0)))
	case "add-framework":
		used, err := parseUsed(g.opts["used"], func(key string, u *Allocation) { u.Agent = ids.AgentID(key) })
		if err != nil {
			return "", err
		}
		return "", h.a.AddFramework(ids.FrameworkID(pos(0)), frameworkInfo(g), used, !g.has("inactive"))
	case "update-framework":
		return "", h.a.UpdateFramework(ids.FrameworkID(pos(0)), frameworkInfo(g))
	case "remove-framework":
		return "", h.a.RemoveFramework(ids.FrameworkID(pos(0)))
	case "deactivate-framework":
		return "", h.a.DeactivateFramework(ids.FrameworkID(pos(0)))
	case "activate-framework":
		return "", h.a.ActivateFramework(ids.FrameworkID(pos(0)))
	case "suppress":
		return "", h.a.Suppress(ids.FrameworkID(pos(0)), g.pos[1:])
	case "revive":
		return "", h.a.Revive(ids.FrameworkID(pos(0)), g.pos[1:])
	case "allocate":
		return formatAllocations(h.a.Allocate(h.now)), nil
	case "decline", "recover":
		return "", h.recover(cmd, g)
	case "stats":
		return formatStats(h.a), nil
	case "agent":
		return formatAgent(h.a, ids.AgentID(pos(0))), nil
	case "framework":
		return formatFramework(h.a, ids.FrameworkID(pos(0))), nil
	case "roles":
		return formatRoles(h.a), nil
	case "weights":
		if len(g.opts) == 0 {
			return formatWeights(h.a.Weights()), nil
		}
		w := map[string]float64{}
		for role, v := range g.opts {
			f, err := strconv.ParseFloat(v[len(v)-1], 64)
			if err != nil {
				return "", err
			}
			w[role] = f
		}
		return "", h.a.UpdateWeights(w)
	case "quota":
		return "", h.quota(g)
	case "quotas":
		return formatQuotas(h.a.Quotas()), nil
	case "reserve", "unreserve":
		op, err := operation(cmd, pos(1))
		if err != nil {
			return "", err
		}
		return "", h.a.UpdateAvailable(ids.AgentID(pos(0)), []Operation{op})
	case "reserve-offer", "unreserve-offer":
		return h.updateAllocation(cmd, g)
	case "rescind":
		return h.rescind(), nil
	}
	return "", fmt.Errorf("unknown command %q", cmd)
}

// recover runs "decline fw agent [resources] [role=r] [refuse=seconds]" (a
// filter, 5 s unless refuse= says otherwise) or "recover fw agent
// [resources] [role=r]" (no filter). Without resources it gives back the
// whole holding.
func (h *harness) recover(cmd string, g args) error {
	al := Allocation{Framework: ids.FrameworkID(g.pos[0]), Agent: ids.AgentID(g.pos[1]), Role: g.opt("role", "")}
	if len(g.pos) > 2 {
		res, err := resources.Parse(g.pos[2])
		if err != nil {
			return err
		}
		al.Resources = res
	} else if st, ok := h.a.Agent(al.Agent); ok {
		for _, hd := range st.Holdings {
			if hd.Framework == al.Framework && (al.Role == "" || hd.Role == al.Role) {
				al.Resources = al.Resources.Add(hd.Resources)
			}
		}
	}
	var f *Filter
	if cmd == "decline" {
		f = &Filter{RefuseSeconds: 5}
		if v := g.opt("refuse", ""); v != "" {
			s, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return err
			}
			f.RefuseSeconds = s
		}
	}
	return h.a.Recover(al, f, h.now)
}

func frameworkInfo(g args) FrameworkInfo {
	info := FrameworkInfo{Capabilities: Capabilities{GPUResources: g.has("gpu")}}
	if v := g.opt("roles", ""); v != "" {
		info.Roles = strings.Split(v, ",")
	}
	if v := g.opt("suppressed", ""); v != "" {
		info.SuppressedRoles = strings.Split(v, ",")
	}
	return info
}

// parseUsed reads used=<id>[@role]=<resources> options.
func parseUsed(vals []string, setID func(string, *Allocation)) ([]Allocation, error) {
	var out []Allocation
	for _, v := range vals {
		key, res, ok := strings.Cut(v, "=")
		if !ok {
			return nil, fmt.Errorf("used=%s: want used=<id>[@role]=<resources>", v)
		}
		id, role, _ := strings.Cut(key, "@")
		if role == "" {
			role = resources.Unreserved
		}
		rs, err := resources.Parse(res)
		if err != nil {
			return nil, err
		}
		u := Allocation{Role: role, Resources: rs}
		setID(id, &u)
		out = append(out, u)
	}
	return out, nil
}
