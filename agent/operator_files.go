package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cairnhq/cairn/agent/files"
	"github.com/cairnhq/cairn/api"
	"github.com/cairnhq/cairn/api/mesospb"
	"github.com/cairnhq/cairn/ids"
	"google.golang.org/protobuf/proto"
)

// LIST_FILES and READ_FILE go through agent/files' own handlers, in
// process, so the operator API resolves and confines paths exactly as
// /files/browse and /files/download do (sandboxes only, no `..`, no
// escaping symlinks) and answers with their status codes (400, 403, 404).

func (a *Agent) filesServer() *files.Server {
	return &files.Server{Root: filepath.Join(a.cfg.WorkDir, "slaves"), AgentID: func() string {
		id, _ := a.publicID.Load().(ids.AgentID)
		return string(id)
	}}
}

// filesCall runs one /files request against the files handlers.
func (a *Agent) filesCall(endpoint, p string, header http.Header) *httptest.ResponseRecorder {
	mux := http.NewServeMux()
	a.filesServer().Register(mux, "/slave(1)")
	req := httptest.NewRequest(http.MethodGet, "/files/"+endpoint+"?path="+url.QueryEscape(p), nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

func filesError(call string, rec *httptest.ResponseRecorder) error {
	return &api.HTTPError{Status: rec.Code, Msg: call + ": " + strings.TrimSpace(rec.Body.String())}
}

// listFiles is LIST_FILES: the entries of a sandbox directory (or the file
// itself), in Mesos's FileInfo.
func (a *Agent) listFiles(p string) ([]*mesospb.FileInfo, error) {
	rec := a.filesCall("browse", p, nil)
	if rec.Code != http.StatusOK {
		return nil, filesError("LIST_FILES", rec)
	}
	var entries []struct {
		Path  string  `json:"path"`
		Nlink int32   `json:"nlink"`
		Size  int64   `json:"size"`
		Mtime float64 `json:"mtime"`
		Mode  string  `json:"mode"`
		UID   string  `json:"uid"`
		GID   string  `json:"gid"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &entries); err != nil {
		return nil, fmt.Errorf("decode file listing: %w", err)
	}
	out := make([]*mesospb.FileInfo, 0, len(entries))
	for _, e := range entries {
		out = append(out, &mesospb.FileInfo{
			Path:  proto.String(e.Path),
			Nlink: proto.Int32(e.Nlink),
			Size:  proto.Uint64(uint64(max(e.Size, 0))),
			Mtime: &mesospb.TimeInfo{Nanoseconds: proto.Int64(int64(e.Mtime * 1e9))},
			Mode:  proto.Uint32(statMode(e.Mode)),
			Uid:   proto.String(e.UID),
			Gid:   proto.String(e.GID),
		})
	}
	return out, nil
}

// readFile is READ_FILE: up to length bytes (to the end, at most
// files.MaxReadLength, when length < 0) from offset, and the file's size.
// The bytes come from /files/download with a Range, so they are exact
// (binary files included).
func (a *Agent) readFile(p string, offset, length int64) (int64, []byte, error) {
	if length < 0 || length > files.MaxReadLength {
		length = files.MaxReadLength
	}
	h := http.Header{}
	if length > 0 {
		h.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-"+strconv.FormatInt(offset+length-1, 10))
	} else {
		h.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-"+strconv.FormatInt(offset, 10))
	}
	rec := a.filesCall("download", p, h)
	switch rec.Code {
	case http.StatusPartialContent, http.StatusRequestedRangeNotSatisfiable:
	case http.StatusOK:
		// An empty file: no range applies.
		return int64(rec.Body.Len()), []byte{}, nil
	default:
		return 0, nil, filesError("READ_FILE", rec)
	}
	// "bytes a-b/size" or "bytes */size".
	cr := rec.Header().Get("Content-Range")
	size, err := strconv.ParseInt(cr[strings.LastIndexByte(cr, '/')+1:], 10, 64)
	if err != nil {
		return 0, nil, fmt.Errorf("read %s: content range %q: %w", p, cr, err)
	}
	if rec.Code == http.StatusRequestedRangeNotSatisfiable || length == 0 {
		return size, []byte{}, nil
	}
	return size, bytes.Clone(rec.Body.Bytes()), nil
}

// statMode turns fs.FileMode's text ("drwxr-xr-x", "ugtLrwxrwxrwx") back
// into st_mode bits, which FileInfo.mode carries.
func statMode(s string) uint32 {
	if len(s) < 9 {
		return 0
	}
	perm, flags := s[len(s)-9:], s[:len(s)-9]
	var m uint32
	for i, c := range perm {
		if c != '-' {
			m |= 1 << (8 - i)
		}
	}
	typ := uint32(0o100000) // regular file
	for _, c := range flags {
		switch c {
		case 'd':
			typ = 0o040000
		case 'L':
			typ = 0o120000
		case 'p':
			typ = 0o010000
		case 'S':
			typ = 0o140000
		case 'D':
			if typ == 0o100000 {
				typ = 0o060000
			}
		case 'c':
			typ = 0o020000
		case 'u':
			m |= 0o4000
		case 'g':
			m |= 0o2000
		case 't':
			m |= 0o1000
		}
	}
	return m | typ
}
