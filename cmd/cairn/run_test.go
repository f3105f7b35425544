package main

import (
	"testing"

	"github.com/cairnhq/cairn/api/mesospb"
	"google.golang.org/protobuf/proto"
)

// TestRunNetworkBandwidth: --network_bandwidth waits for an offer with that
// much and puts it in the task, as a scalar like cpus.
func TestRunNetworkBandwidth(t *testing.T) {
	r := &runner{opts: runOptions{cpus: 0.1, mem: 32, netMbps: 50, role: "*"}, cmd: []string{"true"}, taskID: "t1"}
	offer := func(bw float64) *mesospb.Offer {
		var rs []*mesospb.Resource
		for name, v := range map[string]float64{"cpus": 1, "mem": 128, "network_bandwidth": bw} {
			rs = append(rs, &mesospb.Resource{Name: proto.String(name), Type: mesospb.Value_SCALAR.Enum(),
				Scalar: &mesospb.Value_Scalar{Value: proto.Float64(v)}})
		}
		return &mesospb.Offer{Resources: rs, AgentId: &mesospb.AgentID{Value: proto.String("S1")}}
	}
	if r.fits(offer(20)) {
		t.Fatal("an offer with 20 Mbit/s fits a task asking 50")
	}
	o := offer(100)
	if !r.fits(o) {
		t.Fatal("an offer with 100 Mbit/s does not fit a task asking 50")
	}
	var got float64
	for _, res := range r.task(o).GetResources() {
		if res.GetName() == "network_bandwidth" {
			got = res.GetScalar().GetValue()
		}
	}
	if got != 50 {
		t.Fatalf("task network_bandwidth = %v, want 50", got)
	}
}

func TestRunNetworks(t *testing.T) {
	r := &runner{opts: runOptions{cpus: 0.1, mem: 32, networks: "cairn", role: "*"}, cmd: []string{"true"}, taskID: "t1"}
	task := r.task(&mesospb.Offer{})
	ni := task.GetContainer().GetNetworkInfos()
	if task.GetContainer().GetType() != mesospb.ContainerInfo_MESOS || len(ni) != 1 || ni[0].GetName() != "cairn" {
		t.Fatalf("container %v, want network_infos [cairn]", task.GetContainer())
	}
	r.opts.networks = ""
	if r.task(&mesospb.Offer{}).Container != nil {
		t.Fatal("a task without --networks has a ContainerInfo")
	}
}
