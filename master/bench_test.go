package master

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/internalpb"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
	cairnids "github.com/cairnhq/cairn/ids"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
)

// BenchmarkTaskThroughput measures tasks per second through the master and
// one agent: offer → ACCEPT → run_tasks → RUNNING and FINISHED updates →
// acknowledgements → resources re-offered. The agent is a fake that answers
// at once, so this is the master's own cost.
func BenchmarkTaskThroughput(b *testing.B) {
	m, srv := testMaster(b)
	masterURL := srv.URL

	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		if r.URL.Path != "/internal/v1/run_tasks" {
			return
		}
		rt := &internalpb.RunTasks{}
		proto.Unmarshal(body, rt)
		go func() {
			for _, ti := range rt.GetTasks() {
				for _, st := range []mesospb.TaskState{mesospb.TaskState_TASK_RUNNING, mesospb.TaskState_TASK_FINISHED} {
					u := uuid.New()
					su := &internalpb.StatusUpdate{FrameworkId: rt.GetFrameworkInfo().GetId(), AgentId: ti.GetAgentId(),
						Status:      &mesospb.TaskStatus{TaskId: ti.GetTaskId(), State: st.Enum(), Uuid: u[:]},
						LatestState: st.Enum()}
					b, _ := proto.Marshal(su)
					res, err := http.Post(masterURL+"/internal/v1/status_update", api.ContentTypeProtobuf, bytes.NewReader(b))
					if err == nil {
						res.Body.Close()
					}
				}
			}
		}()
	}))
	defer agent.Close()
	u, _ := url.Parse(agent.URL)
	m.do(context.Background(), func() {
		st := &internalpb.AgentState{AgentInfo: &mesospb.AgentInfo{Hostname: proto.String("fake"),
			Resources: toProto(mustParse("cpus:4;mem:4096"), "")}}
		m.core.AdmitAgent(st, netip.MustParseAddrPort(u.Host), "", "agent@"+u.Host, time.Now())
	})

	req, _ := http.NewRequest(http.MethodPost, masterURL+"/api/v1/scheduler", bytes.NewReader(mustProto(subscribeCall(fwInfo()))))
	req.Header.Set("Content-Type", api.ContentTypeProtobuf)
	req.Header.Set("Accept", api.ContentTypeProtobuf)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	sid := res.Header.Get(streamIDHeader)
	r := newReader(res.Body)
	send := func(c *schedulerpb.Call) {
		req, _ := http.NewRequest(http.MethodPost, masterURL+"/api/v1/scheduler", bytes.NewReader(mustProto(c)))
		req.Header.Set("Content-Type", api.ContentTypeProtobuf)
		req.Header.Set(streamIDHeader, sid)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	var fid cairnids.FrameworkID
	launched, finished := 0, 0
	b.ResetTimer()
	start := time.Now()
	for finished < b.N {
		rec, err := r.Next()
		if err != nil {
			b.Fatal(err)
		}
		ev := &schedulerpb.Event{}
		if err := api.Protobuf.Unmarshal(rec, ev); err != nil {
			b.Fatal(err)
		}
		switch ev.GetType() {
		case schedulerpb.Event_SUBSCRIBED:
			fid = cairnids.FrameworkID(ev.GetSubscribed().GetFrameworkId().GetValue())
		case schedulerpb.Event_OFFERS:
			for _, o := range ev.GetOffers().GetOffers() {
				var tasks []*mesospb.TaskInfo
				avail, _ := fromProto(o.GetResources())
				for n := int(avail.Scalar("cpus") / 0.5); n > 0 && launched < b.N; n-- {
					tasks = append(tasks, command(fmt.Sprintf("t%d", launched), o.GetAgentId(), "cpus:0.5;mem:32"))
					launched++
				}
				c := acceptCall(fid, []*mesospb.OfferID{o.GetId()}, tasks...)
				c.Accept.Filters = &mesospb.Filters{RefuseSeconds: proto.Float64(0)}
				send(c)
			}
		case schedulerpb.Event_UPDATE:
			st := ev.GetUpdate().GetStatus()
			ack := call(fid, schedulerpb.Call_ACKNOWLEDGE)
			ack.Acknowledge = &schedulerpb.Call_Acknowledge{AgentId: st.GetAgentId(), TaskId: st.GetTaskId(), Uuid: st.GetUuid()}
			send(ack)
			if st.GetState() == mesospb.TaskState_TASK_FINISHED {
				finished++
			}
		}
	}
	b.ReportMetric(float64(finished)/time.Since(start).Seconds(), "tasks/s")
}

func mustProto(msg proto.Message) []byte {
	b, err := proto.Marshal(msg)
	if err != nil {
		panic(err)
	}
	return b
}
