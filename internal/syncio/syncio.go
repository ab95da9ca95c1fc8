// Package syncio holds a writer that several goroutines write (a child
// process's two pipes, a logger under load) while another reads what has
// arrived so far: a test reading a server's log, or the harness quoting a
// child's output in an error.
package syncio

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer safe for concurrent use: os/exec copies stdout
// and stderr from two goroutines, and a server logs from many, so a plain
// buffer would race with them and with the test reading it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
