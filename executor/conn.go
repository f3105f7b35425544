package executor

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/executorpb"
	"github.com/cairnhq/cairn/api/recordio"
)

// callTimeout bounds one non-streaming call to the agent; the agent answers
// at once, so a slow answer means it is gone and the update will be resent
// on the next SUBSCRIBE.
const callTimeout = 10 * time.Second

// agentConn speaks the executor API to one agent. It holds no state beyond
// its configuration and is used from the executor's loop and the stream
// goroutine.
type agentConn struct {
	url    string
	client *http.Client
	codec  api.Codec
}

func newAgentConn(cfg Config) *agentConn {
	c := &agentConn{
		url:    "http://" + cfg.AgentEndpoint + "/api/v1/executor",
		client: cfg.HTTPClient,
		codec:  api.Protobuf,
	}
	if cfg.JSON {
		c.codec = api.JSON
	}
	return c
}

func (c *agentConn) request(ctx context.Context, call *executorpb.Call) (*http.Request, error) {
	body, err := c.codec.Marshal(call)
	if err != nil {
		return nil, fmt.Errorf("encode %s call: %w", call.GetType(), err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", c.codec.ContentType())
	req.Header.Set("Accept", c.codec.ContentType())
	return req, nil
}

// send makes one call that the agent answers with 202 and no body.
func (c *agentConn) send(ctx context.Context, call *executorpb.Call) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	req, err := c.request(ctx, call)
	if err != nil {
		return err
	}
	res, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("send %s: %w", call.GetType(), err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		return replyError(call.GetType().String(), res)
	}
	// Drain so the connection goes back to the pool.
	_, _ = io.Copy(io.Discard, res.Body)
	return nil
}

// subscribe opens the event stream. The caller reads events from the
// returned stream and closes it.
func (c *agentConn) subscribe(ctx context.Context, call *executorpb.Call) (*eventStream, error) {
	req, err := c.request(ctx, call)
	if err != nil {
		return nil, err
	}
	res, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		defer res.Body.Close()
		return nil, replyError("subscribe", res)
	}
	return &eventStream{body: res.Body, rd: recordio.NewReader(res.Body, 0), codec: c.codec}, nil
}

func replyError(what string, res *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	return &api.HTTPError{Status: res.StatusCode, Msg: fmt.Sprintf("%s: %s: %s", what, res.Status, bytes.TrimSpace(b))}
}

// eventStream decodes the RecordIO-framed events of one SUBSCRIBE response.
type eventStream struct {
	body  io.ReadCloser
	rd    *recordio.Reader
	codec api.Codec
}

func (s *eventStream) next() (*executorpb.Event, error) {
	rec, err := s.rd.Next()
	if err != nil {
		return nil, err
	}
	ev := &executorpb.Event{}
	if err := s.codec.Unmarshal(rec, ev); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	return ev, nil
}

func (s *eventStream) Close() error { return s.body.Close() }
