package compat

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	ctJSON  = "application/json"
	ctProto = "application/x-protobuf"
)

// reply is a complete, non-streaming answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// post sends one request with net/http and reads the whole answer.
func post(t *testing.T, url, ctype, accept, streamID string, body []byte) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if streamID != "" {
		req.Header.Set("Mesos-Stream-Id", streamID)
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return reply{res.StatusCode, res.Header, b}
}

func get(t *testing.T, url string) reply {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	res, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{res.StatusCode, res.Header, b}
}

// rawStream is an event stream read off a plain TCP connection, so that the
// chunked framing itself can be checked: every chunk must hold exactly one
// RecordIO record (the server writes and flushes one record at a time).
type rawStream struct {
	t      *testing.T
	waitTo time.Time // set by await: the event looked for must come before
	conn   net.Conn
	r      *bufio.Reader
	status int
	header http.Header
	body   []byte // the whole body of a non-200 answer
}

// openStream POSTs body to path on addr over a fresh connection and reads
// the status and headers.
func openStream(t *testing.T, addr, path, ctype, accept string, body []byte) *rawStream {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var req bytes.Buffer
	fmt.Fprintf(&req, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n", path, addr, ctype)
	if accept != "" {
		fmt.Fprintf(&req, "Accept: %s\r\n", accept)
	}
	fmt.Fprintf(&req, "Content-Length: %d\r\n\r\n", len(body))
	req.Write(body)
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := conn.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	s := &rawStream{t: t, conn: conn, r: bufio.NewReader(conn)}
	tp := textproto.NewReader(s.r)
	line, err := tp.ReadLine()
	if err != nil {
		t.Fatalf("read status line: %v", err)
	}
	parts := strings.SplitN(line, " ", 3)
	if len(parts) < 2 || parts[0] != "HTTP/1.1" {
		t.Fatalf("status line %q", line)
	}
	s.status, _ = strconv.Atoi(parts[1])
	mh, err := tp.ReadMIMEHeader()
	if err != nil {
		t.Fatalf("read headers: %v", err)
	}
	s.header = http.Header(mh)
	if s.status != http.StatusOK {
		if n, err := strconv.Atoi(s.header.Get("Content-Length")); err == nil {
			s.body = make([]byte, n)
			io.ReadFull(s.r, s.body)
		}
	}
	return s
}

// chunk reads one HTTP chunk; io.EOF at the terminating zero-size chunk.
func (s *rawStream) chunk() ([]byte, error) {
	s.conn.SetDeadline(time.Now().Add(20 * time.Second))
	line, err := s.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	size, err := strconv.ParseInt(strings.TrimSpace(strings.SplitN(line, ";", 2)[0]), 16, 64)
	if err != nil {
		return nil, fmt.Errorf("chunk size line %q: %v", line, err)
	}
	if size == 0 {
		return nil, io.EOF
	}
	b := make([]byte, size+2)
	if _, err := io.ReadFull(s.r, b); err != nil {
		return nil, err
	}
	if string(b[size:]) != "\r\n" {
		return nil, fmt.Errorf("chunk not followed by CRLF")
	}
	return b[:size], nil
}

// next returns the next record, failing the test unless it filled exactly
// one chunk. io.EOF when the server ended the stream.
func (s *rawStream) next() ([]byte, error) {
	s.t.Helper()
	c, err := s.chunk()
	if err != nil {
		return nil, err
	}
	nl := bytes.IndexByte(c, '\n')
	if nl <= 0 {
		s.t.Fatalf("chunk %q does not start with a RecordIO length", c)
	}
	n, err := strconv.Atoi(string(c[:nl]))
	if err != nil {
		s.t.Fatalf("RecordIO length %q: %v", c[:nl], err)
	}
	if rest := c[nl+1:]; len(rest) != n {
		s.t.Fatalf("chunk holds %d bytes after a length of %d: not one record per flush (%q)", len(rest), n, c)
	}
	return c[nl+1:], nil
}

// await bounds the waits that skip events (heartbeats keep a stream alive
// forever): the next records must include the awaited one within d.
func (s *rawStream) await(d time.Duration) { s.waitTo = time.Now().Add(d) }

func (s *rawStream) mustNext() []byte {
	s.t.Helper()
	if !s.waitTo.IsZero() && time.Now().After(s.waitTo) {
		s.t.Fatalf("the awaited event did not come in time")
	}
	rec, err := s.next()
	if err != nil {
		s.t.Fatalf("read record: %v", err)
	}
	return rec
}

// jsonObj decodes a JSON record or body into a generic map.
func jsonObj(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode JSON %q: %v", b, err)
	}
	return m
}

// path walks a decoded JSON value: keys for objects, ints for arrays.
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
