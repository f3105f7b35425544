package netbw

import (
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkThroughput is acceptance 5's A/B: one TCP flow at full speed
// over a veth, in short blocks taken in turns with the veth bare (noqueue,
// a veth's default), with a plain pfifo_fast root (what a NIC has before
// Cairn touches it), and with the isolator on (tree on a 100 Gbit/s
// "link", the flow's cgroup in a framework class of 50 Gbit/s that may
// borrow the rest, so nothing limits it but the CPU). One op is one round
// of the three; the loss is the median over rounds of 1 - on/off, so the
// bursts of other work on a shared machine fall into few rounds. The
// classifier's own cost per packet is bpf/tcclass's BenchmarkClassify.
func BenchmarkThroughput(b *testing.B) {
	requireKernel(b)
	agent, sinkNs := newNetns(b), newNetns(b)
	dev := pair(b, agent, sinkNs)
	pins := filepath.Join(bpffs(b), "netbw")
	cg := newCgroup(b)
	s := newSink(b, sinkNs, sinkAddr+":5001")
	send(b, cg, agent, sinkAddr+":5001", 1)
	var iso *Isolator
	bare := func() {
		if iso != nil {
			if err := iso.Close(); err != nil {
				b.Fatal(err)
			}
			iso = nil
		}
		_ = exec.Command("ip", "netns", "exec", agent, "tc", "qdisc", "del", "dev", dev, "root").Run()
	}
	fifo := func() {
		bare()
		tc(b, agent, "qdisc", "add", "dev", dev, "root", "pfifo_fast")
	}
	on := func() {
		bare()
		var err error
		iso, err = New(Config{Interface: dev, LinkMbps: 100000, Netns: netnsPath(agent), PinDir: pins}, nil)
		if err == nil {
			err = iso.SetFramework("fw", 50000)
		}
		if err == nil {
			err = iso.AddCgroup(cg.id, "fw")
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(bare)
	block := func(setup func()) float64 {
		b.StopTimer()
		setup()
		time.Sleep(100 * time.Millisecond) // the flow settles on its new path
		b.StartTimer()
		return average([]*sink{s}, 400*time.Millisecond)[0]
	}
	var bares, fifos, ons, lossBare, lossFifo []float64
	for range b.N {
		x, y, z := block(bare), block(fifo), block(on)
		bares, fifos, ons = append(bares, x), append(fifos, y), append(ons, z)
		lossBare, lossFifo = append(lossBare, 100*(1-z/x)), append(lossFifo, 100*(1-z/y))
	}
	if st, err := iso.Stats(); err != nil || len(st) != 2 || st[1].Bytes == 0 {
		b.Fatalf("the flow did not go through its class (%+v, %v): nothing was measured", st, err)
	}
	b.ReportMetric(median(bares), "noqueue-Mbit/s")
	b.ReportMetric(median(fifos), "pfifo-Mbit/s")
	b.ReportMetric(median(ons), "isolator-Mbit/s")
	b.ReportMetric(median(lossBare), "loss-vs-noqueue-%")
	b.ReportMetric(median(lossFifo), "loss-vs-pfifo-%")
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
