package record

import "sync"

// Locked makes a Recorder safe for concurrent use with a mutex. Prefer one
// Recorder per goroutine merged at the end, or one goroutine draining a
// channel into a Recorder: see BenchmarkConcurrent and the package doc.
type Locked struct {
	mu sync.Mutex
	r  *Recorder
}

// NewLocked returns r behind a mutex. r must not be used directly after.
func NewLocked(r *Recorder) *Locked { return &Locked{r: r} }

// Add records one sample.
func (l *Locked) Add(s Sample) {
	l.mu.Lock()
	l.r.Add(s)
	l.mu.Unlock()
}

// Merge adds o to the recorder; o must not be in use elsewhere.
func (l *Locked) Merge(o *Recorder) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Merge(o)
}

// Snapshot computes the derived numbers of everything recorded so far.
func (l *Locked) Snapshot() Snapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Snapshot()
}

// Footprint reports what the recorder holds in memory.
func (l *Locked) Footprint() Footprint {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Footprint()
}
