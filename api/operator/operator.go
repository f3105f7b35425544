// Package operator is a typed client for the Mesos v1 operator API
// (POST /api/v1) of a Cairn or Mesos master. The CLI talks to daemons only
// through it. A Client is safe for concurrent use; every call does one HTTP
// request and honours its context.
package operator

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/masterpb"
)

// Client calls one master's operator API.
type Client struct {
	base  string
	http  *http.Client
	codec api.Codec
}

// New returns a client for the master at addr ("host:port" or a URL).
func New(addr string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	base := addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &Client{base: strings.TrimRight(base, "/"), http: hc, codec: api.Protobuf}
}

// Call sends one operator call and checks that the response's type is the
// call's, as the API promises.
func (c *Client) Call(ctx context.Context, call *masterpb.Call) (*masterpb.Response, error) {
	body, err := c.codec.Marshal(call)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", call.GetType(), err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", c.codec.ContentType())
	req.Header.Set("Accept", c.codec.ContentType())
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s response: %w", call.GetType(), err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, &api.HTTPError{Status: res.StatusCode, Msg: fmt.Sprintf("%s: %s", call.GetType(), bytes.TrimSpace(b))}
	}
	var resp masterpb.Response
	if err := c.codec.Unmarshal(b, &resp); err != nil {
		return nil, fmt.Errorf("decode %s response: %w", call.GetType(), err)
	}
	if resp.GetType().String() != call.GetType().String() {
		return nil, fmt.Errorf("%s answered with a %s response", call.GetType(), resp.GetType())
	}
	return &resp, nil
}

func (c *Client) get(ctx context.Context, t masterpb.Call_Type) (*masterpb.Response, error) {
	return c.Call(ctx, &masterpb.Call{Type: t.Enum()})
}

// Tasks returns GET_TASKS.
func (c *Client) Tasks(ctx context.Context) (*masterpb.Response_GetTasks, error) {
	r, err := c.get(ctx, masterpb.Call_GET_TASKS)
	return r.GetGetTasks(), err
}

// Agents returns GET_AGENTS.
func (c *Client) Agents(ctx context.Context) (*masterpb.Response_GetAgents, error) {
	r, err := c.get(ctx, masterpb.Call_GET_AGENTS)
	return r.GetGetAgents(), err
}

// Frameworks returns GET_FRAMEWORKS.
func (c *Client) Frameworks(ctx context.Context) (*masterpb.Response_GetFrameworks, error) {
	r, err := c.get(ctx, masterpb.Call_GET_FRAMEWORKS)
	return r.GetGetFrameworks(), err
}

// State returns GET_STATE.
func (c *Client) State(ctx context.Context) (*masterpb.Response_GetState, error) {
	r, err := c.get(ctx, masterpb.Call_GET_STATE)
	return r.GetGetState(), err
}

// Roles returns GET_ROLES: every role the master's allocator tracks, with its
// weight, frameworks and the resources it holds (offered or in use).
func (c *Client) Roles(ctx context.Context) (*masterpb.Response_GetRoles, error) {
	r, err := c.get(ctx, masterpb.Call_GET_ROLES)
	return r.GetGetRoles(), err
}
