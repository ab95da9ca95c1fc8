package server_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/internal/syncio"
)

// This file tests the API at its HTTP edges over raw TCP: what a client
// gets when it sends what net/http would never send, or too much of it.

// rawConn dials the instance with a deadline the test cannot outlive.
func (in *instance) rawConn(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(in.base, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	return c
}

// rawAnswer is one HTTP response read off a raw connection.
type rawAnswer struct {
	status  int
	header  http.Header
	message string // the {"message"} of a JSON body
	body    []byte
	close   bool // Connection: close (net/http moves it out of header)
}

// readAnswer reads one response from br.
func readAnswer(t *testing.T, br *bufio.Reader) (rawAnswer, error) {
	t.Helper()
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		return rawAnswer{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return rawAnswer{}, fmt.Errorf("read body: %w", err)
	}
	a := rawAnswer{status: res.StatusCode, header: res.Header, body: body, close: res.Close}
	var m struct{ Message string }
	if json.Unmarshal(body, &m) == nil {
		a.message = m.Message
	}
	return a, nil
}

// expectJSONError fails unless a is status with a {"message"} JSON body
// and the headers every answer carries.
func (a rawAnswer) expectJSONError(t *testing.T, status int, what string) {
	t.Helper()
	if a.status != status || a.message == "" || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		t.Errorf("%s: got %d %q %q; want %d with a JSON {message}", what, a.status, a.header.Get("Content-Type"), a.body, status)
	}
	if a.header.Get("X-Content-Type-Options") != "nosniff" || a.header.Get("X-Request-Id") == "" {
		t.Errorf("%s: answer lacks the security headers or the request id: %v", what, a.header)
	}
}

func TestInvalidUTF8InRequestTargetIs400(t *testing.T) {
	in := newEnv(t).start(t)
	c := in.client(t)
	c.register("Utf")
	task := c.createTask(map[string]any{"title": "café"})

	tests := []struct {
		name, target string
		status       int
	}{
		{"percent-encoded invalid search", "/api/tasks?search=%ff%fe", 400},
		{"raw invalid search", "/api/tasks?search=\xff\xfe", 400},
		{"truncated sequence", "/api/tasks?search=caf%C3", 400},
		{"overlong encoding", "/api/tasks?search=%C0%AF", 400},
		{"surrogate half", "/api/tasks?search=%ED%A0%80", 400},
		{"invalid key", "/api/tasks?%ff=1", 400},
		{"ignored parameter still checked", "/api/tasks?_=%fe", 400},
		{"invalid path", "/api/tasks/%ff%fe", 400},
		{"raw invalid path", "/api/t\xffasks", 400},
		{"valid search", "/api/tasks?search=caf%C3%A9", 200},
		{"valid raw search", "/api/tasks?search=caf\xc3\xa9", 200},
		{"valid id", "/api/tasks/" + task["_id"].(string), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := in.rawConn(t)
			fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer %s\r\n\r\n", tt.target, c.token)
			a, err := readAnswer(t, bufio.NewReader(conn))
			if err != nil {
				t.Fatalf("GET %q: %v", tt.target, err)
			}
			if tt.status == 200 {
				if a.status != 200 {
					t.Errorf("GET %q = %d %s; want 200", tt.target, a.status, a.body)
				}
				return
			}
			a.expectJSONError(t, tt.status, "GET "+tt.target)
			if !strings.Contains(a.message, "UTF-8") {
				t.Errorf("GET %q message = %q; want it to say UTF-8", tt.target, a.message)
			}
		})
	}
}

func TestContentLengthWithTransferEncodingClosesTheConnection(t *testing.T) {
	in := newEnv(t).start(t)
	c := in.client(t)
	c.register("Smuggler")
	victim := c.createTask(map[string]any{"title": "must survive"})
	id := victim["_id"].(string)

	// The smuggled request deletes the task: if it were ever served, the
	// task would be gone, whatever the client managed to read.
	smuggled := fmt.Sprintf("DELETE /api/tasks/%s HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer %s\r\n\r\n", id, c.token)
	body := "0\r\n\r\n" + smuggled
	tests := []struct {
		name, headers string
	}{
		{"CL then TE", fmt.Sprintf("Content-Length: %d\r\nTransfer-Encoding: chunked\r\n", 5)},
		{"TE then CL", fmt.Sprintf("Transfer-Encoding: chunked\r\nContent-Length: %d\r\n", 5)},
		{"lower case, CL covering all", fmt.Sprintf("content-length: %d\r\ntransfer-encoding: chunked\r\n", len(body))},
		{"identity", fmt.Sprintf("Transfer-Encoding: identity\r\nContent-Length: %d\r\n", 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := in.rawConn(t)
			fmt.Fprintf(conn, "POST /api/tasks HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n%s\r\n%s",
				c.token, tt.headers, body)
			br := bufio.NewReader(conn)
			a, err := readAnswer(t, br)
			if err != nil {
				t.Fatalf("first answer: %v", err)
			}
			a.expectJSONError(t, 400, "CL+TE")
			if !strings.Contains(a.message, "Content-Length") || !a.close {
				t.Errorf("answer = %q, close %v; want the framing named and Connection: close", a.message, a.close)
			}
			if extra, err := readAnswer(t, br); err == nil {
				t.Errorf("a second answer came on the same connection: %d %s", extra.status, extra.body)
			}
			c.do("GET", "/api/tasks/"+id, nil).expect(t, 200, "")
		})
	}

	// The control: the same pipelined DELETE after a well-framed request is
	// served, so its absence above is the server's doing.
	other := c.createTask(map[string]any{"title": "deleted by the control"})
	conn := in.rawConn(t)
	fmt.Fprintf(conn, "GET /api/health HTTP/1.1\r\nHost: api\r\n\r\nDELETE /api/tasks/%s HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer %s\r\n\r\n",
		other["_id"], c.token)
	br := bufio.NewReader(conn)
	for i, want := range []int{200, 200} {
		a, err := readAnswer(t, br)
		if err != nil || a.status != want {
			t.Fatalf("pipelined answer %d = %d, %v; want %d", i, a.status, err, want)
		}
	}
}

func TestEveryErrorIsJSON(t *testing.T) {
	in := newEnv(t).start(t)
	tests := []struct {
		method, path string
		status       int
	}{
		{"PROPFIND", "/api/health", 501},
		{"BREW", "/api/tasks", 501},
		{"get", "/api/health", 501}, // methods are case-sensitive
		{"PATCH", "/api/health", 405},
		{"GET", "/nope", 404},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			conn := in.rawConn(t)
			fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: api\r\n\r\n", tt.method, tt.path)
			a, err := readAnswer(t, bufio.NewReader(conn))
			if err != nil {
				t.Fatal(err)
			}
			a.expectJSONError(t, tt.status, tt.method+" "+tt.path)
		})
	}
	text := metricsText(t, in)
	if !strings.Contains(text, `taskapi_http_requests_total{method="OTHER",route="unmatched",status_class="5xx"} 3`) ||
		strings.Contains(text, `method="BREW"`) {
		t.Errorf("unknown methods should be counted as OTHER, never by name:\n%s", grepLines(text, "taskapi_http_requests_total"))
	}
}

// grepLines returns the lines of text containing s.
func grepLines(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestOversizedRequestsAreDrainedSoWholeBodyClientsReadTheAnswer(t *testing.T) {
	in := newEnv(t).start(t, "BODY_LIMIT=100kb")
	c := in.client(t)
	c.register("Big")

	pad := strings.Repeat("a", 1000)
	var bigHeaders strings.Builder
	for i := range 70 { // 70 KB of headers, over fasthttp's 4 KB read buffer
		fmt.Fprintf(&bigHeaders, "X-Pad-%d: %s\r\n", i, pad)
	}
	tests := []struct {
		name   string
		head   string
		body   int64
		status int
	}{
		{"1 MB body", fmt.Sprintf("POST /api/tasks HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", c.token, 1<<20), 1 << 20, 413},
		{"10 MB body", fmt.Sprintf("POST /api/auth/register HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 10<<20), 10 << 20, 413},
		{"70 KB of headers", "GET /api/tasks HTTP/1.1\r\nHost: api\r\n" + bigHeaders.String() + "\r\n", 0, 431},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := in.rawConn(t)
			// Write everything before reading, as urllib and many SDKs do.
			if _, err := io.WriteString(conn, tt.head); err != nil {
				t.Fatalf("write head: %v", err)
			}
			if _, err := io.Copy(conn, io.LimitReader(zeroReader{}, tt.body)); err != nil {
				t.Fatalf("write body: %v (the server reset the connection)", err)
			}
			a, err := readAnswer(t, bufio.NewReader(conn))
			if err != nil {
				t.Fatalf("read answer: %v (want the %d, not a reset)", err, tt.status)
			}
			a.expectJSONError(t, tt.status, tt.name)
		})
	}
	text := metricsText(t, in)
	for _, want := range []string{
		`taskapi_connections_drained_total 3`,
		`taskapi_http_requests_total{method="POST",route="unmatched",status_class="4xx"} 2`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(text, "unmatched")+"\n"+grepLines(text, "drained"))
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestTimeoutsAreConnectionEventsNotRequests(t *testing.T) {
	var logs syncio.Buffer
	in := newEnv(t).startLogged(t, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})))

	// One client connects and says nothing; another starts a request and
	// stalls. Both must be cut off by the read timeout (10 s).
	idle := in.rawConn(t)
	slow := in.rawConn(t)
	if _, err := io.WriteString(slow, "GET /api/health HTTP/1.1\r\nHost: a"); err != nil {
		t.Fatal(err)
	}
	for name, conn := range map[string]net.Conn{"idle": idle, "slow": slow} {
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.ReadAll(conn); err != nil && !errors.Is(err, net.ErrClosed) {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("%s client: the server did not close within 20s", name)
			}
		}
	}

	text := metricsText(t, in)
	if !strings.Contains(text, "taskapi_connection_timeouts_total 2") {
		t.Errorf("/metrics: want taskapi_connection_timeouts_total 2:\n%s", grepLines(text, "taskapi_connection"))
	}
	if got := grepLines(text, `taskapi_http_requests_total{`); strings.Contains(got, "unmatched") || strings.Contains(got, "4xx") {
		t.Errorf("timeouts were counted as requests:\n%s", got)
	}
	log := logs.String()
	if n := strings.Count(log, "connection timed out"); n != 2 {
		t.Errorf("log has %d timeout lines; want 2:\n%s", n, log)
	}
	if strings.Contains(log, `"msg":"request"`) && !strings.Contains(log, `"route":"/metrics"`) {
		t.Errorf("a timeout was logged as a request:\n%s", log)
	}
}

func TestMaxConnectionsRefusesTheExcess(t *testing.T) {
	in := newEnv(t).start(t, "MAX_CONNECTIONS=3")
	get := func(conn net.Conn, br *bufio.Reader, path string) rawAnswer {
		t.Helper()
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: api\r\n\r\n", path)
		a, err := readAnswer(t, br)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return a
	}
	// Three keep-alive clients hold the three slots.
	var held []net.Conn
	var readers []*bufio.Reader
	for range 3 {
		conn := in.rawConn(t)
		br := bufio.NewReader(conn)
		if a := get(conn, br, "/api/health"); a.status != 200 {
			t.Fatalf("a client under the cap got %d", a.status)
		}
		held, readers = append(held, conn), append(readers, br)
	}
	// The fourth is refused at once with a 503 it can read.
	start := time.Now()
	conn := in.rawConn(t)
	a := get(conn, bufio.NewReader(conn), "/api/health")
	a.expectJSONErrorNoHeaders(t, 503, "over MAX_CONNECTIONS")
	if a.header.Get("Retry-After") == "" {
		t.Errorf("refusal without Retry-After: %v", a.header)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("refusal took %v; want it quick", took)
	}
	// A held connection still works, and the metrics report the refusal.
	if a := get(held[0], readers[0], "/api/health"); a.status != 200 {
		t.Errorf("a held connection got %d after the refusal", a.status)
	}
	if text := metricsText(t, in); !strings.Contains(text, "taskapi_connections_refused_total 1") ||
		!strings.Contains(text, "taskapi_connections_open 3") {
		t.Errorf("/metrics:\n%s", grepLines(text, "taskapi_connections"))
	}
	// Freeing a slot lets the next client in.
	_ = held[1].Close()
	eventually(t, 5*time.Second, "a client is served after a slot is freed", func() bool {
		conn, err := net.DialTimeout("tcp", strings.TrimPrefix(in.base, "http://"), time.Second)
		if err != nil {
			return false
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(conn, "GET /api/health HTTP/1.1\r\nHost: api\r\n\r\n")
		a, err := readAnswer(t, bufio.NewReader(conn))
		return err == nil && a.status == 200
	})
}

// expectJSONErrorNoHeaders is expectJSONError for the listener's refusal,
// which is written before any request is read and so has no request id.
func (a rawAnswer) expectJSONErrorNoHeaders(t *testing.T, status int, what string) {
	t.Helper()
	if a.status != status || a.message == "" || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") {
		t.Errorf("%s: got %d %q %q; want %d with a JSON {message}", what, a.status, a.header.Get("Content-Type"), a.body, status)
	}
}
