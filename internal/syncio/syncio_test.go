package syncio_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/taskready/taskready/internal/syncio"
)

// TestBufferConcurrentWrites: every write from many goroutines arrives
// whole, and reading while they write is no race (go test -race).
func TestBufferConcurrentWrites(t *testing.T) {
	t.Parallel()
	const writers, each = 8, 200
	var b syncio.Buffer
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				fmt.Fprintf(&b, "w%d-%d\n", w, i)
				if i%50 == 0 {
					_ = b.String()
				}
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != writers*each {
		t.Fatalf("%d lines; want %d", len(lines), writers*each)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		seen[l] = true
	}
	if len(seen) != writers*each {
		t.Errorf("%d distinct lines; want %d (a write was torn or lost)", len(seen), writers*each)
	}
}
