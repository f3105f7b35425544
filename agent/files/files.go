package files

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// MaxReadLength bounds one /files/read reply (Mesos pages reads the same way).
const MaxReadLength = 4 << 20

// Server serves files below Root.
type Server struct {
	// Root is the sandbox root, <work_dir>/slaves.
	Root string
	// AgentID returns the agent's current id, for virtual paths; an empty id
	// means virtual paths cannot be resolved yet.
	AgentID func() string
}

// Register adds the /files endpoints to mux, bare and under prefix (e.g.
// "/slave(1)") as Mesos serves them.
func (s *Server) Register(mux *http.ServeMux, prefix string) {
	for _, p := range []string{"", prefix} {
		mux.HandleFunc(p+"/files/browse", s.browse)
		mux.HandleFunc(p+"/files/read", s.read)
		mux.HandleFunc(p+"/files/download", s.download)
	}
}

type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func fail(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	var he *httpError
	if errors.As(err, &he) {
		status = he.status
	}
	http.Error(w, err.Error(), status)
}

// rel turns a request path into a path relative to Root, or an error.
func (s *Server) rel(p string) (string, error) {
	if p == "" {
		return "", &httpError{http.StatusBadRequest, "Expecting 'path=value' in query"}
	}
	if !strings.HasPrefix(p, "/") {
		return "", &httpError{http.StatusBadRequest, fmt.Sprintf("path %q must be absolute", p)}
	}
	clean := path.Clean(p)
	root := filepath.Clean(s.Root)
	switch {
	case clean == root:
		return ".", nil
	case strings.HasPrefix(clean, root+"/"):
		return strings.TrimPrefix(clean, root+"/"), nil
	case clean == "/frameworks" || strings.HasPrefix(clean, "/frameworks/"):
		id := ""
		if s.AgentID != nil {
			id = s.AgentID()
		}
		if id == "" {
			return "", &httpError{http.StatusNotFound, "the agent has no id yet"}
		}
		return path.Join(id, strings.TrimPrefix(clean, "/")), nil
	}
	return "", &httpError{http.StatusNotFound, fmt.Sprintf("path %q is not inside a sandbox", p)}
}

// open opens a path confined to Root.
func (s *Server) open(p string) (*os.File, fs.FileInfo, error) {
	rel, err := s.rel(p)
	if err != nil {
		return nil, nil, err
	}
	root, err := os.OpenRoot(s.Root)
	if err != nil {
		return nil, nil, fmt.Errorf("open sandbox root: %w", err)
	}
	defer root.Close()
	f, err := root.Open(rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, &httpError{http.StatusNotFound, fmt.Sprintf("%s: no such file or directory", p)}
		}
		// Escapes through symlinks or ".." land here too.
		return nil, nil, &httpError{http.StatusForbidden, fmt.Sprintf("%s: %v", p, err)}
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// readReply is /files/read's body, Mesos's shape.
type readReply struct {
	Data   string `json:"data"`
	Offset int64  `json:"offset"`
}

func (s *Server) read(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, fi, err := s.open(q.Get("path"))
	if err != nil {
		fail(w, err)
		return
	}
	defer f.Close()
	if fi.IsDir() {
		fail(w, &httpError{http.StatusBadRequest, "cannot read a directory"})
		return
	}
	offset, err := intParam(q.Get("offset"), -1)
	if err != nil || offset < -1 {
		fail(w, &httpError{http.StatusBadRequest, fmt.Sprintf("Failed to parse offset %q", q.Get("offset"))})
		return
	}
	length, err := intParam(q.Get("length"), -1)
	if err != nil || length < -1 {
		fail(w, &httpError{http.StatusBadRequest, fmt.Sprintf("Failed to parse length %q", q.Get("length"))})
		return
	}
	size := fi.Size()
	// Mesos: without an offset the reply only tells the size.
	if offset == -1 {
		writeJSON(w, readReply{Offset: size})
		return
	}
	if offset > size {
		offset = size
	}
	if length == -1 || length > MaxReadLength {
		length = MaxReadLength
	}
	buf := make([]byte, min(length, size-offset))
	n, err := f.ReadAt(buf, offset)
	if err != nil && !errors.Is(err, io.EOF) {
		fail(w, fmt.Errorf("read %s: %w", q.Get("path"), err))
		return
	}
	writeJSON(w, readReply{Data: string(buf[:n]), Offset: offset})
}

// fileInfo is one /files/browse entry, Mesos's shape.
type fileInfo struct {
	Path  string  `json:"path"`
	Nlink int     `json:"nlink"`
	Size  int64   `json:"size"`
	Mtime float64 `json:"mtime"`
	Mode  string  `json:"mode"`
	UID   string  `json:"uid"`
	GID   string  `json:"gid"`
}

func (s *Server) browse(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query().Get("path")
	f, fi, err := s.open(p)
	if err != nil {
		fail(w, err)
		return
	}
	defer f.Close()
	if !fi.IsDir() {
		writeJSON(w, []fileInfo{describe(p, fi)})
		return
	}
	entries, err := f.ReadDir(-1)
	if err != nil {
		fail(w, fmt.Errorf("list %s: %w", p, err))
		return
	}
	out := make([]fileInfo, 0, len(entries))
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			continue // removed while listing
		}
		out = append(out, describe(path.Join(p, e.Name()), info))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	writeJSON(w, out)
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Query().Get("path")
	f, fi, err := s.open(p)
	if err != nil {
		fail(w, err)
		return
	}
	defer f.Close()
	if fi.IsDir() {
		fail(w, &httpError{http.StatusBadRequest, "cannot download a directory"})
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", path.Base(p)))
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

func intParam(s string, def int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}
