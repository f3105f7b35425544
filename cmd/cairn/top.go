package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/cairnhq/cairn/api/operator"
	"github.com/cairnhq/cairn/cmd/cairn/internal/taskstat"
	"github.com/cairnhq/cairn/internal/flags"
)

// topOptions are cairn top's flags.
type topOptions struct {
	master   string
	sort     string
	filter   taskstat.Filter
	interval time.Duration
	timeout  time.Duration
	once     bool
	json     bool
}

func runTop(ctx context.Context, args []string) int {
	fs := flags.NewSet("cairn top", os.Stderr)
	var o topOptions
	masterFlag(fs, &o.master)
	fs.String(&o.sort, "sort", "cpu", "order rows by cpu, mem, rx, tx, rq, task, framework or agent")
	fs.String(&o.filter.Framework, "framework", "", "only tasks of frameworks whose id or name begins with this")
	fs.String(&o.filter.Agent, "agent", "", "only tasks on agents whose id, hostname or address begins with this")
	fs.Duration(&o.interval, "interval", time.Second, "time between polls (rates are over this interval)")
	fs.Duration(&o.timeout, "timeout", 2*time.Second, "how long to wait for each agent")
	fs.Bool(&o.once, "once", false, "poll twice, one interval apart, print once and exit")
	fs.Bool(&o.json, "json", false, "print JSON (an array of tasks per round) instead of a table")
	if err := parseNoArgs(fs, args); err != nil {
		return exitCode("top", err)
	}
	if err := taskstat.Sort(nil, o.sort); err != nil {
		return exitCode("top", err)
	}
	if o.interval <= 0 || o.timeout <= 0 {
		return exitCode("top", errors.New("--interval and --timeout must be positive"))
	}
	t := &topper{opts: o, out: os.Stdout, errOut: os.Stderr, http: &http.Client{},
		master: operator.New(o.master, &http.Client{Timeout: 10 * time.Second})}
	if !o.once && !o.json {
		if term, err := openTerminal(os.Stdin, os.Stdout); err == nil {
			defer term.restore()
			t.term = term
		}
	}
	return exitCode("top", t.run(ctx))
}

// topper is one cairn top: it polls rounds and renders each against the
// round before it.
type topper struct {
	opts        topOptions
	out, errOut io.Writer
	http        *http.Client
	master      *operator.Client
	term        *terminal // nil when stdout is not a terminal (or --once, --json)
}

// round asks the master for the agents, then polls them all.
func (t *topper) round(ctx context.Context) (clusterView, []taskstat.Poll, error) {
	mctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	v, err := fetchCluster(mctx, t.master)
	cancel()
	if err != nil {
		return v, nil, err
	}
	return v, pollAgents(ctx, t.http, v.agents, t.opts.timeout), nil
}

func (t *topper) run(ctx context.Context) error {
	var prev []taskstat.Poll
	if t.opts.once {
		_, first, err := t.round(ctx)
		if err != nil {
			return err
		}
		if err := sleep(ctx, t.opts.interval); err != nil {
			return nil
		}
		v, cur, err := t.round(ctx)
		if err != nil {
			return err
		}
		return t.render(v, first, cur, time.Now())
	}
	var keys <-chan byte
	if t.term != nil {
		keys = t.term.keys()
	}
	var shown struct {
		v         clusterView
		prev, cur []taskstat.Poll
	}
	next := time.Now()
	for {
		v, cur, err := t.round(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			// The master may be failing over: say so and keep trying.
			t.clear()
			fmt.Fprintf(t.out, "cairn top: %v\n", err)
		default:
			if err := t.render(v, prev, cur, time.Now()); err != nil {
				return err
			}
			shown.v, shown.prev, shown.cur = v, prev, cur
			prev = cur
		}
		next = next.Add(t.opts.interval)
		if time.Until(next) < 0 {
			next = time.Now() // a slow round: don't try to catch up
		}
		for waiting := true; waiting; {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Until(next)):
				waiting = false
			case k := <-keys:
				if k == 'q' {
					return nil
				}
				if key, ok := sortKeyOf[k]; ok {
					// Re-sort what is on screen now rather than at the next round.
					t.opts.sort = key
					if err := t.render(shown.v, shown.prev, shown.cur, time.Now()); err != nil {
						return err
					}
				}
			}
		}
	}
}

// sortKeyOf maps interactive keys to --sort values.
var sortKeyOf = map[byte]string{'c': "cpu", 'm': "mem", 'r': "rx", 't': "tx", 'd': "rq", 'n': "task", 'f': "framework", 'a': "agent"}

// render prints one round: rows of cur with rates against prev.
func (t *topper) render(v clusterView, prev, cur []taskstat.Poll, now time.Time) error {
	rows, down := taskstat.Rows(prev, cur, v.names)
	rows = t.opts.filter.Apply(rows)
	if err := taskstat.Sort(rows, t.opts.sort); err != nil {
		return err
	}
	if t.opts.json {
		for _, p := range down {
			fmt.Fprintf(t.errOut, "cairn top: agent %s (%s) unreachable: %v\n", p.Agent.ID, p.Agent.Addr, p.Err)
		}
		if rows == nil {
			rows = []taskstat.Row{}
		}
		b, err := json.Marshal(rows)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(t.out, "%s\n", b)
		return err
	}
	t.clear()
	maxRows := 0
	if t.term != nil {
		fmt.Fprintf(t.out, "cairn top  %s  %d tasks on %d agents  sort: %s  (keys: c m r t d n f a, q quits)\n\n",
			now.Format("15:04:05"), len(rows), len(v.agents), t.opts.sort)
		// Keep the header on screen: as many rows as fit under it, the
		// "more" line and the lines about unreachable agents.
		if h := t.term.height(); h > 0 {
			maxRows = max(1, h-5-len(down))
		}
	} else if !t.opts.once {
		fmt.Fprintf(t.out, "\n%s  %d tasks on %d agents\n", now.Format(time.RFC3339), len(rows), len(v.agents))
	}
	return taskstat.Table(t.out, rows, down, maxRows)
}

// clear wipes the terminal before a refresh; a no-op when not a terminal.
func (t *topper) clear() {
	if t.term != nil {
		fmt.Fprint(t.out, "\x1b[H\x1b[2J")
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
