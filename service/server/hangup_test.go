package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/internal/syncio"
)

// A request whose client hangs up while it waits for a slot leaves the
// queue at once, instead of waiting out the work ahead of it and then
// doing its own for nobody; its log line and metrics say 499 (client
// closed request), never a server error.
//
// One registration holds the only bcrypt slot (cost 13: about 0.4 s here,
// 5 s under the race detector) while a login queues behind it and its
// client closes the connection. The login must be gone from the queue
// while the registration still hashes.
func TestHungUpClientLeavesTheQueue(t *testing.T) {
	var logs syncio.Buffer
	in := newEnv(t).startLogged(t, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		"HASH_CONCURRENCY=1", "BCRYPT_COST=13", "REQUEST_TIMEOUT=2m")
	gauge := func(name string) int {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\d+)`).FindStringSubmatch(metricsText(t, in))
		if m == nil {
			return -1
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	// Polls every few milliseconds: the registration's hash is the clock.
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within a minute", what)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	const inFlight, queued = `taskapi_admission_in_flight{limiter="hash"}`, `taskapi_admission_queued{limiter="hash"}`
	const gone = `taskapi_admission_rejected_total{limiter="hash",reason="gone"}`

	registered := make(chan int, 1)
	go func() {
		status, _, _, _, err := post(in.base, "/api/auth/register",
			map[string]string{"name": "Slow", "email": "slow@example.com", "password": "password-123"}, "")
		if err != nil {
			t.Errorf("register: %v", err)
		}
		registered <- status
	}()
	waitFor("the registration holds the hash slot", func() bool { return gauge(inFlight) == 1 })

	login := in.rawConn(t)
	body := `{"email":"nobody@example.com","password":"password-123"}`
	if _, err := io.WriteString(login, "POST /api/auth/login HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: "+
		strconv.Itoa(len(body))+"\r\n\r\n"+body); err != nil {
		t.Fatal(err)
	}
	waitFor("the login queues behind it", func() bool { return gauge(queued) == 1 })
	_ = login.Close()
	waitFor("the login leaves the queue", func() bool { return gauge(queued) == 0 })

	if n := gauge(gone); n != 1 {
		t.Errorf("%s = %d; want 1: the login left the queue for another reason", gone, n)
	}
	select {
	case status := <-registered:
		t.Fatalf("the registration ended (%d) before the login left the queue: the hash was too quick to tell; the test needs a higher BCRYPT_COST here", status)
	default:
	}
	if got := gauge(inFlight); got != 1 {
		t.Errorf("%s = %d while the registration hashes; want 1", inFlight, got)
	}
	if status := <-registered; status != http.StatusCreated {
		t.Errorf("the registration ahead answered %d; want 201", status)
	}

	var loginLine string
	for line := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(line, `"msg":"request"`) && strings.Contains(line, `"route":"/api/auth/login"`) {
			loginLine = line
		}
	}
	if !strings.Contains(loginLine, `"status":499`) {
		t.Errorf("the login's log line = %q; want status 499", loginLine)
	}
	const counted = `taskapi_http_requests_total{method="POST",route="/api/auth/login",status_class="4xx"} 1`
	if text := metricsText(t, in); !strings.Contains(text, counted) || strings.Contains(grepLines(text, "/api/auth/login"), "5xx") {
		t.Errorf("/metrics: want %s and no 5xx:\n%s", counted, grepLines(text, "/api/auth/login"))
	}
}
