package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// result is the benchmark's outcome; its JSON form is what --json prints.
type result struct {
	Tasks    int `json:"tasks"`
	Finished int `json:"finished"`
	// Failed counts tasks that ended in any terminal state but
	// TASK_FINISHED; FirstFailure says how one of them ended.
	Failed       int    `json:"failed"`
	FirstFailure string `json:"first_failure,omitempty"`
	// Seconds is from the first ACCEPT sent to the last TASK_FINISHED
	// received; TasksPerSecond is Tasks divided by it.
	Seconds        float64 `json:"seconds"`
	TasksPerSecond float64 `json:"tasks_per_second"`
	// Latencies from a task's ACCEPT to its TASK_RUNNING and to its
	// TASK_FINISHED, over the tasks that got there.
	ToRunning  latency `json:"accept_to_running_ms"`
	ToFinished latency `json:"accept_to_finished_ms"`
}

// latency is a distribution in milliseconds.
type latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func summarize(tasks []*taskTimes) *result {
	r := &result{Tasks: len(tasks)}
	var first, last time.Time
	var toRunning, toFinished []time.Duration
	for _, t := range tasks {
		if t == nil {
			continue
		}
		if first.IsZero() || t.accepted.Before(first) {
			first = t.accepted
		}
		if !t.running.IsZero() {
			toRunning = append(toRunning, t.running.Sub(t.accepted))
		}
		if !t.finished.IsZero() {
			r.Finished++
			toFinished = append(toFinished, t.finished.Sub(t.accepted))
			if t.finished.After(last) {
				last = t.finished
			}
		} else if t.state.Terminal() {
			r.Failed++
			if r.FirstFailure == "" {
				r.FirstFailure = fmt.Sprintf("%s: %s", t.state, t.message)
			}
		}
	}
	if !last.IsZero() {
		r.Seconds = last.Sub(first).Seconds()
		r.TasksPerSecond = float64(r.Tasks) / r.Seconds
	}
	r.ToRunning, r.ToFinished = distribution(toRunning), distribution(toFinished)
	return r
}

// distribution takes nearest-rank percentiles.
func distribution(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	slices.Sort(ds)
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(ds)))) - 1
		return ms(ds[max(i, 0)])
	}
	return latency{N: len(ds), P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: ms(ds[len(ds)-1])}
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e4) / 100 }

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "tasks:           %d launched, %d finished, %d failed\n", r.Tasks, r.Finished, r.Failed)
	if r.FirstFailure != "" {
		fmt.Fprintf(w, "first failure:   %s\n", r.FirstFailure)
	}
	fmt.Fprintf(w, "throughput:      %.1f tasks/s (%.2f s from the first ACCEPT to the last TASK_FINISHED)\n", r.TasksPerSecond, r.Seconds)
	for _, l := range []struct {
		name string
		d    latency
	}{{"accept→RUNNING", r.ToRunning}, {"accept→FINISHED", r.ToFinished}} {
		fmt.Fprintf(w, "%-16s p50 %7.1f ms  p90 %7.1f ms  p99 %7.1f ms  max %7.1f ms  (n=%d)\n", l.name+":", l.d.P50, l.d.P90, l.d.P99, l.d.Max, l.d.N)
	}
}
