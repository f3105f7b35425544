package scheduler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
)

const (
	apiPath      = "/api/v1/scheduler"
	streamHeader = "Mesos-Stream-Id"
	maxRedirects = 5
)

// post sends call to the leader (or, with no leader known, to each master in
// turn), following 307 redirects. On success the response's body is the
// caller's to close, and the master that answered becomes the leader.
func (c *Client) post(ctx context.Context, call *schedulerpb.Call, streamID string) (*http.Response, error) {
	body, err := c.codec.Marshal(call)
	if err != nil {
		return nil, fmt.Errorf("encode %s call: %w", call.GetType(), err)
	}
	c.mu.Lock()
	targets := make([]string, 0, len(c.cfg.Masters)+1)
	if c.leader != "" {
		targets = append(targets, c.leader)
	}
	for _, m := range c.cfg.Masters {
		if m != c.leader {
			targets = append(targets, m)
		}
	}
	c.mu.Unlock()
	if len(targets) == 0 {
		return nil, errors.New("no masters configured")
	}
	var lastErr error
	for _, host := range targets {
		res, err := c.postTo(ctx, host, body, streamID)
		if err == nil {
			return res, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// postTo tries one master and the masters it redirects to.
func (c *Client) postTo(ctx context.Context, host string, body []byte, streamID string) (*http.Response, error) {
	for range maxRedirects + 1 {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+host+apiPath, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", c.codec.ContentType())
		req.Header.Set("Accept", c.codec.ContentType())
		if streamID != "" {
			req.Header.Set(streamHeader, streamID)
		}
		hc := c.http
		if streamID == "" {
			hc = c.streamHTTP // only SUBSCRIBE goes without a stream id
		}
		res, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		if res.StatusCode != http.StatusTemporaryRedirect {
			c.mu.Lock()
			c.leader = host
			c.mu.Unlock()
			return res, nil
		}
		loc := res.Header.Get("Location")
		drain(res)
		next, err := redirectHost(loc)
		if err != nil {
			return nil, err
		}
		c.log.Debug("redirected to leading master", "from", host, "to", next)
		host = next
	}
	return nil, fmt.Errorf("too many redirects from %s", host)
}

// redirectHost extracts host:port from a Location such as
// "//10.0.0.2:5050/api/v1/scheduler".
func redirectHost(loc string) (string, error) {
	u, err := url.Parse(loc)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("bad redirect location %q", loc)
	}
	return u.Host, nil
}

func drain(res *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
}

// httpError turns a non-2xx reply into an error carrying the master's text.
func httpError(what string, res *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	msg := string(bytes.TrimSpace(b))
	if msg == "" {
		msg = res.Status
	}
	return &api.HTTPError{Status: res.StatusCode, Msg: what + ": " + msg}
}

// Call sends any call other than SUBSCRIBE on the current stream; it fills
// in framework_id. The master answers 202 (200 for UPDATE_FRAMEWORK); any
// other status is an *api.HTTPError with the master's message.
func (c *Client) Call(ctx context.Context, call *schedulerpb.Call) error {
	c.mu.Lock()
	streamID, fw := c.streamID, c.frameworkID
	c.mu.Unlock()
	if streamID == "" || fw == nil {
		return fmt.Errorf("%s: %w", call.GetType(), ErrNotConnected)
	}
	if call.FrameworkId == nil {
		call.FrameworkId = fw
	}
	res, err := c.post(ctx, call, streamID)
	if err != nil {
		return fmt.Errorf("%s: %w", call.GetType(), err)
	}
	if res.StatusCode/100 != 2 {
		defer res.Body.Close()
		return httpError(call.GetType().String(), res)
	}
	drain(res)
	return nil
}

func cloneInfo(fi *mesospb.FrameworkInfo) *mesospb.FrameworkInfo {
	return proto.Clone(fi).(*mesospb.FrameworkInfo)
}
