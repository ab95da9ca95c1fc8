package resilience_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

// framing is how the raw fake frames and refuses requests.
type framing struct {
	honourTE   bool // the body ends where chunked says, and the connection stays open (serves a hidden request)
	honourCL   bool // Content-Length wins and the connection stays open
	resetLarge bool // refuse large bodies and headers, then close without reading the rest
}

// rawFake is a TCP server that speaks just enough HTTP/1.1 for the
// framing checks; Go's server would refuse some of what they send before
// a flaw could show.
func rawFake(t *testing.T, f framing) string {
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
			go serveRaw(c, f)
		}
	}()
	return "http://" + ln.Addr().String()
}

func reply(w io.Writer, status int, close bool, extra string) {
	body := fmt.Sprintf(`{"message":"status %d"}`, status)
	conn := ""
	if close {
		conn = "Connection: close\r\n"
	}
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n%s%sContent-Length: %d\r\n\r\n%s", status, strconv.Itoa(status), conn, extra, len(body), body)
}

const headLimit = 8 << 10

func serveRaw(c net.Conn, f framing) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReaderSize(c, headLimit)
	drain := func() {
		// Answered already: read what the client still sends, bounded,
		// so that the close is a FIN and the answer survives.
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, _ = io.CopyN(io.Discard, br, 4<<20)
	}
	for {
		// The head, bounded: a longer one is refused.
		var head []byte
		for !strings.HasSuffix(string(head), "\r\n\r\n") {
			line, err := br.ReadSlice('\n')
			head = append(head, line...)
			if len(head) > headLimit {
				reply(c, 431, true, "")
				if !f.resetLarge {
					drain()
				}
				return
			}
			if err != nil && err != bufio.ErrBufferFull {
				return
			}
		}
		tp := textproto.NewReader(bufio.NewReader(strings.NewReader(string(head))))
		first, _ := tp.ReadLine()
		h, _ := tp.ReadMIMEHeader()
		reqID := h.Get("X-Request-ID")
		cl, _ := strconv.Atoi(h.Get("Content-Length"))
		te := strings.ToLower(h.Get("Transfer-Encoding"))
		switch {
		case te != "" && f.honourTE:
			// Reads chunks until the last one, keeps the connection.
			for {
				size, _ := br.ReadString('\n')
				n, _ := strconv.ParseInt(strings.TrimSpace(size), 16, 64)
				_, _ = io.CopyN(io.Discard, br, n+2)
				if n == 0 {
					break
				}
			}
		case te != "" && !f.honourCL:
			reply(c, 400, true, "")
			return
		case cl > 100<<10:
			reply(c, 413, true, "")
			if !f.resetLarge {
				drain()
			}
			return
		default:
			_, _ = io.CopyN(io.Discard, br, int64(cl))
		}
		status := 200
		if strings.HasPrefix(first, "POST /api/health") {
			status = 405
		}
		extra := ""
		if reqID != "" {
			extra = "X-Request-ID: " + reqID + "\r\n"
		}
		reply(c, status, false, extra)
	}
}
