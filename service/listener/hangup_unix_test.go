//go:build unix

package listener

import (
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// TestHungUp peeks at real loopback sockets: a client that is still there
// (silent, or with a pipelined request waiting) is never taken for gone,
// and one that closed or reset its side is seen as gone, through a TLS
// connection too.
func TestHungUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tls    bool
		client func(t *testing.T, c net.Conn)
		gone   bool
	}{
		{name: "silent", client: func(*testing.T, net.Conn) {}},
		{name: "pipelined request waiting", client: func(t *testing.T, c net.Conn) {
			if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "closed", client: func(_ *testing.T, c net.Conn) { _ = c.Close() }, gone: true},
		{name: "reset", client: func(_ *testing.T, c net.Conn) {
			_ = c.(*net.TCPConn).SetLinger(0) // close with RST
			_ = c.Close()
		}, gone: true},
		{name: "closed under TLS", tls: true, client: func(_ *testing.T, c net.Conn) { _ = c.Close() }, gone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := realListener(t, Options{})
			conns := serve(t, l)
			client := dial(t, l.Addr())
			server := <-conns
			var hd HangupDetector = server.(*Conn)
			if tt.tls {
				// Only the socket under the TLS layer is peeked at, so no
				// handshake is needed.
				hd = &tlsConn{Conn: &Conn{Conn: tls.Server(server.(*Conn).Conn, &tls.Config{}), l: l}}
			}
			if hd.HungUp() {
				t.Fatal("HungUp() = true before the client did anything")
			}
			tt.client(t, client)
			if !tt.gone {
				// Give a wrong answer every chance to show: the data (if
				// any) has arrived once a peek by the test sees it.
				waitReadable(t, server)
				if hd.HungUp() {
					t.Error("HungUp() = true; the client is still there")
				}
				return
			}
			deadline := time.Now().Add(10 * time.Second)
			for !hd.HungUp() {
				if time.Now().After(deadline) {
					t.Fatal("HungUp() still false 10s after the client went")
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

// waitReadable waits until c has data to read, or 200 ms when none is
// coming (the silent client).
func waitReadable(t *testing.T, c net.Conn) {
	t.Helper()
	sc, ok := rawConn(c.(*Conn).Conn)
	if !ok {
		t.Fatal("no raw socket")
	}
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	defer func() { _ = c.SetReadDeadline(time.Time{}) }()
	waited := false
	// false asks the runtime to wait until the socket is readable (or the
	// deadline passes) and call again.
	_ = sc.Read(func(uintptr) bool {
		done := waited
		waited = true
		return done
	})
}
