package fetcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
)

// download copies src to name inside root, at most f.max bytes.
func (f *Fetcher) download(ctx context.Context, root *os.Root, src source, name string) error {
	body, size, err := f.open(ctx, src)
	if err != nil {
		return err
	}
	defer body.Close()
	if f.max >= 0 && size > f.max {
		return fmt.Errorf("size %d bytes %w of %d bytes", size, ErrTooLarge, f.max)
	}
	if dir := filepath.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create output directory: %w", err)
		}
	}
	out, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create output file: %w", err)
	}
	_, err = copyLimited(ctx, out, body, f.max)
	if cerr := out.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close output file: %w", cerr)
	}
	if err != nil {
		root.Remove(name)
		return err
	}
	return nil
}

// open returns the bytes of src and their size (-1 when unknown).
func (f *Fetcher) open(ctx context.Context, src source) (io.ReadCloser, int64, error) {
	if src.url == nil {
		file, err := os.Open(src.path)
		if err != nil {
			return nil, 0, fmt.Errorf("open local file: %w", err)
		}
		st, err := file.Stat()
		if err != nil {
			file.Close()
			return nil, 0, fmt.Errorf("stat local file: %w", err)
		}
		if !st.Mode().IsRegular() {
			file.Close()
			return nil, 0, fmt.Errorf("local path %s is not a regular file", src.path)
		}
		return file, st.Size(), nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.url.String(), nil)
	if err != nil {
		return nil, 0, fmt.Errorf("build request: %w", err)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("download: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, 0, fmt.Errorf("download: HTTP status %s", resp.Status)
	}
	return resp.Body, resp.ContentLength, nil
}

// copyLimited copies r to w, failing with ErrTooLarge past max bytes
// (max < 0: no limit) and stopping when ctx is done.
func copyLimited(ctx context.Context, w io.Writer, r io.Reader, max int64) (int64, error) {
	buf := make([]byte, 64<<10)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, rerr := r.Read(buf)
		if k > 0 {
			n += int64(k)
			if max >= 0 && n > max {
				return n, fmt.Errorf("more than %d bytes: %w", max, ErrTooLarge)
			}
			if _, err := w.Write(buf[:k]); err != nil {
				return n, fmt.Errorf("write: %w", err)
			}
		}
		if errors.Is(rerr, io.EOF) {
			return n, nil
		}
		if rerr != nil {
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			return n, fmt.Errorf("read: %w", rerr)
		}
	}
}
