package files

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

func setup(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	work := t.TempDir()
	root := filepath.Join(work, "slaves")
	run := filepath.Join(root, "A-S0", "frameworks", "F", "executors", "E", "runs", "C1")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run, "stdout"), []byte("hello world\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("C1", filepath.Join(filepath.Dir(run), "latest")); err != nil {
		t.Fatal(err)
	}
	// A secret outside the root and symlinks that try to reach it.
	if err := os.WriteFile(filepath.Join(work, "secret"), []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(work, "secret"), filepath.Join(run, "abs-escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../../secret", filepath.Join(run, "rel-escape")); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&Server{Root: root, AgentID: func() string { return "A-S0" }}).Register(mux, "/slave(1)")
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, run
}

func get(t *testing.T, srv *httptest.Server, endpoint, p string, extra string) (int, []byte) {
	t.Helper()
	res, err := http.Get(srv.URL + endpoint + "?path=" + url.QueryEscape(p) + extra)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf [1 << 16]byte
	n, _ := res.Body.Read(buf[:])
	return res.StatusCode, buf[:n]
}

func TestReadAbsoluteAndVirtualPaths(t *testing.T) {
	srv, run := setup(t)
	for _, p := range []string{
		filepath.Join(run, "stdout"),
		"/frameworks/F/executors/E/runs/latest/stdout",
	} {
		code, body := get(t, srv, "/files/read", p, "&offset=6&length=5")
		if code != 200 {
			t.Fatalf("read %s: %d %s", p, code, body)
		}
		var r readReply
		if err := json.Unmarshal(body, &r); err != nil || r.Data != "world" || r.Offset != 6 {
			t.Errorf("read %s = %+v, %v; want world at 6", p, r, err)
		}
	}
	// No offset: only the size.
	code, body := get(t, srv, "/slave(1)/files/read", filepath.Join(run, "stdout"), "")
	var r readReply
	if code != 200 || json.Unmarshal(body, &r) != nil || r.Offset != 12 || r.Data != "" {
		t.Errorf("size read = %d %s", code, body)
	}
}

func TestNeverServesOutsideTheSandboxRoot(t *testing.T) {
	srv, run := setup(t)
	for _, p := range []string{
		filepath.Join(run, "abs-escape"),
		filepath.Join(run, "rel-escape"),
		filepath.Join(run, "..", "..", "..", "..", "..", "..", "secret"),
		"/frameworks/../../secret",
		"/etc/passwd",
		"relative/path",
		"",
	} {
		for _, ep := range []string{"/files/read", "/files/download", "/files/browse"} {
			code, body := get(t, srv, ep, p, "&offset=0")
			if code == 200 {
				t.Errorf("%s %q served: %s", ep, p, body)
			}
			if bytes.Contains(body, []byte("s3cret")) {
				t.Errorf("%s %q leaked the secret", ep, p)
			}
		}
	}
}

func TestBrowseAndDownload(t *testing.T) {
	srv, run := setup(t)
	code, body := get(t, srv, "/files/browse", run, "")
	var list []fileInfo
	if code != 200 || json.Unmarshal(body, &list) != nil {
		t.Fatalf("browse = %d %s", code, body)
	}
	found := false
	for _, fi := range list {
		if fi.Path == filepath.Join(run, "stdout") && fi.Size == 12 {
			found = true
		}
	}
	if !found {
		t.Errorf("browse did not list stdout: %s", body)
	}
	code, body = get(t, srv, "/files/download", filepath.Join(run, "stdout"), "")
	if code != 200 || string(body) != "hello world\n" {
		t.Errorf("download = %d %q", code, body)
	}
}

func TestBadOffsets(t *testing.T) {
	srv, run := setup(t)
	for _, q := range []string{"&offset=x", "&offset=-5", "&offset=0&length=-2"} {
		if code, _ := get(t, srv, "/files/read", filepath.Join(run, "stdout"), q); code != 400 {
			t.Errorf("read %s = %d, want 400", q, code)
		}
	}
}
