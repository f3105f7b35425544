package taskstat

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// topColumns are the table's metric columns after FRAMEWORK, AGENT, TASK.
var topColumns = []struct{ title, metric string }{
	{"CPU%", "cpu_percent"},
	{"RQ p99", "runqueue_delay_p99_secs"},
	{"MEM", "mem_rss_bytes"},
	{"MEM LIMIT", "mem_limit_bytes"},
	{"RX/s", "net_rx_bytes_per_second"},
	{"TX/s", "net_tx_bytes_per_second"},
	{"TX LIMIT", "net_tx_rate_limit_bytes_per_second"},
}

// Table writes rows as `cairn top`'s table, at most maxRows of them (0:
// all) and a line saying how many more, then one line per agent that did
// not answer. Unmeasured values print as "-".
func Table(w io.Writer, rows []Row, down []Poll, maxRows int) error {
	name := agentNames(rows, down)
	more := 0
	if maxRows > 0 && len(rows) > maxRows {
		rows, more = rows[:maxRows], len(rows)-maxRows
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "FRAMEWORK\tAGENT\tTASK")
	for _, c := range topColumns {
		fmt.Fprint(tw, "\t"+c.title)
	}
	fmt.Fprintln(tw)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s", clean(orDash(r.FrameworkName, r.FrameworkID)), clean(name(r.Agent)), clean(r.TaskID))
		for _, c := range topColumns {
			m, _ := MetricByName(c.metric)
			fmt.Fprint(tw, "\t"+Format(m.Unit, r.Get(c.metric)))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if more > 0 {
		if _, err := fmt.Fprintf(w, "… %d more\n", more); err != nil {
			return err
		}
	}
	for _, p := range down {
		if _, err := fmt.Fprintf(w, "agent %s (%s) unreachable: %v\n", clean(name(p.Agent)), clean(p.Agent.Addr), p.Err); err != nil {
			return err
		}
	}
	return nil
}

// agentNames names agents by hostname, or by address where several
// share one (as the agents of one machine, or of a test cluster, do).
func agentNames(rows []Row, down []Poll) func(Agent) string {
	hosts := map[string]map[string]bool{}
	note := func(a Agent) {
		if hosts[a.Hostname] == nil {
			hosts[a.Hostname] = map[string]bool{}
		}
		hosts[a.Hostname][a.ID] = true
	}
	for _, r := range rows {
		note(r.Agent)
	}
	for _, p := range down {
		note(p.Agent)
	}
	return func(a Agent) string {
		if a.Hostname != "" && len(hosts[a.Hostname]) == 1 {
			return a.Hostname
		}
		return orDash(a.Addr, a.ID)
	}
}

func orDash(a, b string) string {
	switch {
	case a != "":
		return a
	case b != "":
		return b
	}
	return "-"
}

// clean keeps names an agent reports from moving the cursor or breaking
// the table: control characters and tabs become '?'.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// Format prints v in unit u, compactly for a table cell.
func Format(u Unit, v Value) string {
	if !v.OK {
		return "-"
	}
	switch u {
	case Percent:
		return fmt.Sprintf("%.1f", v.V)
	case Seconds:
		return fmtSeconds(v.V)
	case Bytes:
		return fmtBytes(v.V)
	case BytesPerSecond:
		return fmtBytes(v.V)
	case PerSecond:
		return fmtCount(v.V)
	case CPUs:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v.V), "0"), ".")
	}
	return fmt.Sprint(v.V)
}

func fmtBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for math.Abs(b) >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0fB", b)
	}
	return fmt.Sprintf("%.1f%s", b, units[i])
}

func fmtCount(n float64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1fG", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", n/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fk", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}

func fmtSeconds(s float64) string {
	switch {
	case s == 0:
		return "0"
	case s >= 1:
		return fmt.Sprintf("%.2fs", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.1fms", s*1e3)
	}
	return fmt.Sprintf("%.0fµs", s*1e6)
}

// sparkBars are the eight levels of a sparkline, lowest first.
var sparkBars = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws vs in at most width cells, each the mean of the values
// that fall in it, scaled between the smallest and largest cell; a cell
// with no measured value is a space. A flat series draws at the lowest
// level, or the highest when its values are not zero.
func Sparkline(vs []Value, width int) string {
	if width <= 0 || len(vs) == 0 {
		return ""
	}
	n := min(width, len(vs))
	cells := make([]Value, n)
	for i := range n {
		lo, hi := i*len(vs)/n, (i+1)*len(vs)/n
		var sum float64
		var k int
		for _, v := range vs[lo:hi] {
			if v.OK {
				sum += v.V
				k++
			}
		}
		if k > 0 {
			cells[i] = Value{V: sum / float64(k), OK: true}
		}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range cells {
		if c.OK {
			lo, hi = min(lo, c.V), max(hi, c.V)
		}
	}
	var b strings.Builder
	for _, c := range cells {
		switch {
		case !c.OK:
			b.WriteByte(' ')
		case hi == lo && hi != 0:
			b.WriteRune(sparkBars[len(sparkBars)-1])
		case hi == lo:
			b.WriteRune(sparkBars[0])
		default:
			level := int(math.Round((c.V - lo) / (hi - lo) * float64(len(sparkBars)-1)))
			b.WriteRune(sparkBars[min(max(level, 0), len(sparkBars)-1)])
		}
	}
	return b.String()
}
