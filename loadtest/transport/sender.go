package transport

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/taskready/taskready/internal/rawio"
)

// sender sends a request on a plain socket from within the read of its
// answer, saving a system call per request.
//
// A net.Conn's Read first tries read(2) and only then waits for the
// poller; right after a request is written its answer is never there
// yet, so every request paid for a read that found nothing (two reads
// per answer against wrk's one). Through the RawConn the poller first
// forgets any earlier readiness, then the callback writes the request
// and asks to wait, and the read that follows finds the answer. Writing
// before the poller forgot would lose an answer that came in between, so
// the request is written there and nowhere else.
type sender struct {
	conn net.Conn
	raw  syscall.RawConn
	out  []byte // the request, until the callback writes it
	buf  []byte // out's storage, reused
	// The callback's state for the read in progress.
	p    []byte
	n    int
	sent bool
	err  error
	step func(fd uintptr) bool
}

func newSender(conn net.Conn, raw syscall.RawConn) *sender {
	s := &sender{conn: conn, raw: raw}
	s.step = s.stepFD
	return s
}

// Write holds a request's bytes for the next read; it never fails.
func (s *sender) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	s.out = s.buf
	return len(p), nil
}

func (s *sender) pending() bool { return s.out != nil }

// maxKeptRequest is the largest request buffer a connection keeps for
// the next: an occasional large body should not pin its memory.
const maxKeptRequest = 64 << 10

// reset forgets the request, sent or not (an exchange that failed before
// its first read).
func (s *sender) reset() {
	s.out, s.buf = nil, s.buf[:0]
	if cap(s.buf) > maxKeptRequest {
		s.buf = nil
	}
}

// read sends the pending request and reads the first bytes of the answer.
func (s *sender) read(p []byte) (int, error) {
	s.p, s.n, s.sent, s.err = p, 0, false, nil
	err := s.raw.Read(s.step)
	s.p = nil
	s.reset()
	if err == nil {
		err = s.err
	}
	if err != nil {
		return 0, s.opError("read", err)
	}
	if s.n == 0 {
		return 0, io.EOF
	}
	return s.n, nil
}

// stepFD writes the request on its first call and then waits; later
// calls read, waiting again while there is nothing to read. It reports
// whether the read is over.
func (s *sender) stepFD(fd uintptr) bool {
	if !s.sent {
		s.sent = true
		out := s.out
		for len(out) > 0 {
			n, err := rawio.Write(int(fd), out)
			if err == syscall.EINTR {
				continue
			}
			if err == syscall.EAGAIN {
				break
			}
			if err != nil {
				s.err = os.NewSyscallError("write", err)
				return true
			}
			out = out[n:]
		}
		if len(out) > 0 {
			// The socket's buffer is full (a large body): the rest is
			// written the usual way, which waits for room.
			if _, err := s.conn.Write(out); err != nil {
				s.err = err
				return true
			}
		}
		return false
	}
	for {
		n, err := rawio.Read(int(fd), s.p)
		switch err {
		case nil:
			s.n = n
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		s.err = os.NewSyscallError("read", err)
		return true
	}
}

// opError words err as the net package does for a socket's.
func (s *sender) opError(op string, err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return err
	}
	return &net.OpError{Op: op, Net: "tcp", Source: s.conn.LocalAddr(), Addr: s.conn.RemoteAddr(), Err: err}
}
