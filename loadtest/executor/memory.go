package executor

import (
	"errors"
	"fmt"
	"strings"

	"github.com/taskready/taskready/loadtest/memory"
	"github.com/taskready/taskready/loadtest/scenario"
)

// BytesPerVU is what one VU may take at its peak, conservatively: 128 KiB.
//
// BenchmarkVUMemory measured a VU mid-request on a connection of its own
// (fasthttp transport, 2,000 and 8,000 VUs, Go 1.26, linux/amd64) at
// 36 KiB of Go heap and stacks (20 KiB heap, mostly the connection's
// buffers, and 16 KiB of grown stack), 36-38 KiB taken from the OS and
// 18-20 KiB resident, alike for the open and the closed model; an idle
// pre-allocated VU of the open model took 3.4 KiB. 128 KiB leaves room
// for what that did not see: the garbage collector lets the heap grow to
// twice what is live (GOGC=100) before it collects, larger responses grow
// the buffers, and the kernel keeps each socket's state and buffers
// outside the process.
const BytesPerVU = 128 << 10

// peakVUs is the most VUs s can hold at once, and the field that sets
// it; an executor without a schedule counts its vus.
func peakVUs(s scenario.Scenario) (int, string) {
	sched, err := Plan(s)
	if err != nil {
		return s.VUs, "vus"
	}
	return sched.PeakVUs()
}

// CheckMemory refuses a file whose VUs, each taking BytesPerVU, would not
// fit in the memory available: the run would otherwise create them and
// fail when the machine ran out, minutes in. Every scenario of the file
// is counted as running at once, which they may. The error wraps
// scenario.ErrInvalid, one scenario.Problem per scenario that cannot fit
// alone, or one for the file when only their sum cannot.
func CheckMemory(f *scenario.File, avail memory.Available) error {
	fits := int(min(avail.Bytes/BytesPerVU, uint64(1<<62)))
	var problems []error
	total := 0
	var parts []string
	for _, s := range f.Scenarios {
		n, field := peakVUs(s)
		total = sat(total, n)
		parts = append(parts, fmt.Sprintf("%s %d", s.Name, n))
		if n > fits {
			problems = append(problems, scenario.Problem{File: f.Path, Line: s.Line, Field: "scenarios." + s.Name + "." + field,
				Msg: fmt.Sprintf("%d VUs need about %s at %s per VU, more than the %s; at most %d fit here: lower it, or split the load over machines (harness run -segment I/N)",
					n, estimate(n), memory.Size(BytesPerVU), avail, fits)})
		}
	}
	if len(problems) == 0 && total > fits {
		problems = append(problems, scenario.Problem{File: f.Path, Field: "scenarios",
			Msg: fmt.Sprintf("the scenarios' VUs (%s: %d in all, counted as running at once) need about %s at %s per VU, more than the %s; at most %d VUs fit",
				strings.Join(parts, ", "), total, estimate(total), memory.Size(BytesPerVU), avail, fits)})
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %d problem(s):\n%w", scenario.ErrInvalid, len(problems), errors.Join(problems...))
}

// estimate is n VUs' memory, in words.
func estimate(n int) string {
	const most = ^uint64(0)
	if uint64(n) > most/BytesPerVU {
		return "more than " + memory.Size(most)
	}
	return memory.Size(uint64(n) * BytesPerVU)
}

// sat adds without overflowing.
func sat(a, b int) int {
	if a > int(^uint(0)>>1)-b {
		return int(^uint(0) >> 1)
	}
	return a + b
}
