package proxy_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/taskready/taskready/env/proxy"
)

// echoServer answers each line with the same line.
func echoServer(t *testing.T) string {
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
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(t *testing.T, c net.Conn) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return 0, err
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err == nil && line != "ping\n" {
		t.Fatalf("echo = %q", line)
	}
	return time.Since(start), err
}

func TestForwardsDelaysAndResets(t *testing.T) {
	p, err := proxy.Start(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })

	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	base, err := roundTrip(t, c)
	if err != nil {
		t.Fatal(err)
	}

	p.SetLatency(100 * time.Millisecond)
	slow, err := roundTrip(t, c)
	if err != nil {
		t.Fatal(err)
	}
	// Two chunks cross the proxy (request and echo), each delayed.
	if slow < 200*time.Millisecond {
		t.Errorf("round trip with 100ms latency each way = %s (without: %s); want at least 200ms", slow, base)
	}

	if n := p.Reset(); n != 2 {
		t.Errorf("Reset closed %d connections; want 2 (client and backend side)", n)
	}
	if _, err := roundTrip(t, c); !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) {
		t.Errorf("round trip on a reset connection = %v; want a reset", err)
	}
	c2, err := net.Dial("tcp", p.Addr())
	if err == nil {
		if _, err = roundTrip(t, c2); err == nil {
			t.Error("a new connection worked while the proxy resets")
		}
		c2.Close()
	}

	p.SetLatency(5 * time.Second)
	p.Heal()
	c3, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if d, err := roundTrip(t, c3); err != nil || d >= 5*time.Second {
		t.Errorf("after Heal: %s, %v; want a round trip without the 5s latency", d, err)
	}
}
