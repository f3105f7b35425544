package endpoint

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"google.golang.org/protobuf/proto"

	"github.com/cairnhq/cairn/api"
)

// maxReplyBytes bounds a reply body read by Post and Get.
const maxReplyBytes = 64 << 20

// Post sends req as protobuf to url and, when resp is not nil, decodes a
// protobuf reply into it. A non-2xx answer is an error carrying the status
// and the body's text.
func Post(ctx context.Context, c *http.Client, url string, req, resp proto.Message) error {
	body, err := api.Protobuf.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode %s: %w", req.ProtoReflect().Descriptor().Name(), err)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", api.ContentTypeProtobuf)
	r.Header.Set("Accept", api.ContentTypeProtobuf)
	return do(c, r, resp)
}

// Get fetches url and decodes a protobuf reply into resp.
func Get(ctx context.Context, c *http.Client, url string, resp proto.Message) error {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	r.Header.Set("Accept", api.ContentTypeProtobuf)
	return do(c, r, resp)
}

func do(c *http.Client, r *http.Request, resp proto.Message) error {
	res, err := c.Do(r)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxReplyBytes))
	if err != nil {
		return fmt.Errorf("read reply of %s: %w", r.URL.Path, err)
	}
	if res.StatusCode/100 != 2 {
		return &api.HTTPError{Status: res.StatusCode, Msg: fmt.Sprintf("%s %s: %s", r.Method, r.URL.Path, bytes.TrimSpace(b))}
	}
	if resp == nil {
		return nil
	}
	if err := api.Protobuf.Unmarshal(b, resp); err != nil {
		return fmt.Errorf("decode reply of %s: %w", r.URL.Path, err)
	}
	return nil
}
