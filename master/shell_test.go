package master

import (
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/schedulerpb"
)

// A framework whose queue is full is disconnected; the loop never blocks.
func TestSlowFrameworkStreamIsClosed(t *testing.T) {
	m, _ := testMaster(t)
	done := make(chan struct{})
	m.post(func() {
		defer close(done)
		s := newStream("slow", "", 1)
		m.streams["slow"] = s
		fid, err := m.core.Subscribe(subscribeCall(fwInfo()), "slow", time.Now())
		if err != nil {
			t.Error(err)
			return
		}
		// SUBSCRIBED fills the queue of one; the next event overflows it.
		m.perform(m.core.take())
		m.perform([]any{sendEvent{Stream: "slow", Event: &schedulerpb.Event{Type: schedulerpb.Event_HEARTBEAT.Enum()}}})
		if _, ok := m.streams["slow"]; ok {
			t.Error("overflowed stream still registered")
		}
		select {
		case <-s.done:
		default:
			t.Error("overflowed stream not ended")
		}
		if _, ok := m.core.frameworks[fid]; ok {
			t.Error("framework of an overflowed stream (failover 0) not removed")
		}
	})
	<-done
}

func TestOfferTimeoutRescinds(t *testing.T) {
	c := testCore(t)
	c.offerTTL = 10 * time.Second
	subscribe(t, c, "s1", fwInfo())
	admit(t, c, "a1", "cpus:1;mem:128")
	if len(offersFor(t, c, "s1")) != 1 {
		t.Fatal("no offer")
	}
	c.expireOffers(t0.Add(9 * time.Second))
	if len(c.take()) != 0 {
		t.Fatal("offer rescinded before its timeout")
	}
	c.expireOffers(t0.Add(10 * time.Second))
	evs := events(c.take(), "s1")
	if len(evs) != 1 || evs[0].GetType() != schedulerpb.Event_RESCIND {
		t.Fatalf("events = %v", evs)
	}
	if len(c.offers) != 0 || !c.allocateSoon {
		t.Error("rescinded offer not recovered")
	}
}
