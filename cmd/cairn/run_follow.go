package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// follower copies a sandbox's stdout and stderr as they grow, through the
// agent's /files/read, until stopped; stop drains what is left.
type follower struct {
	quit chan struct{}
	done chan struct{}
}

func startFollower(hc *http.Client, agentURL, dir string, out, errOut io.Writer) *follower {
	f := &follower{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		streams := []*tail{{path: dir + "/stdout", w: out}, {path: dir + "/stderr", w: errOut}}
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, t := range streams {
				t.poll(hc, agentURL)
			}
			select {
			case <-f.quit:
				// The task is terminal: its files are complete. Read them out.
				for _, t := range streams {
					for t.poll(hc, agentURL) {
					}
				}
				return
			case <-tick.C:
			}
		}
	}()
	return f
}

func (f *follower) stop() {
	close(f.quit)
	<-f.done
}

type tail struct {
	path   string
	offset int64
	w      io.Writer
}

// poll copies new bytes and reports whether it got any.
func (t *tail) poll(hc *http.Client, agentURL string) bool {
	u := fmt.Sprintf("%s/files/read?path=%s&offset=%d&length=%d", agentURL, url.QueryEscape(t.path), t.offset, 1<<20)
	res, err := hc.Get(u)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return false
	}
	var reply struct {
		Data   string `json:"data"`
		Offset int64  `json:"offset"`
	}
	if err := json.NewDecoder(res.Body).Decode(&reply); err != nil || len(reply.Data) == 0 {
		return false
	}
	io.WriteString(t.w, reply.Data)
	t.offset = reply.Offset + int64(len(reply.Data))
	return true
}
