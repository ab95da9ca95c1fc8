// Package proxy is a TCP proxy for fault injection between the API and a
// store: it forwards bytes unchanged, and on demand delays them or resets
// every connection, the two network faults stores show in production.
//
// A Proxy is safe for concurrent use.
package proxy

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy forwards connections from its loopback address to a backend.
type Proxy struct {
	ln      net.Listener
	backend string
	latency atomic.Int64 // nanoseconds added before each forwarded chunk
	jitter  atomic.Int64 // the latency varies by up to this, either way
	reset   atomic.Bool  // while set, new connections are reset at once

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Start listens on a free loopback port and forwards to backend
// ("host:port").
func Start(backend string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy for %s: %w", backend, err)
	}
	p := &Proxy{ln: ln, backend: backend, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's address, to use instead of the backend's.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetLatency delays every chunk forwarded in either direction by d; zero
// removes the delay.
func (p *Proxy) SetLatency(d time.Duration) { p.latency.Store(int64(d)) }

// Latency is the delay in force.
func (p *Proxy) Latency() time.Duration { return time.Duration(p.latency.Load()) }

// SetJitter makes the latency vary by up to d either way, uniformly, per
// chunk (never below zero); zero makes it steady.
func (p *Proxy) SetJitter(d time.Duration) { p.jitter.Store(int64(d)) }

// delay is the wait before one chunk: the latency, give or take the
// jitter.
func (p *Proxy) delay() time.Duration {
	d := p.Latency()
	if j := p.jitter.Load(); j > 0 && d > 0 {
		d += time.Duration(rand.Int64N(2*j+1) - j)
	}
	return max(d, 0)
}

// Reset sends a TCP reset on every open connection and, while on, on
// every new one: the store looks reachable but unusable. Heal ends it.
func (p *Proxy) Reset() int {
	p.reset.Store(true)
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for c := range p.conns {
		abort(c)
		n++
	}
	return n
}

// Heal removes every fault: no latency, connections accepted again.
func (p *Proxy) Heal() {
	p.latency.Store(0)
	p.jitter.Store(0)
	p.reset.Store(false)
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	err := p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

// abort closes c with a reset instead of a graceful FIN.
func abort(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		if p.reset.Load() {
			abort(client)
			continue
		}
		p.wg.Add(1)
		go p.serve(client)
	}
}

func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	server, err := net.DialTimeout("tcp", p.backend, 5*time.Second)
	if err != nil {
		abort(client)
		return
	}
	if !p.track(client) || !p.track(server) {
		client.Close()
		server.Close()
		return
	}
	defer p.untrack(client)
	defer p.untrack(server)
	done := make(chan struct{}, 2)
	go func() { p.pipe(server, client); done <- struct{}{} }()
	go func() { p.pipe(client, server); done <- struct{}{} }()
	<-done // one side ended: end both
}

// pipe copies src to dst, sleeping the configured latency before each
// chunk; the delay is read per chunk, so it changes on live connections.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if d := p.delay(); d > 0 {
				time.Sleep(d)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				abort(dst)
			}
			return
		}
	}
}
