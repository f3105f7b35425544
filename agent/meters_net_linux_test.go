package agent

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
)

// TestKernelUsageNetwork: a host-network task uploads 20 MB over TCP on
// loopback to a server in the test; its net_tx_bytes is the payload plus
// the IP and TCP headers (within 1 %), and a second, idle task on the same
// host network is told apart (nothing sent).
func TestKernelUsageNetwork(t *testing.T) {
	requireMeters(t)
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		got.Add(n)
	}))
	t.Cleanup(srv.Close)
	_, ta := kernelAgent(t, "cusn", func(c *Config) {
		c.UsageSource = UsageSourceEBPF
	})

	const payload = 20_000_000
	ta.run(t, usageTask("idle", "0.1", "32", "sleep 300"))
	ta.run(t, usageTask("upload", "0.5", "128",
		"head -c "+strconv.Itoa(payload)+" /dev/zero > blob && /usr/bin/curl -sS -o /dev/null --data-binary @blob "+srv.URL+"/; sleep 300"))
	var up, idle monitorEntry
	var prevTime float64
	eventually(t, "the upload to be counted", func() bool {
		e, _, ok := statsOf(t, ta, "e-upload")
		i, _, ok2 := statsOf(t, ta, "e-idle")
		if !ok || !ok2 || e.Statistics.NetTxBytes == nil || e.Statistics.Timestamp == prevTime {
			return false
		}
		prevTime, up, idle = e.Statistics.Timestamp, e, i
		return got.Load() == payload && *e.Statistics.NetTxBytes >= payload
	})
	tx, segs := *up.Statistics.NetTxBytes, *up.Statistics.NetTxPackets
	t.Logf("upload: tx %d bytes in %d segments (%.3f%% over the %d payload), rx %d bytes in %d; idle task: tx %d, rx %d",
		tx, segs, 100*(float64(tx)/payload-1), payload, *up.Statistics.NetRxBytes, *up.Statistics.NetRxPackets,
		*idle.Statistics.NetTxBytes, *idle.Statistics.NetRxBytes)
	if !within(float64(tx), payload, 0.01) {
		t.Errorf("tx %d bytes for a %d byte upload: more than 1 %% off", tx, payload)
	}
	if *up.Statistics.NetRxBytes == 0 || *up.Statistics.NetRxBytes > payload/100 {
		t.Errorf("rx %d bytes: want the acknowledgements and the response only", *up.Statistics.NetRxBytes)
	}
	if *idle.Statistics.NetTxBytes != 0 || *idle.Statistics.NetRxBytes != 0 {
		t.Errorf("the idle task was charged %d bytes sent, %d received", *idle.Statistics.NetTxBytes, *idle.Statistics.NetRxBytes)
	}
}
