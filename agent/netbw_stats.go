package agent

import (
	"fmt"

	"github.com/cairnhq/cairn/agent/usage"
	"github.com/cairnhq/cairn/ids"
	"github.com/cairnhq/cairn/isolators/netbw"
	"github.com/prometheus/client_golang/prometheus"
)

// egressClassID names a framework's class on the egress interface in
// net_traffic_control_statistics. The class is the framework's: every
// container of the framework on this agent shows the same counters.
const egressClassID = "egress"

// The classes on the veth of a task with its own network namespace: what
// it sends (its end's egress) and what it receives (the host end's).
const (
	taskTxClassID = "veth_tx"
	taskRxClassID = "veth_rx"
)

// bandwidthStats is the usage.ShapingSource of bandwidth isolation: per
// container its request as net_tx_rate_limit (bytes/s) and its framework's
// class, from one read of the classes per round.
type bandwidthStats struct{ b *bandwidth }

func (s bandwidthStats) Shaping(targets []usage.Target) (map[ids.ContainerID]usage.Shaping, error) {
	classes, err := s.b.shaper.Stats()
	if err != nil {
		return nil, fmt.Errorf("read bandwidth classes: %w", err)
	}
	byFw := make(map[ids.FrameworkID]netbw.ClassStats, len(classes))
	for _, c := range classes {
		if c.Framework != "" {
			byFw[c.Framework] = c
		}
	}
	out := map[ids.ContainerID]usage.Shaping{}
	for _, t := range targets {
		var sh usage.Shaping
		fw, mbps := s.b.containerLimit(t.Container)
		if mbps > 0 {
			sh.TxRateLimit = mbpsToBytes(mbps)
			if c, ok := byFw[fw]; ok {
				sh.Classes = append(sh.Classes, trafficClass(egressClassID, c))
			}
		}
		// A task with its own namespace is limited both ways on its veth:
		// those classes are its own, and their rates are its limits.
		if rx, tx, ok := s.b.netStats(t.Container); ok {
			sh.TxRateLimit, sh.RxRateLimit = tx.Rate/8, rx.Rate/8
			sh.Classes = append(sh.Classes, trafficClass(taskTxClassID, tx), trafficClass(taskRxClassID, rx))
		}
		if sh.TxRateLimit > 0 || len(sh.Classes) > 0 {
			out[t.Container] = sh
		}
	}
	return out, nil
}

// mbpsToBytes turns Mbit/s into bytes/s, Mesos's unit for rate limits.
func mbpsToBytes(mbps float64) uint64 { return uint64(mbps * 1e6 / 8) }

func trafficClass(id string, c netbw.ClassStats) usage.TrafficClass {
	return usage.TrafficClass{ID: id, Backlog: c.Backlog, Bytes: c.Bytes, Drops: c.Drops,
		Overlimits: c.Overlimits, Packets: c.Packets, Qlen: c.Qlen, Requeues: c.Requeues}
}

// bandwidthCollector exports the HTB classes at scrape time, one series
// per class labelled with its framework ("" for the default class: the
// host and tasks without a request).
type bandwidthCollector struct{ a *Agent }

func netbwDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("cairn_netbw_class_"+name, help, []string{"framework_id"}, nil)
}

var netbwMetrics = []struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	value func(c *netbw.ClassStats) float64
}{
	{netbwDesc("rate_bits_per_second", "Guaranteed rate of the class: the sum of its framework's running tasks' network_bandwidth."), prometheus.GaugeValue, func(c *netbw.ClassStats) float64 { return float64(c.Rate) }},
	{netbwDesc("ceil_bits_per_second", "What the class may send at most (the link, or its rate with --egress_ceil=rate)."), prometheus.GaugeValue, func(c *netbw.ClassStats) float64 { return float64(c.Ceil) }},
	{netbwDesc("bytes_total", "Bytes sent through the class (L2 frames, as HTB charges them)."), prometheus.CounterValue, func(c *netbw.ClassStats) float64 { return float64(c.Bytes) }},
	{netbwDesc("packets_total", "Packets sent through the class."), prometheus.CounterValue, func(c *netbw.ClassStats) float64 { return float64(c.Packets) }},
	{netbwDesc("drops_total", "Packets the class's queue dropped."), prometheus.CounterValue, func(c *netbw.ClassStats) float64 { return float64(c.Drops) }},
	{netbwDesc("overlimits_total", "Times the class had to wait for tokens."), prometheus.CounterValue, func(c *netbw.ClassStats) float64 { return float64(c.Overlimits) }},
}

func (c bandwidthCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range netbwMetrics {
		ch <- m.desc
	}
}

func (c bandwidthCollector) Collect(ch chan<- prometheus.Metric) {
	b := c.a.bw
	if b == nil {
		return
	}
	classes, err := b.shaper.Stats()
	if err != nil {
		c.a.log.Warn("read bandwidth classes for /metrics", "err", err)
		return
	}
	for i := range classes {
		for _, m := range netbwMetrics {
			ch <- prometheus.MustNewConstMetric(m.desc, m.typ, m.value(&classes[i]), string(classes[i].Framework))
		}
	}
}
