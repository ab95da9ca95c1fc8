// Package ballast keeps the garbage collector from running on a small
// heap while a load runs.
//
// The collector sets its next goal at twice the heap it found live, so a
// load generator starting with a few megabytes collects every few
// milliseconds while its virtual users and connections come up. With two
// cores each of those early cycles held the engine for tens of
// milliseconds (goroutines parked, waiting to assist the marking), the
// first iterations of an open-model run came out late, more VUs were
// started for them, and at 20,000 iterations/s on a 2-core machine a run
// went on to a thousand VUs and dropped 3-5% of its first second. A
// ballast, an allocation that is never touched, counts as live heap
// without being resident, so the first collections wait until the heap is
// worth collecting. What it costs is the garbage it lets wait: at most
// twice its size, resident until the next collection.
//
// GOMEMLIMIT cannot do this: it bounds the heap from above, a ballast
// from below.
package ballast

import "sync"

var (
	mu   sync.Mutex
	held []byte
)

// Ensure makes the ballast at least size bytes, for the rest of the
// process's life. It is never let go: the runtime zeroes memory it hands
// out again, so a ballast made anew from the pages of a released one
// would touch them all and be resident.
func Ensure(size int) {
	mu.Lock()
	defer mu.Unlock()
	if size > len(held) {
		// A large allocation is fresh from the operating system and
		// already zero: the runtime leaves its pages untouched.
		held = make([]byte, size)
	}
}

// Size is the ballast's size in bytes, 0 before Ensure.
func Size() int {
	mu.Lock()
	defer mu.Unlock()
	return len(held)
}
