package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cairnhq/cairn/api/masterpb"
	"github.com/cairnhq/cairn/api/operator"
	"github.com/cairnhq/cairn/cmd/cairn/internal/taskstat"
)

// clusterView is what top and stats need from the master: every agent
// with the address of its HTTP API, and framework names by id.
type clusterView struct {
	agents []taskstat.Agent
	names  map[string]string
}

// fetchCluster asks the master (GET_AGENTS, GET_FRAMEWORKS) for the agents
// and framework names.
func fetchCluster(ctx context.Context, oc *operator.Client) (clusterView, error) {
	var v clusterView
	agents, err := oc.Agents(ctx)
	if err != nil {
		return v, fmt.Errorf("get agents: %w", err)
	}
	for _, a := range agents.GetAgents() {
		v.agents = append(v.agents, agentOf(a))
	}
	fws, err := oc.Frameworks(ctx)
	if err != nil {
		return v, fmt.Errorf("get frameworks: %w", err)
	}
	v.names = map[string]string{}
	for _, f := range append(fws.GetFrameworks(), fws.GetCompletedFrameworks()...) {
		v.names[f.GetFrameworkInfo().GetId().GetValue()] = f.GetFrameworkInfo().GetName()
	}
	return v, nil
}

// agentOf takes an agent's HTTP address from its pid ("slave(1)@ip:port"),
// which holds the address the master reached it at, and falls back to its
// hostname and port: several agents of a test cluster share a hostname.
func agentOf(a *masterpb.Response_GetAgents_Agent) taskstat.Agent {
	info := a.GetAgentInfo()
	out := taskstat.Agent{ID: info.GetId().GetValue(), Hostname: info.GetHostname()}
	if _, addr, ok := strings.Cut(a.GetPid(), "@"); ok {
		if _, _, err := net.SplitHostPort(addr); err == nil {
			out.Addr = addr
		}
	}
	if out.Addr == "" {
		out.Addr = net.JoinHostPort(info.GetHostname(), strconv.Itoa(int(cmp.Or(info.GetPort(), 5051))))
	}
	return out
}

// agentGet GETs path from an agent and returns the body of a 200 answer.
func agentGet(ctx context.Context, hc *http.Client, addr, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return nil, err
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s: %s", path, res.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

// pollAgents reads every agent's /monitor/statistics at once, each within
// timeout; an agent that does not answer gets a Poll with Err, in the
// agents' order.
func pollAgents(ctx context.Context, hc *http.Client, agents []taskstat.Agent, timeout time.Duration) []taskstat.Poll {
	polls := make([]taskstat.Poll, len(agents))
	var wg sync.WaitGroup
	for i, a := range agents {
		wg.Go(func() {
			actx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			polls[i].Agent = a
			body, err := agentGet(actx, hc, a.Addr, "/monitor/statistics")
			if err == nil {
				polls[i].Containers, err = taskstat.ParseStatistics(body, time.Now())
			}
			polls[i].Err = err
		})
	}
	wg.Wait()
	return polls
}
