package scheduler

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/api/schedulerpb"
)

// Handler receives the events of the subscription. HandleEvent is called
// from Run's goroutine, one event at a time; it may call the Client's
// methods. A non-nil error ends Run with that error.
type Handler interface {
	HandleEvent(ctx context.Context, ev *schedulerpb.Event) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, ev *schedulerpb.Event) error

// HandleEvent calls f.
func (f HandlerFunc) HandleEvent(ctx context.Context, ev *schedulerpb.Event) error {
	return f(ctx, ev)
}

// Config describes the framework and how to reach the masters.
type Config struct {
	// Masters are the masters' host:port; the client tries them in turn and
	// follows redirects to the leader.
	Masters []string
	// FrameworkInfo is sent with SUBSCRIBE. Its id, when set, re-subscribes
	// an existing framework; the client fills it in after the first
	// SUBSCRIBED so that reconnects keep the same framework.
	FrameworkInfo *mesospb.FrameworkInfo
	// Codec is the wire encoding; nil means protobuf. api.JSON works too.
	Codec api.Codec
	// HTTPClient makes the requests; nil means a private keep-alive pool.
	// Its redirect policy is replaced: the client follows 307s itself to
	// learn the leader. Its Timeout applies to calls, not to the stream.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// MinBackoff and MaxBackoff bound the delay between subscribe attempts
	// (defaults 100ms and 10s).
	MinBackoff, MaxBackoff time.Duration
	// ManualAcknowledge turns off automatic acknowledgement. By default,
	// after the handler returns nil for an UPDATE that carries a uuid, the
	// client sends ACKNOWLEDGE for it.
	ManualAcknowledge bool
	// DefaultHeartbeat is assumed until SUBSCRIBED names the interval
	// (default 15s). The stream is dropped after two intervals of silence.
	DefaultHeartbeat time.Duration
}

// Client is a framework's connection to the masters. Create it with New.
type Client struct {
	cfg        Config
	codec      api.Codec
	http       *http.Client // calls; keeps the caller's Timeout
	streamHTTP *http.Client // SUBSCRIBE; no Timeout
	log        *slog.Logger

	mu          sync.Mutex
	leader      string // host:port of the master that took the last SUBSCRIBE
	streamID    string
	frameworkID *mesospb.FrameworkID
	connected   bool
	info        *mesospb.FrameworkInfo
}

// ErrNotConnected is returned by calls made while no stream is open.
var ErrNotConnected = errors.New("scheduler not subscribed")

// New returns a client; it does no I/O until Run or a call.
func New(cfg Config) *Client {
	if cfg.Codec == nil {
		cfg.Codec = api.Protobuf
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(10*time.Second, cfg.MinBackoff)
	}
	if cfg.DefaultHeartbeat <= 0 {
		cfg.DefaultHeartbeat = 15 * time.Second
	}
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	} else {
		hc.Transport = &http.Transport{
			Proxy:               nil,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
		}
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	// The event stream lives as long as the subscription: a client-wide
	// Timeout must not cut it (missed heartbeats detect a dead stream).
	streamHC := hc
	streamHC.Timeout = 0
	info := &mesospb.FrameworkInfo{}
	if cfg.FrameworkInfo != nil {
		info = cloneInfo(cfg.FrameworkInfo)
	}
	c := &Client{cfg: cfg, codec: cfg.Codec, http: &hc, streamHTTP: &streamHC, log: cfg.Logger, info: info}
	if id := info.GetId().GetValue(); id != "" {
		c.frameworkID = &mesospb.FrameworkID{Value: &id}
	}
	return c
}

// FrameworkID is the framework's id, empty until the first SUBSCRIBED
// (unless Config.FrameworkInfo carried one).
func (c *Client) FrameworkID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frameworkID.GetValue()
}

// Connected reports whether an event stream is open.
func (c *Client) Connected() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connected
}

// Leader is the host:port of the master the client talks to.
func (c *Client) Leader() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leader
}
