package listener

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// fakeListener returns the queued errors, then the queued conns, then
// blocks until closed: accept errors cannot be provoked safely for real
// (lowering RLIMIT_NOFILE would starve the whole test binary).
type fakeListener struct {
	mu     sync.Mutex
	errs   []error
	conns  []net.Conn
	closed chan struct{}
	once   sync.Once
}

func newFake(errs []error, conns ...net.Conn) *fakeListener {
	return &fakeListener{errs: errs, conns: conns, closed: make(chan struct{})}
}

func (f *fakeListener) Accept() (net.Conn, error) {
	f.mu.Lock()
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		f.mu.Unlock()
		return nil, err
	}
	if len(f.conns) > 0 {
		c := f.conns[0]
		f.conns = f.conns[1:]
		f.mu.Unlock()
		return c, nil
	}
	f.mu.Unlock()
	<-f.closed
	return nil, net.ErrClosed
}

func (f *fakeListener) Close() error {
	f.once.Do(func() { close(f.closed) })
	return nil
}

func (f *fakeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// acceptErr is what net.TCPListener.Accept returns for errno.
func acceptErr(errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}
}

// logLines collects the messages logged through it.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, string(p))
		return len(p), nil
	}), nil))
}

func (l *logLines) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func counterValue(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 16)
	c.Collect(ch)
	close(ch)
	var sum float64
	for m := range ch {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatal(err)
		}
		switch {
		case pb.Counter != nil:
			sum += pb.Counter.GetValue()
		case pb.Gauge != nil:
			sum += pb.Gauge.GetValue()
		}
	}
	return sum
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestAcceptRetriesTemporaryErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		errs   []error
		delays []time.Duration
		labels map[string]float64
	}{
		{"one EMFILE", []error{acceptErr(syscall.EMFILE)}, []time.Duration{ms(5)}, map[string]float64{"emfile": 1}},
		{
			"EMFILE and ENFILE double the wait",
			[]error{acceptErr(syscall.EMFILE), acceptErr(syscall.EMFILE), acceptErr(syscall.ENFILE), acceptErr(syscall.EMFILE)},
			[]time.Duration{ms(5), ms(10), ms(20), ms(40)},
			map[string]float64{"emfile": 3, "enfile": 1},
		},
		{
			"the wait stops growing at 1s",
			[]error{
				acceptErr(syscall.EMFILE), acceptErr(syscall.EMFILE), acceptErr(syscall.EMFILE), acceptErr(syscall.EMFILE),
				acceptErr(syscall.EMFILE), acceptErr(syscall.EMFILE), acceptErr(syscall.EMFILE), acceptErr(syscall.EMFILE),
				acceptErr(syscall.EMFILE), acceptErr(syscall.EMFILE),
			},
			[]time.Duration{ms(5), ms(10), ms(20), ms(40), ms(80), ms(160), ms(320), ms(640), time.Second, time.Second},
			map[string]float64{"emfile": 10},
		},
		{
			"buffers, memory and aborted handshakes are retried too",
			[]error{acceptErr(syscall.ENOBUFS), acceptErr(syscall.ENOMEM), acceptErr(syscall.ECONNABORTED)},
			[]time.Duration{ms(5), ms(10), ms(20)},
			map[string]float64{"enobufs": 1, "enomem": 1, "other": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			server, client := net.Pipe()
			t.Cleanup(func() { _ = server.Close(); _ = client.Close() })
			var logs logLines
			m := NewMetrics()
			l := New(newFake(tt.errs, server), Options{Log: logs.logger(), Metrics: m})
			t.Cleanup(func() { _ = l.Close() })
			var delays []time.Duration
			l.sleep = func(d time.Duration, _ <-chan struct{}) { delays = append(delays, d) }

			c, err := l.Accept()
			if err != nil {
				t.Fatalf("Accept() error = %v; want the conn after %d temporary errors", err, len(tt.errs))
			}
			if _, ok := c.(*Conn); !ok {
				t.Errorf("Accept() = %T; want *listener.Conn", c)
			}
			if fmt.Sprint(delays) != fmt.Sprint(tt.delays) {
				t.Errorf("backoff waits = %v; want %v", delays, tt.delays)
			}
			for label, want := range tt.labels {
				if got := counterValue(t, m.AcceptErrors.WithLabelValues(label)); got != want {
					t.Errorf("taskapi_accept_errors_total{reason=%q} = %v; want %v", label, got, want)
				}
			}
			lines := logs.get()
			if len(lines) != 2 || !strings.Contains(lines[0], "accept failing") || !strings.Contains(lines[1], "accept recovered") ||
				!strings.Contains(lines[1], fmt.Sprintf("errors=%d", len(tt.errs))) {
				t.Errorf("log = %q; want one line when accepting starts failing and one when it recovers", lines)
			}
			if got := l.Open(); got != 1 {
				t.Errorf("Open() = %d; want 1", got)
			}
		})
	}
}

func TestAcceptLogsAtMostOneEpisodeInTenSeconds(t *testing.T) {
	t.Parallel()
	// Two episodes back to back (error, conn, error, conn): the second is
	// counted but not logged, as happens at the descriptor limit.
	a, b := net.Pipe()
	c, d := net.Pipe()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close(); _ = c.Close(); _ = d.Close() })
	fake := newFake([]error{acceptErr(syscall.EMFILE)}, a)
	var logs logLines
	m := NewMetrics()
	l := New(fake, Options{Log: logs.logger(), Metrics: m})
	t.Cleanup(func() { _ = l.Close() })
	l.sleep = func(time.Duration, <-chan struct{}) {}
	for range 2 {
		if _, err := l.Accept(); err != nil {
			t.Fatal(err)
		}
		fake.mu.Lock()
		fake.errs, fake.conns = []error{acceptErr(syscall.EMFILE)}, []net.Conn{c}
		fake.mu.Unlock()
	}
	if got := counterValue(t, m.AcceptErrors); got != 2 {
		t.Errorf("taskapi_accept_errors_total = %v; want 2", got)
	}
	if lines := logs.get(); len(lines) != 2 {
		t.Errorf("log = %q; want only the first episode's two lines", lines)
	}
}

func TestAcceptReturnsPermanentErrorsAndClose(t *testing.T) {
	t.Parallel()
	permanent := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EINVAL)}
	l := New(newFake([]error{permanent}), Options{})
	if _, err := l.Accept(); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Accept() error = %v; want the permanent EINVAL returned", err)
	}

	// Close during a backoff wait ends Accept at once, with the error
	// fasthttp takes for a clean stop.
	errs := make([]error, 100)
	for i := range errs {
		errs[i] = acceptErr(syscall.EMFILE)
	}
	l = New(newFake(errs), Options{})
	done := make(chan error, 1)
	go func() { _, err := l.Accept(); done <- err }()
	time.Sleep(20 * time.Millisecond) // let it reach a wait; the assertion below does not depend on it
	_ = l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept() after Close = %v; want net.ErrClosed", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Accept() did not return within 3s of Close")
	}
}

func TestTemporary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want bool
	}{
		{acceptErr(syscall.EMFILE), true},
		{acceptErr(syscall.ENFILE), true},
		{acceptErr(syscall.ENOBUFS), true},
		{acceptErr(syscall.ENOMEM), true},
		{acceptErr(syscall.ECONNABORTED), true},
		{acceptErr(syscall.EINVAL), false},
		{net.ErrClosed, false},
		{io.EOF, false},
		{fmt.Errorf("wrapped: %w", syscall.EMFILE), true},
	}
	for _, tt := range tests {
		if got := Temporary(tt.err); got != tt.want {
			t.Errorf("Temporary(%v) = %v; want %v", tt.err, got, tt.want)
		}
	}
}

// serve accepts on l until it is closed and hands every conn to conns.
func serve(t *testing.T, l *Listener) <-chan net.Conn {
	t.Helper()
	conns := make(chan net.Conn, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		close(conns)
		for c := range conns {
			_ = c.Close()
		}
	})
	return conns
}

func dial(t *testing.T, addr net.Addr) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

func realListener(t *testing.T, opts Options) *Listener {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return New(inner, opts)
}

func TestMaxConnsRefusesTheExcessWith503(t *testing.T) {
	t.Parallel()
	m := NewMetrics()
	l := realListener(t, Options{MaxConns: 2, Metrics: m})
	m.Track(l)
	conns := serve(t, l)

	var accepted []net.Conn
	for range 2 {
		dial(t, l.Addr())
		accepted = append(accepted, <-conns)
	}
	if got := counterValue(t, m.Open); got != 2 {
		t.Errorf("taskapi_connections_open = %v; want 2", got)
	}

	// The third client sends its request and reads a complete 503.
	third := dial(t, l.Addr())
	if _, err := io.WriteString(third, "GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(third), nil)
	if err != nil {
		t.Fatalf("the refused client could not read an answer: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	var msg struct{ Message string }
	if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" || res.Header.Get("Content-Type") != "application/json" ||
		json.Unmarshal(body, &msg) != nil || msg.Message == "" {
		t.Errorf("refusal = %d %v %q; want 503 with Retry-After and a JSON {message}", res.StatusCode, res.Header, body)
	}
	if got := counterValue(t, m.Refused); got != 1 {
		t.Errorf("taskapi_connections_refused_total = %v; want 1", got)
	}

	// Closing one accepted connection frees its slot for the next client.
	_ = accepted[0].Close()
	_ = accepted[0].Close() // a second Close must not free a second slot
	dial(t, l.Addr())
	select {
	case c := <-conns:
		_ = c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("a client was not accepted after a slot was freed")
	}
	if got := l.Open(); got != 1 {
		t.Errorf("Open() = %d; want 1 (one of the first two still open)", got)
	}
}

// wholeRequest writes a request with an n-byte body before reading, as
// Python's urllib and many SDKs do, and returns the answer's status line
// or the error the client saw.
func wholeRequest(c net.Conn, n int) (string, error) {
	head := fmt.Sprintf("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", n)
	if _, err := io.WriteString(c, head); err != nil {
		return "", fmt.Errorf("write head: %w", err)
	}
	if _, err := io.Copy(c, io.LimitReader(zeros{}, int64(n))); err != nil {
		return "", fmt.Errorf("write body: %w", err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read answer: %w", err)
	}
	return strings.TrimSpace(line), nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestLingerOnCloseLetsAWholeBodyClientReadTheAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		linger  bool
		wantErr bool
	}{
		{"lingering close", true, false},
		// The control: what every client saw before, ECONNRESET.
		{"plain close resets", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := NewMetrics()
			l := realListener(t, Options{Metrics: m})
			conns := serve(t, l)
			client := dial(t, l.Addr())
			type result struct {
				line string
				err  error
			}
			got := make(chan result, 1)
			go func() {
				line, err := wholeRequest(client, 4<<20)
				_ = client.Close() // as a client does after a Connection: close answer
				got <- result{line, err}
			}()

			server := <-conns
			// Read a little of the request, as fasthttp does before it
			// sees Content-Length is over the limit, then refuse it.
			if _, err := io.ReadFull(server, make([]byte, 16)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(server, "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			if tt.linger {
				server.(*Conn).LingerOnClose()
			}
			_ = server.Close()

			r := <-got
			if tt.wantErr {
				if r.err == nil {
					t.Errorf("without lingering the client read %q; expected a reset (is the control still meaningful?)", r.line)
				}
				return
			}
			if r.err != nil || r.line != "HTTP/1.1 413 Request Entity Too Large" {
				t.Errorf("client got %q, %v; want the 413 status line", r.line, r.err)
			}
			if got := counterValue(t, m.Lingered); got != 1 {
				t.Errorf("taskapi_connections_drained_total = %v; want 1", got)
			}
		})
	}
}

func TestLingerOnCloseIsBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		opts  Options
		send  int64 // bytes the client sends, then it waits without closing
		under time.Duration
	}{
		// A silent client holds the connection only for DrainTimeout.
		{"time", Options{DrainTimeout: 200 * time.Millisecond}, 0, 3 * time.Second},
		// A client sending more than DrainBytes is cut off once they are read.
		{"bytes", Options{DrainBytes: 64 << 10, DrainTimeout: time.Minute}, 1 << 20, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := realListener(t, tt.opts)
			conns := serve(t, l)
			client := dial(t, l.Addr())
			if tt.send > 0 {
				go func() { _, _ = io.Copy(client, io.LimitReader(zeros{}, tt.send)) }()
			}
			server := <-conns
			server.(*Conn).LingerOnClose()
			start := time.Now()
			_ = server.Close()
			if took := time.Since(start); took > tt.under {
				t.Errorf("lingering Close took %v; want under %v", took, tt.under)
			}
			if got := l.Open(); got != 0 {
				t.Errorf("Open() after Close = %d; want 0", got)
			}
		})
	}
}

func TestTLSConnStaysRecognisable(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	l := New(newFake(nil, tls.Server(a, &tls.Config{})), Options{})
	t.Cleanup(func() { _ = l.Close() })
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(interface{ ConnectionState() tls.ConnectionState }); !ok {
		t.Errorf("Accept() of a TLS conn = %T; want one fasthttp still recognises as TLS", c)
	}
	if _, ok := c.(Lingerer); !ok {
		t.Errorf("Accept() of a TLS conn = %T; want a Lingerer", c)
	}
	if !bytes.Contains(refusal, []byte("\r\n\r\n{")) {
		t.Errorf("refusal %q is not a complete response", refusal)
	}
}
