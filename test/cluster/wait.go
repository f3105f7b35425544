package cluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// Eventually calls cond until it returns nil, and fails the test when it has
// not by timeout, quoting cond's last error. cond's error should say what is
// still missing ("agent 2 not in /state: 1 of 2 agents"). Timeout is a bound
// on waiting for liveness, not a performance assertion: choose it generously.
// Call it from the test goroutine.
func Eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	if err := poll(context.Background(), timeout, cond); err != nil {
		t.Fatalf("eventually: %v", err)
	}
}

// poll is Eventually's loop without the test: back off from 10 ms to 500 ms
// between calls, return nil on success or an error after timeout or ctx.
func poll(ctx context.Context, timeout time.Duration, cond func() error) error {
	start := time.Now()
	delay := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Since(start) >= timeout {
			return fmt.Errorf("condition not met within %v (%d attempts), last error: %w", timeout, attempt, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("condition not met before %w (%d attempts), last error: %w", ctx.Err(), attempt, err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

// HTTPClient returns a client for talking to cluster nodes. It never uses a
// proxy from the environment: a proxy would carry test traffic off the
// machine, and could not reach the nodes anyway.
func HTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// WaitHTTP polls url until it answers with a status below 500 (so a daemon
// is up and serving, even if the path wants authentication or a POST), or ctx
// ends. It returns the last failure when ctx ends first.
func WaitHTTP(ctx context.Context, url string) error {
	client := HTTPClient()
	client.Timeout = 2 * time.Second
	get := func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}
	if err := poll(ctx, time.Duration(1<<63-1), get); err != nil {
		return fmt.Errorf("wait for %s: %w", url, err)
	}
	return nil
}
