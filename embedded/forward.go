package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// forwarder accepts connections on a public listener and pipes each one to a
// backend address. Closing it closes the listener and every forwarded
// connection at once, which is what makes [Mongo.Stop] look like a real
// outage to a driver.
type forwarder struct {
	ln      net.Listener
	backend string
	log     *slog.Logger

	ctx    context.Context // canceled by close; aborts pending backend dials
	cancel context.CancelFunc
	wg     sync.WaitGroup // accept loop and one per forwarded connection

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	// resume, while not nil, is closed when a pause ends: paused, the
	// forwarder moves no byte either way, as a frozen server would not.
	resume chan struct{}
}

// pause freezes every connection: bytes stop moving both ways and new
// connections are accepted (the kernel would) but not forwarded.
func (f *forwarder) pause() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.resume == nil {
		f.resume = make(chan struct{})
	}
}

// unpause lets the bytes move again.
func (f *forwarder) unpause() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.resume != nil {
		close(f.resume)
		f.resume = nil
	}
}

// wait returns once the forwarder is not paused, false if it closed first.
func (f *forwarder) wait() bool {
	f.mu.Lock()
	resume := f.resume
	f.mu.Unlock()
	if resume == nil {
		return true
	}
	select {
	case <-resume:
		return true
	case <-f.ctx.Done():
		return false
	}
}

// copy moves src to dst chunk by chunk, holding each while paused.
func (f *forwarder) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !f.wait() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// startForwarder starts serving ln, forwarding to backend.
func startForwarder(ln net.Listener, backend string, log *slog.Logger) *forwarder {
	ctx, cancel := context.WithCancel(context.Background())
	f := &forwarder{
		ln:      ln,
		backend: backend,
		log:     log,
		ctx:     ctx,
		cancel:  cancel,
		conns:   make(map[net.Conn]struct{}),
	}
	f.wg.Add(1)
	go f.acceptLoop()
	return f
}

func (f *forwarder) acceptLoop() {
	defer f.wg.Done()
	for attempt := 0; ; {
		c, err := f.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || f.ctx.Err() != nil {
				return
			}
			// Transient (e.g. too many open files): back off like net/http.
			f.log.Warn("embedded mongo: accept failed", "err", err)
			if !backoff(f.ctx, attempt) {
				return
			}
			attempt++
			continue
		}
		attempt = 0
		if !f.track(c) {
			_ = c.Close()
			return
		}
		f.wg.Add(1)
		go f.pipe(c)
	}
}

// track registers c for close; it returns false if the forwarder is closed.
func (f *forwarder) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *forwarder) untrackClose(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	_ = c.Close()
}

func (f *forwarder) pipe(client net.Conn) {
	defer f.wg.Done()
	defer f.untrackClose(client)
	if !f.wait() {
		return
	}

	d := net.Dialer{Timeout: 5 * time.Second}
	backend, err := d.DialContext(f.ctx, "tcp", f.backend)
	if err != nil {
		if f.ctx.Err() == nil {
			f.log.Warn("embedded mongo: cannot reach FerretDB", "backend", f.backend, "err", err)
		}
		return
	}
	if !f.track(backend) {
		_ = backend.Close()
		return
	}
	defer f.untrackClose(backend)

	// The wire protocol never half-closes, so the first direction to end
	// (either peer closed, or close() closed both) ends the whole pipe.
	done := make(chan struct{}, 2)
	go func() { f.copy(backend, client); done <- struct{}{} }()
	go func() { f.copy(client, backend); done <- struct{}{} }()
	<-done
	_ = client.Close()
	_ = backend.Close()
	<-done
}

// close stops accepting, closes every forwarded connection and waits (bounded
// by ctx) for all goroutines to finish.
func (f *forwarder) close(ctx context.Context) error {
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		_ = c.Close()
	}
	f.mu.Unlock()
	f.cancel()
	err := f.ln.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}

	done := make(chan struct{})
	go func() {
		f.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return err
	case <-ctx.Done():
		return errors.Join(err, fmt.Errorf("embedded mongo: forwarded connections did not finish: %w", context.Cause(ctx)))
	}
}
