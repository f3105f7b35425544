package fetcher

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
)

// DefaultMaxBytes bounds one download, and the bytes one archive may
// expand to, when Config.MaxBytes is zero.
const DefaultMaxBytes = 4 << 30

// Config tunes a Fetcher.
type Config struct {
	// MaxBytes bounds each downloaded file and the total size of what one
	// archive extracts to. 0: DefaultMaxBytes; negative: no limit.
	MaxBytes int64
	// Timeout bounds one Fetch call (all its URIs). 0: only the caller's
	// context.
	Timeout time.Duration
	// HTTPClient fetches http(s) URIs. nil: a client with default
	// transport settings (timeouts come from the context).
	HTTPClient *http.Client
}

// Fetcher downloads URIs into sandboxes.
type Fetcher struct {
	max     int64
	timeout time.Duration
	client  *http.Client
}

// New returns a Fetcher with cfg's defaults filled in.
func New(cfg Config) *Fetcher {
	f := &Fetcher{max: cfg.MaxBytes, timeout: cfg.Timeout, client: cfg.HTTPClient}
	if f.max == 0 {
		f.max = DefaultMaxBytes
	}
	if f.client == nil {
		f.client = &http.Client{}
	}
	return f
}

// Error is a failed fetch of one URI.
type Error struct {
	URI string
	Err error
}

func (e *Error) Error() string { return fmt.Sprintf("fetch %q: %v", e.URI, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// ErrTooLarge is wrapped when a download or an extraction passes MaxBytes.
var ErrTooLarge = errors.New("exceeds the fetcher's size limit")

// ErrUnsupported is wrapped for URI schemes and archive formats the
// fetcher does not handle.
var ErrUnsupported = errors.New("not supported")

// Fetch puts every URI into sandbox (an existing directory), in order. It
// stops at the first failure and returns it as an *Error.
func (f *Fetcher) Fetch(ctx context.Context, uris []*mesospb.CommandInfo_URI, sandbox string) error {
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	root, err := os.OpenRoot(sandbox)
	if err != nil {
		return fmt.Errorf("open sandbox: %w", err)
	}
	defer root.Close()
	for _, u := range uris {
		if err := f.fetchOne(ctx, root, u); err != nil {
			if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
				err = fmt.Errorf("%w (%w)", ctx.Err(), err)
			}
			return &Error{URI: u.GetValue(), Err: err}
		}
	}
	return nil
}

// fetchOne downloads one URI to its name in the sandbox, then makes it
// executable or extracts it.
func (f *Fetcher) fetchOne(ctx context.Context, root *os.Root, u *mesospb.CommandInfo_URI) error {
	src, err := parseSource(u.GetValue())
	if err != nil {
		return err
	}
	name, err := outputName(u, src)
	if err != nil {
		return err
	}
	if err := f.download(ctx, root, src, name); err != nil {
		return err
	}
	if u.GetExecutable() {
		// As in Mesos, an executable is never extracted.
		if err := root.Chmod(name, 0o755); err != nil {
			return fmt.Errorf("make executable: %w", err)
		}
		return nil
	}
	if u.Extract == nil || u.GetExtract() {
		return f.extract(ctx, root, name)
	}
	return nil
}

// source is where a URI's bytes come from: a URL or a local path.
type source struct {
	url  *url.URL // http or https
	path string   // local file
}

// parseSource accepts http(s) URLs, file:// URLs and absolute paths.
func parseSource(value string) (source, error) {
	if value == "" {
		return source{}, errors.New("empty URI")
	}
	if strings.HasPrefix(value, "/") {
		return source{path: filepath.Clean(value)}, nil
	}
	u, err := url.Parse(value)
	if err != nil {
		return source{}, fmt.Errorf("parse URI: %w", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return source{}, errors.New("URL has no host")
		}
		return source{url: u}, nil
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return source{}, fmt.Errorf("file URI names host %q: only local files can be fetched", u.Host)
		}
		if !strings.HasPrefix(u.Path, "/") {
			return source{}, errors.New("file URI needs an absolute path")
		}
		return source{path: filepath.Clean(u.Path)}, nil
	case "":
		return source{}, fmt.Errorf("relative path %q: %w (use an absolute path or a URL)", value, ErrUnsupported)
	default:
		return source{}, fmt.Errorf("URI scheme %q: %w", u.Scheme, ErrUnsupported)
	}
}

// outputName is where the URI lands, relative to the sandbox: output_file
// when set (it must stay inside the sandbox), else the URI's base name.
func outputName(u *mesospb.CommandInfo_URI, src source) (string, error) {
	if out := u.GetOutputFile(); out != "" {
		clean := filepath.Clean(out)
		if !filepath.IsLocal(clean) {
			return "", fmt.Errorf("output_file %q is not a relative path inside the sandbox", out)
		}
		return clean, nil
	}
	var base string
	if src.url != nil {
		base = path.Base(src.url.Path)
	} else {
		base = filepath.Base(src.path)
	}
	if base == "" || base == "." || base == "/" || base == ".." {
		return "", errors.New("URI has no file name; set output_file")
	}
	return base, nil
}
