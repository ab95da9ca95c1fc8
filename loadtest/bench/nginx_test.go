package bench

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// nginxForTest finds nginx, or skips; REQUIRE_NGINX=1 makes a missing
// nginx a failure.
func nginxForTest(t *testing.T) string {
	t.Helper()
	bin, err := FindNginx()
	if err != nil {
		if os.Getenv("REQUIRE_NGINX") == "1" {
			t.Fatalf("%v, and REQUIRE_NGINX=1", err)
		}
		t.Skipf("%v (REQUIRE_NGINX=1 to fail instead)", err)
	}
	return bin
}

func TestNginx(t *testing.T) {
	bin := nginxForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := StartNginx(ctx, bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	dir, pid := n.dir, n.Pid()

	for _, path := range []string{"/ping", "/anything/else"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != Body || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s: %d %q %q; want 200 %s application/json", path, resp.StatusCode, resp.Header.Get("Content-Type"), body, Body)
		}
	}
	if _, err := processCPU(pid); err != nil {
		t.Errorf("nginx's CPU: %v (is it one process?)", err)
	}

	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("nginx's directory %s is still there: %v", dir, err)
	}
	waitGone(t, pid)
	if _, err := http.Get(n.URL + "/ping"); err == nil {
		t.Error("nginx still answers after Stop")
	}
	if err := n.Stop(); err != nil {
		t.Errorf("a second Stop: %v", err)
	}
}

// An nginx that cannot start says why, and leaves no directory behind.
func TestNginxBadExecutable(t *testing.T) {
	root := t.TempDir()
	_, err := StartNginx(context.Background(), "/bin/false", root)
	if err == nil {
		t.Fatal("started")
	}
	if !strings.Contains(err.Error(), "nginx exited") {
		t.Errorf("error %v; want it to say nginx exited", err)
	}
	if left, _ := os.ReadDir(root); len(left) > 0 {
		t.Errorf("left %v behind", left)
	}
}

func TestNginxConf(t *testing.T) {
	conf := nginxConf("/tmp/x", 8123)
	for _, want := range []string{
		"worker_processes 1;", "master_process off;", "daemon off;", "access_log off;",
		"listen 127.0.0.1:8123", "default_type application/json;", `return 200 '{"ok":true}';`,
		"pid /tmp/x/nginx.pid;", "client_body_temp_path /tmp/x/client_body;",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
}
