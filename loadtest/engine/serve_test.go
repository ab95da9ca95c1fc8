package engine_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/engine"
)

func TestServeMetrics(t *testing.T) {
	ms, err := engine.ServeMetrics("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ms.Handle("/extra", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "extra_series 1\n") }))
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (string, error) {
		resp, err := client.Get("http://" + ms.Addr + path)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return string(body), err
	}
	for path, want := range map[string]string{"/metrics": "go_goroutines", "/extra": "extra_series 1"} {
		body, err := get(path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		if !strings.Contains(body, want) {
			t.Errorf("GET %s lacks %q", path, want)
		}
	}
	if ms.Metrics == nil {
		t.Fatal("no Metrics to give the engine")
	}
	if err := ms.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := get("/metrics"); err == nil {
		t.Error("still serving after Close")
	}
}

func TestServeMetricsOnATakenAddress(t *testing.T) {
	ms, err := engine.ServeMetrics("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close() })
	if _, err := engine.ServeMetrics(ms.Addr); err == nil || !strings.Contains(err.Error(), "metrics address "+ms.Addr) {
		t.Fatalf("second listener on %s: err = %v, want one naming the address", ms.Addr, err)
	}
}
