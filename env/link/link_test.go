package link_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/taskready/taskready/env/link"
)

// serve runs handle on every connection to a new loopback server and
// returns its address.
func serve(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); handle(c) }()
		}
	}()
	return ln.Addr().String()
}

// echo answers each line with the same line.
func echo(c net.Conn) { _, _ = io.Copy(c, c) }

// source sends n bytes in one write, then closes.
func source(n int) func(net.Conn) {
	return func(c net.Conn) { _, _ = c.Write(make([]byte, n)) }
}

// start links to upstream for the test's length.
func start(t *testing.T, upstream string) *link.Link {
	t.Helper()
	l, err := link.Start(t.Name(), upstream)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func dial(t *testing.T, l *link.Link) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", l.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func apply(t *testing.T, l *link.Link, name string, f link.Fault) {
	t.Helper()
	if err := l.Apply(name, f); err != nil {
		t.Fatal(err)
	}
}

// roundTrip sends a line and reads it back within 10s.
func roundTrip(c net.Conn) (time.Duration, error) {
	start := time.Now()
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return 0, err
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err == nil && line != "ping\n" {
		return 0, errors.New("echo = " + line)
	}
	return time.Since(start), err
}

// readAll reads c to its end (within 20s) and says how long it took.
func readAll(t *testing.T, c net.Conn) ([]byte, time.Duration, error) {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	data, err := io.ReadAll(c)
	return data, time.Since(start), err
}

// works says whether a new connection through l echoes.
func works(t *testing.T, l *link.Link) error {
	t.Helper()
	c, err := net.DialTimeout("tcp", l.Addr(), 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = roundTrip(c)
	return err
}

// cut reports whether err is what a closed or reset connection gives.
func cut(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// Latency delays each way, on a connection opened before the fault too:
// a round trip crosses the link twice.
func TestLatency(t *testing.T) {
	l := start(t, serve(t, echo))
	c := dial(t, l)
	if _, err := roundTrip(c); err != nil {
		t.Fatal(err)
	}
	apply(t, l, "slow", link.Fault{Action: link.Latency, Latency: 150 * time.Millisecond, Jitter: 50 * time.Millisecond})
	for range 3 {
		d, err := roundTrip(c)
		if err != nil {
			t.Fatal(err)
		}
		// Each way at least 150ms - 50ms.
		if d < 200*time.Millisecond {
			t.Errorf("round trip with 150ms ± 50ms each way = %s; want at least 200ms", d)
		}
	}
}

// A latency under a millisecond is kept to the microsecond, each way, on
// every round trip: never less (asserted), and not rounded up to the
// millisecond a timer would wait on an idle process (measured by
// BenchmarkLatencyPrecision, since how late a wake comes depends on the
// machine's load).
func TestLatencyUnderAMillisecond(t *testing.T) {
	const lat = 300 * time.Microsecond
	l := start(t, serve(t, echo))
	c := dial(t, l)
	apply(t, l, "near", link.Fault{Action: link.Latency, Latency: lat})
	for range 50 {
		d, err := roundTrip(c)
		if err != nil {
			t.Fatal(err)
		}
		if d < 2*lat {
			t.Fatalf("round trip with %s each way = %s; want at least %s", lat, d, 2*lat)
		}
	}
}

// Adding and removing faults interrupts the latency toxic while chunks
// wait in it: every byte still arrives, in order.
func TestLatencyLosesNothingWhenInterrupted(t *testing.T) {
	l := start(t, serve(t, echo))
	c := dial(t, l)
	apply(t, l, "slow", link.Fault{Action: link.Latency, Latency: 2 * time.Millisecond, Jitter: time.Millisecond})
	const n, chunk = 400, 50
	want := make([]byte, 0, n*chunk)
	for i := range n {
		want = append(want, bytes.Repeat([]byte{byte('a' + i%26)}, chunk)...)
	}
	go func() {
		for i := 0; i < n; i++ {
			if _, err := c.Write(want[i*chunk : (i+1)*chunk]); err != nil {
				return
			}
			if i%20 == 0 {
				// Each Apply and Remove restarts the link's toxics.
				_ = l.Apply("other", link.Fault{Action: link.Slicer, Size: 10})
				_ = l.Remove("other")
			}
		}
	}()
	got := make([]byte, len(want))
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read back: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the bytes read back are not the bytes sent, in order")
	}
}

// BenchmarkLatencyPrecision reports how much longer than 2×latency a round
// trip through a link with 250µs each way takes (p50 and p99 of the
// excess), beside the same through a bare link: the difference is what the
// latency toxic adds beyond its latency.
func BenchmarkLatencyPrecision(b *testing.B) {
	const lat = 250 * time.Microsecond
	for _, tc := range []struct {
		name string
		f    *link.Fault
	}{{"bare", nil}, {"250us", &link.Fault{Action: link.Latency, Latency: lat}}} {
		b.Run(tc.name, func(b *testing.B) {
			l, err := link.Start("bench", serve(b, echo))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { l.Close() })
			want := time.Duration(0)
			if tc.f != nil {
				if err := l.Apply("near", *tc.f); err != nil {
					b.Fatal(err)
				}
				want = 2 * lat
			}
			c, err := net.Dial("tcp", l.Addr())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			excess := make([]time.Duration, 0, b.N)
			for b.Loop() {
				d, err := roundTrip(c)
				if err != nil {
					b.Fatal(err)
				}
				excess = append(excess, d-want)
			}
			slices.Sort(excess)
			b.ReportMetric(float64(excess[len(excess)/2].Microseconds()), "p50-excess-µs")
			b.ReportMetric(float64(excess[len(excess)*99/100].Microseconds()), "p99-excess-µs")
		})
	}
}

// Bandwidth holds each way to its rate: 32,000 bytes at 16 KB/s take two
// seconds down and two up, where loopback takes a few milliseconds.
func TestBandwidth(t *testing.T) {
	const n, rate = 32_000, 16
	down := start(t, serve(t, source(n)))
	apply(t, down, "thin", link.Fault{Action: link.Bandwidth, Rate: rate})
	data, d, err := readAll(t, dial(t, down))
	if err != nil || len(data) != n {
		t.Fatalf("read %d bytes, %v; want %d", len(data), err, n)
	}
	if d < 1500*time.Millisecond {
		t.Errorf("%d bytes down at %d KB/s took %s; want at least 1.5s", n, rate, d)
	}

	got := make(chan time.Time, 1)
	up := start(t, serve(t, func(c net.Conn) {
		if n, _ := io.Copy(io.Discard, c); n > 0 {
			got <- time.Now()
		}
	}))
	apply(t, up, "thin", link.Fault{Action: link.Bandwidth, Rate: rate})
	c := dial(t, up)
	sent := time.Now()
	if _, err := c.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case at := <-got:
		if d := at.Sub(sent); d < 1500*time.Millisecond {
			t.Errorf("%d bytes up at %d KB/s took %s; want at least 1.5s", n, rate, d)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the upload never arrived")
	}
}

// Timeout lets nothing through and closes the connection after its
// timeout; with none it holds the connection open until healed, which
// closes it.
func TestTimeout(t *testing.T) {
	l := start(t, serve(t, echo))
	c := dial(t, l)
	applied := time.Now()
	apply(t, l, "stall", link.Fault{Action: link.Timeout, Timeout: 300 * time.Millisecond})
	if _, err := roundTrip(c); !cut(err) {
		t.Errorf("round trip through a timeout = %v; want the connection closed", err)
	}
	if d := time.Since(applied); d < 300*time.Millisecond {
		t.Errorf("closed %s after the fault; want after its 300ms timeout", d)
	}

	apply(t, l, "stall", link.Fault{Action: link.Timeout})
	held := dial(t, l)
	if _, err := held.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	_ = held.SetReadDeadline(time.Now().Add(700 * time.Millisecond))
	if n, err := held.Read(make([]byte, 16)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read through a timeout of 0 = %d bytes, %v; want nothing and the connection open", n, err)
	}
	if err := l.Remove("stall"); err != nil {
		t.Fatal(err)
	}
	_ = held.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := held.Read(make([]byte, 16)); !cut(err) {
		t.Errorf("read of a held connection once healed = %d bytes, %v; want it closed", n, err)
	}
	if err := works(t, l); err != nil {
		t.Errorf("after the fault: %v", err)
	}
}

// reset_peer resets open connections once data crosses them, and new
// ones; a timeout defers the reset.
func TestResetPeer(t *testing.T) {
	l := start(t, serve(t, echo))
	c := dial(t, l)
	apply(t, l, "cut", link.Fault{Action: link.ResetPeer})
	if _, err := roundTrip(c); !cut(err) {
		t.Errorf("round trip on an open connection = %v; want a reset", err)
	}
	if err := works(t, l); !cut(err) {
		t.Errorf("round trip on a new connection = %v; want a reset", err)
	}

	apply(t, l, "cut", link.Fault{Action: link.ResetPeer, Timeout: 400 * time.Millisecond})
	if d, err := roundTrip(dial(t, l)); !cut(err) || d < 400*time.Millisecond {
		t.Errorf("round trip with a reset 400ms after the data = %s, %v; want a reset after 400ms or more", d, err)
	}
	if err := l.Heal(); err != nil {
		t.Fatal(err)
	}
	if err := works(t, l); err != nil {
		t.Errorf("after Heal: %v", err)
	}
}

// slow_close holds a close back: the upstream closes at once, the
// client sees the end only after the delay, the data before it.
func TestSlowClose(t *testing.T) {
	l := start(t, serve(t, func(c net.Conn) { _, _ = c.Write([]byte("bye")) }))
	apply(t, l, "linger", link.Fault{Action: link.SlowClose, Delay: 600 * time.Millisecond})
	data, d, err := readAll(t, dial(t, l))
	if err != nil || string(data) != "bye" {
		t.Fatalf("read %q, %v; want bye", data, err)
	}
	if d < 600*time.Millisecond {
		t.Errorf("the close came %s after the connection; want at least the 600ms delay", d)
	}
}

// slicer cuts one write into slices a delay apart: 200 bytes in slices
// of 50, 500ms apart, arrive in several reads over 1.5s or more.
func TestSlicer(t *testing.T) {
	l := start(t, serve(t, source(200)))
	apply(t, l, "slices", link.Fault{Action: link.Slicer, Size: 50, Delay: 500 * time.Millisecond})
	c := dial(t, l)
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	begin := time.Now()
	var reads []int
	buf := make([]byte, 1024)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			reads = append(reads, n)
		}
		if err != nil {
			break
		}
	}
	d := time.Since(begin)
	total := 0
	for _, n := range reads {
		total += n
	}
	if total != 200 || len(reads) < 2 || reads[0] > 50 {
		t.Errorf("reads %v; want 200 bytes in several, the first one slice of at most 50", reads)
	}
	if d < 1500*time.Millisecond {
		t.Errorf("4 slices 500ms apart took %s; want at least 1.5s", d)
	}
}

// limit_data closes a connection once its bytes have passed.
func TestLimitData(t *testing.T) {
	l := start(t, serve(t, source(10_000)))
	apply(t, l, "short", link.Fault{Action: link.LimitData, Bytes: 1000})
	data, _, err := readAll(t, dial(t, l))
	if len(data) != 1000 {
		t.Errorf("read %d bytes (%v); want the 1000 of the limit, then the end", len(data), err)
	}
	if err := l.Heal(); err != nil {
		t.Fatal(err)
	}
	if data, _, err := readAll(t, dial(t, l)); len(data) != 10_000 {
		t.Errorf("after Heal: read %d bytes (%v); want all 10000", len(data), err)
	}
}

// down closes open connections and refuses new ones; undone, the link
// listens on the same address again.
func TestDown(t *testing.T) {
	l := start(t, serve(t, echo))
	c := dial(t, l)
	if _, err := roundTrip(c); err != nil {
		t.Fatal(err)
	}
	apply(t, l, "gone", link.Fault{Action: link.Down})
	if _, err := roundTrip(c); !cut(err) {
		t.Errorf("round trip on an open connection = %v; want it closed", err)
	}
	if _, err := net.DialTimeout("tcp", l.Addr(), 5*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial while down = %v; want connection refused", err)
	}
	if err := l.Remove("gone"); err != nil {
		t.Fatal(err)
	}
	if err := works(t, l); err != nil {
		t.Errorf("after the fault: %v", err)
	}
}

// Faults on one link are undone one at a time: the link stays down
// while one down remains, and the latency outlives the downs.
func TestFaultsUndoOneAtATime(t *testing.T) {
	l := start(t, serve(t, echo))
	apply(t, l, "slow", link.Fault{Action: link.Latency, Latency: 200 * time.Millisecond})
	apply(t, l, "gone", link.Fault{Action: link.Down})
	apply(t, l, "gone-too", link.Fault{Action: link.Down})
	if got := l.Faults(); !slices.Equal(got, []string{"gone", "gone-too", "slow"}) {
		t.Errorf("Faults() = %v", got)
	}
	if err := l.Remove("gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", l.Addr(), 5*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial with one down left = %v; want connection refused", err)
	}
	if err := l.Remove("gone-too"); err != nil {
		t.Fatal(err)
	}
	if d, err := roundTrip(dial(t, l)); err != nil || d < 400*time.Millisecond {
		t.Errorf("round trip with the latency left = %s, %v; want at least 400ms", d, err)
	}
	if err := l.Remove("gone"); !errors.Is(err, link.ErrNoFault) {
		t.Errorf("Remove of a fault undone = %v; want ErrNoFault", err)
	}

	apply(t, l, "slow", link.Fault{Action: link.Latency, Latency: 5 * time.Second})
	apply(t, l, "bits", link.Fault{Action: link.Slicer, Size: 1, Delay: time.Second})
	if err := l.Heal(); err != nil {
		t.Fatal(err)
	}
	if got := l.Faults(); len(got) != 0 {
		t.Errorf("Faults() after Heal = %v; want none", got)
	}
	if d, err := roundTrip(dial(t, l)); err != nil || d >= 5*time.Second {
		t.Errorf("after Heal: %s, %v; want a round trip without the 5s latency", d, err)
	}
}

// A fault out of range is refused before it reaches the proxy.
func TestApplyRefusesInvalidFaults(t *testing.T) {
	l := start(t, serve(t, echo))
	for _, f := range []link.Fault{
		{Action: link.Slicer},
		{Action: link.Latency, Latency: -time.Second},
		{Action: "explode"},
	} {
		if err := l.Apply("bad", f); !errors.Is(err, link.ErrInvalid) {
			t.Errorf("Apply(%+v) = %v; want ErrInvalid", f, err)
		}
	}
	if got := l.Faults(); len(got) != 0 {
		t.Errorf("Faults() = %v; want none", got)
	}
	if err := works(t, l); err != nil {
		t.Error(err)
	}
}
