package ballast

import (
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
)

// TestEnsure: the ballast raises the collector's goal above its size
// without the process's resident memory growing by it, and a smaller
// Ensure later keeps it as it is.
func TestEnsure(t *testing.T) {
	// Above the goal any earlier ballast set (as with -count=2).
	size := 2*Size() + 256<<20
	before, rss := goal(t), resident(t)
	if before >= uint64(size) {
		t.Fatalf("goal %d before the ballast, want below %d", before, size)
	}
	Ensure(size)
	if g := goal(t); g < uint64(size) {
		t.Errorf("goal %d with the ballast, want at least %d", g, size)
	}
	if runtime.GOOS == "linux" {
		if grew := resident(t) - rss; grew > int64(size/8) {
			t.Errorf("resident memory grew by %d bytes with %d of ballast", grew, size)
		}
	}
	Ensure(size / 2)
	if got := Size(); got != size {
		t.Errorf("after a smaller Ensure the ballast is %d bytes, want %d", got, size)
	}
}

// goal is the heap size at which the next collection starts, after a
// collection now.
func goal(t *testing.T) uint64 {
	t.Helper()
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatal("this runtime has no /gc/heap/goal:bytes")
	}
	return s[0].Value.Uint64()
}

// resident is the process's resident memory (Linux), 0 elsewhere.
func resident(t *testing.T) int64 {
	t.Helper()
	if runtime.GOOS != "linux" {
		return 0
	}
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(b))
	if len(fields) < 2 {
		t.Fatalf("/proc/self/statm: %q", b)
	}
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}
