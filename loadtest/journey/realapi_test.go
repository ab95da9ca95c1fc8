package journey_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/journey"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/loadtest/transport"
)

// startTaskAPI builds and starts the real API with embedded stores and
// returns its base URL; it is stopped with SIGTERM when the test ends.
func startTaskAPI(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "taskapi")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/taskapi").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	logPath := filepath.Join(dir, "taskapi.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "PORT=" + strconv.Itoa(port),
		"DATA_DIR=" + filepath.Join(dir, "data"), "BCRYPT_COST=4", "RATE_LIMIT_AUTH=1000/1m", "METRICS_ADDR=127.0.0.1:0"}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// exited closes once the process has ended, waitErr then holds how:
	// a channel every wait below can read, so that the readiness loop
	// seeing an early exit does not leave the cleanup waiting forever.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
			if waitErr != nil && !t.Failed() {
				t.Errorf("taskapi exit after SIGTERM: %v", waitErr)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Error("taskapi did not stop within 30s of SIGTERM")
		}
		logFile.Close()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("taskapi log:\n%s", out)
		}
	})

	base := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-exited:
			out, _ := os.ReadFile(logPath)
			t.Fatalf("taskapi exited before it was ready: %v\n%s", waitErr, out)
		default:
		}
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("taskapi not ready within 60s: %v %v", res, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func postJSON(t *testing.T, url, token string, body any, want int) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != want {
		t.Fatalf("POST %s = %d %v; want %d", url, res.StatusCode, out, want)
	}
	return out
}

// TestSmokeJourneysAgainstTheRealAPI runs the shipped smoke journeys for a
// freshly registered user against the real API.
func TestSmokeJourneysAgainstTheRealAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the API")
	}
	base := startTaskAPI(t)
	file, err := scenario.Load("../../scenarios/smoke.yaml")
	if err != nil {
		t.Fatal(err)
	}
	user := journey.User{Index: 0, Email: "journey@example.com", Password: "secret-pass-1"}
	postJSON(t, base+"/api/auth/register", "", map[string]string{"name": "Journey", "email": user.Email, "password": user.Password}, 201)

	vu := journey.VU{ID: 1, Iteration: 0, User: user, Client: &http.Client{}, Target: base}
	tags := journey.Tags{Scenario: "smoke", Phase: "smoke"}
	var slept time.Duration
	sleep := func(ctx context.Context, d time.Duration) error { slept += d; return nil }
	runJourney := func(name string) {
		t.Helper()
		j := file.Journeys[name]
		ss := journey.Run(context.Background(), j, vu, tags, journey.Sleep(sleep))
		if len(ss) != len(j.Steps) {
			t.Errorf("%s: %d samples; want %d", name, len(ss), len(j.Steps))
		}
		for _, s := range ss {
			if s.CheckPassed == nil || !*s.CheckPassed || s.Err != "" {
				t.Errorf("%s/%s: status %d, err %q, check %v; want passed", name, s.Step, s.Status, s.Err, s.CheckPassed)
			}
		}
		vu.Iteration++
	}

	// write creates, updates and deletes its own task.
	runJourney("write")
	// browse's list extracts the first task and gets it: leave one there.
	token, _ := postJSON(t, base+"/api/auth/login", "", map[string]string{"email": user.Email, "password": user.Password}, 200)["token"].(string)
	postJSON(t, base+"/api/tasks", token, map[string]string{"title": "a report to write", "status": "pending"}, 201)
	runJourney("browse")
	if want := 9 * 100 * time.Millisecond; slept != want {
		t.Errorf("think time slept = %v; want %v", slept, want)
	}

	// Again through the fasthttp transport, which Run drives with
	// Exchange rather than client.Do: the API must see no difference.
	vu.Client = transport.NewClient(transport.Options{})
	runJourney("write")
	runJourney("browse")
}
