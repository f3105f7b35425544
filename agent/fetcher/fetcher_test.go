package fetcher

import (
	"archive/tar"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnhq/cairn/api/mesospb"
	"google.golang.org/protobuf/proto"
)

// serve answers each path with its bytes; anything else is a 404.
func serve(t *testing.T, files map[string][]byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func uri(value string, opts ...func(*mesospb.CommandInfo_URI)) *mesospb.CommandInfo_URI {
	u := &mesospb.CommandInfo_URI{Value: proto.String(value)}
	for _, o := range opts {
		o(u)
	}
	return u
}

func noExtract(u *mesospb.CommandInfo_URI)  { u.Extract = proto.Bool(false) }
func executable(u *mesospb.CommandInfo_URI) { u.Executable = proto.Bool(true) }
func output(name string) func(*mesospb.CommandInfo_URI) {
	return func(u *mesospb.CommandInfo_URI) { u.OutputFile = proto.String(name) }
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFetchHTTPAndFile(t *testing.T) {
	srv := serve(t, map[string][]byte{"/dl/tool.sh": []byte("#!/bin/sh\necho hi\n"), "/data.txt": []byte("data")})
	src := filepath.Join(t.TempDir(), "local.conf")
	os.WriteFile(src, []byte("conf"), 0o600)
	sandbox := t.TempDir()

	err := New(Config{}).Fetch(context.Background(), []*mesospb.CommandInfo_URI{
		uri(srv.URL+"/dl/tool.sh", executable),
		uri(srv.URL+"/data.txt", output("sub/dir/renamed.txt")),
		uri(src),
		uri("file://"+src, output("copy.conf")),
	}, sandbox)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(sandbox, "tool.sh")); !strings.Contains(got, "echo hi") {
		t.Errorf("tool.sh = %q", got)
	}
	if st, _ := os.Stat(filepath.Join(sandbox, "tool.sh")); st.Mode().Perm()&0o111 == 0 {
		t.Errorf("tool.sh mode %v, want executable", st.Mode())
	}
	if got := readFile(t, filepath.Join(sandbox, "sub/dir/renamed.txt")); got != "data" {
		t.Errorf("renamed.txt = %q", got)
	}
	if readFile(t, filepath.Join(sandbox, "local.conf")) != "conf" || readFile(t, filepath.Join(sandbox, "copy.conf")) != "conf" {
		t.Error("local file not copied")
	}
}

func TestExtractFormats(t *testing.T) {
	entries := []entry{
		{name: "app/", typ: tar.TypeDir, mode: 0o755},
		{name: "app/run", body: "run", mode: 0o755},
		{name: "app/cfg/x.yml", body: "x: 1"},
		{name: "app/link", link: "run", typ: tar.TypeSymlink},
	}
	tarball := tarBytes(t, entries)
	srv := serve(t, map[string][]byte{
		"/a.tar":        tarball,
		"/a.tar.gz":     gzipBytes(t, tarball),
		"/a.tgz":        gzipBytes(t, tarball),
		"/a.zip":        zipBytes(t, []entry{{name: "app/run", body: "run", mode: 0o755}, {name: "app/cfg/x.yml", body: "x: 1"}, {name: "app/link", link: "run"}}),
		"/notes.txt.gz": gzipBytes(t, []byte("plain")),
		"/kept.tar":     tarball,
	})
	for _, name := range []string{"a.tar", "a.tar.gz", "a.tgz", "a.zip"} {
		t.Run(name, func(t *testing.T) {
			sandbox := t.TempDir()
			if err := New(Config{}).Fetch(context.Background(), []*mesospb.CommandInfo_URI{uri(srv.URL + "/" + name)}, sandbox); err != nil {
				t.Fatal(err)
			}
			if readFile(t, filepath.Join(sandbox, "app/run")) != "run" || readFile(t, filepath.Join(sandbox, "app/cfg/x.yml")) != "x: 1" {
				t.Error("archive content missing")
			}
			if st, _ := os.Stat(filepath.Join(sandbox, "app/run")); st.Mode().Perm()&0o100 == 0 {
				t.Errorf("app/run mode %v lost its executable bit", st.Mode())
			}
			if target, err := os.Readlink(filepath.Join(sandbox, "app/link")); err != nil || target != "run" {
				t.Errorf("app/link -> %q, %v", target, err)
			}
			if _, err := os.Stat(filepath.Join(sandbox, name)); err != nil {
				t.Errorf("archive itself not kept: %v", err)
			}
		})
	}
	t.Run("gz", func(t *testing.T) {
		sandbox := t.TempDir()
		if err := New(Config{}).Fetch(context.Background(), []*mesospb.CommandInfo_URI{uri(srv.URL + "/notes.txt.gz")}, sandbox); err != nil {
			t.Fatal(err)
		}
		if readFile(t, filepath.Join(sandbox, "notes.txt")) != "plain" {
			t.Error("notes.txt not decompressed")
		}
	})
	t.Run("extract=false", func(t *testing.T) {
		sandbox := t.TempDir()
		if err := New(Config{}).Fetch(context.Background(), []*mesospb.CommandInfo_URI{uri(srv.URL+"/kept.tar", noExtract)}, sandbox); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(sandbox, "app")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("extracted although extract=false: %v", err)
		}
	})
}

// TestRefusals: every fetch here must fail with an *Error naming its URI,
// and nothing may appear outside the sandbox.
func TestRefusals(t *testing.T) {
	parent := t.TempDir()
	big := strings.Repeat("x", 70<<10)
	srv := serve(t, map[string][]byte{
		"/slip.tar":      tarBytes(t, []entry{{name: "../escaped", body: "bad"}}),
		"/abs.tar":       tarBytes(t, []entry{{name: "/abs-escaped", body: "bad"}}),
		"/slip.zip":      zipBytes(t, []entry{{name: "../escaped", body: "bad"}}),
		"/abslink.tar":   tarBytes(t, []entry{{name: "out", link: parent, typ: tar.TypeSymlink}}),
		"/uplink.tar":    tarBytes(t, []entry{{name: "out", link: "../..", typ: tar.TypeSymlink}}),
		"/zipuplink.zip": zipBytes(t, []entry{{name: "out", link: "../x"}}),
		// "d" -> "." makes "d/../y" lexically inside but really one level up.
		"/trick.tar": tarBytes(t, []entry{{name: "d", link: ".", typ: tar.TypeSymlink},
			{name: "x", link: "d/../escaped", typ: tar.TypeSymlink}}),
		"/through.tar": tarBytes(t, []entry{{name: "d", link: "sub", typ: tar.TypeSymlink},
			{name: "sub/", typ: tar.TypeDir}, {name: "d/f", body: "ok"}, {name: "e", link: "d/../../escaped", typ: tar.TypeSymlink}}),
		"/hard.tar": tarBytes(t, []entry{{name: "h", link: "../../etc/passwd", typ: tar.TypeLink}}),
		"/big.bin":  []byte(big),
		"/bomb.tgz": gzipBytes(t, tarBytes(t, []entry{{name: "huge", body: big}})),
		"/a.tar.xz": []byte("not really xz"),
		"/":         []byte("index"),
	})
	cases := []struct {
		name string
		uri  *mesospb.CommandInfo_URI
		want string // in the error message: the refusal is for this reason
	}{
		{"tar dot-dot", uri(srv.URL + "/slip.tar"), `entry "../escaped" escapes the sandbox`},
		{"tar absolute", uri(srv.URL + "/abs.tar"), "has an absolute path"},
		{"zip dot-dot", uri(srv.URL + "/slip.zip"), `entry "../escaped" escapes the sandbox`},
		{"absolute symlink", uri(srv.URL + "/abslink.tar"), "outside the sandbox"},
		{"climbing symlink", uri(srv.URL + "/uplink.tar"), "outside the sandbox"},
		{"zip climbing symlink", uri(srv.URL + "/zipuplink.zip"), "outside the sandbox"},
		{"symlink through symlink", uri(srv.URL + "/trick.tar"), `symlink "x" resolves outside the sandbox`},
		{"symlink via dir link", uri(srv.URL + "/through.tar"), `symlink "e"`},
		{"hard link out", uri(srv.URL + "/hard.tar"), "target outside the sandbox"},
		{"download too large", uri(srv.URL + "/big.bin"), "size limit"},
		{"archive bomb", uri(srv.URL + "/bomb.tgz"), "write huge: more than"},
		{"xz", uri(srv.URL + "/a.tar.xz"), "xz archives: not supported"},
		{"404", uri(srv.URL + "/missing.tar"), "404"},
		{"no file name", uri(srv.URL + "/"), "no file name"},
		{"output escapes", uri(srv.URL+"/slip.tar", output("../../x")), "output_file"},
		{"output absolute", uri(srv.URL+"/slip.tar", output("/tmp/x")), "output_file"},
		{"relative path", uri("relative/file"), "relative path"},
		{"unknown scheme", uri("hdfs://nn/file"), `scheme "hdfs"`},
		{"remote file host", uri("file://otherhost/etc/hosts"), "only local files"},
		{"missing local", uri("/does/not/exist"), "no such file"},
		{"local directory", uri(parent), "not a regular file"},
		{"empty", uri(""), "empty URI"},
	}
	f := New(Config{MaxBytes: 64 << 10})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sandbox := filepath.Join(parent, "sb-"+strings.ReplaceAll(c.name, " ", "-"), "a", "b")
			os.MkdirAll(sandbox, 0o755)
			err := f.Fetch(context.Background(), []*mesospb.CommandInfo_URI{c.uri}, sandbox)
			var fe *Error
			if !errors.As(err, &fe) || fe.URI != c.uri.GetValue() {
				t.Fatalf("err = %v, want *Error for %q", err, c.uri.GetValue())
			}
			if !strings.Contains(err.Error(), c.uri.GetValue()) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("message %q does not name the URI or say %q", err, c.want)
			}
			for _, p := range []string{filepath.Join(sandbox, "..", "escaped"), filepath.Join(sandbox, "..", "..", "escaped"), "/abs-escaped"} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s written outside the sandbox", p)
				}
			}
			if st, err := os.Lstat(filepath.Join(sandbox, "out")); err == nil && st.Mode()&os.ModeSymlink != 0 {
				t.Error("escaping symlink left in the sandbox")
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	err := New(Config{Timeout: 50 * time.Millisecond}).Fetch(context.Background(),
		[]*mesospb.CommandInfo_URI{uri(srv.URL + "/slow.bin")}, t.TempDir())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
}

func TestStopsAtFirstFailure(t *testing.T) {
	srv := serve(t, map[string][]byte{"/ok": []byte("ok")})
	sandbox := t.TempDir()
	err := New(Config{}).Fetch(context.Background(), []*mesospb.CommandInfo_URI{
		uri(srv.URL + "/missing"), uri(srv.URL + "/ok"),
	}, sandbox)
	var fe *Error
	if !errors.As(err, &fe) || !strings.HasSuffix(fe.URI, "/missing") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(sandbox, "ok")); !errors.Is(err, os.ErrNotExist) {
		t.Error("fetch went on after a failure")
	}
}
