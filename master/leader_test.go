package master

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cairnhq/cairn/api"
)

// TestNotLeaderRedirects: a master that does not lead sends frameworks and
// operators to the leader (307), or answers 503 while no leader is known;
// calls about itself it still answers.
func TestNotLeaderRedirects(t *testing.T) {
	m, srv := testMaster(t)
	m.leader.set(leadership{self: false, addr: "10.0.0.9:5050"})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", api.ContentTypeJSON)
		res, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	for _, tc := range []struct {
		method, path, body string
		status             int
		location           string
	}{
		{"POST", "/api/v1/scheduler", `{"type":"SUBSCRIBE"}`, 307, "//10.0.0.9:5050/api/v1/scheduler"},
		{"POST", "/api/v1", `{"type":"GET_STATE"}`, 307, "//10.0.0.9:5050/api/v1"},
		{"POST", "/api/v1", `{"type":"GET_HEALTH"}`, 200, ""},
		{"GET", "/master/redirect", "", 307, "//10.0.0.9:5050/"},
		{"POST", "/master/teardown", "frameworkId=x", 307, "//10.0.0.9:5050/teardown"},
	} {
		res := do(tc.method, tc.path, tc.body)
		if res.StatusCode != tc.status || res.Header.Get("Location") != tc.location {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, res.StatusCode, res.Header.Get("Location"), tc.status, tc.location)
		}
	}
	m.leader.set(leadership{self: false})
	if res := do("POST", "/api/v1/scheduler", `{"type":"SUBSCRIBE"}`); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("no leader: %d, want 503", res.StatusCode)
	}
	m.leader.set(leadership{self: true})
	if res := do("GET", "/redirect", ""); res.StatusCode != 307 || res.Header.Get("Location") != "//test-master:5050/" {
		t.Errorf("leader's /redirect: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestOperatorPaths: /api/v1 and /api/v1/ are the operator API (Mesos's
// docs use both); other paths under it are not.
func TestOperatorPaths(t *testing.T) {
	_, srv := testMaster(t)
	for path, want := range map[string]int{"/api/v1": 200, "/api/v1/": 200, "/api/v1/executor": 404} {
		res, err := srv.Client().Post(srv.URL+path, api.ContentTypeJSON, strings.NewReader(`{"type":"GET_HEALTH"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, res.StatusCode, want)
		}
	}
}
