package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strconv"
	"time"
)

// ChildHog is the first argument that makes the benchmark's executable a
// hog of the crowding (HogChild) rather than the benchmark.
const ChildHog = "hog"

// The hogs of the crowding.
const (
	// HogCPU spins on one core.
	HogCPU = "cpu"
	// HogMemory copies buffers far larger than any CPU cache back and
	// forth, taking memory bandwidth and evicting the caches the other
	// processes need: what a neighbour's test suite or build does that a
	// busy loop does not.
	HogMemory = "mem"
)

// hogBuffer is the size of each of the memory hog's two buffers.
const hogBuffer = 128 << 20

// HogChild runs the hog args (after ChildHog) name, "cpu" or "mem", until
// ctx ends or its -for limit passes: bounded even if nobody stops it.
func HogChild(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet(ChildHog, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	limit := fs.Duration("for", 0, "how long to run at most")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%s: %w", ChildHog, err)
	}
	if fs.NArg() != 1 || *limit <= 0 {
		return fmt.Errorf("%s: want -for DURATION and one of %s, %s", ChildHog, HogCPU, HogMemory)
	}
	ctx, cancel := context.WithTimeout(ctx, *limit)
	defer cancel()
	runtime.GOMAXPROCS(1) // one core's worth each
	switch fs.Arg(0) {
	case HogCPU:
		spin(ctx)
	case HogMemory:
		copyBuffers(ctx, hogBuffer)
	default:
		return fmt.Errorf("%s: unknown hog %q: want %s or %s", ChildHog, fs.Arg(0), HogCPU, HogMemory)
	}
	return nil
}

// spin keeps a core busy until ctx ends, looking at it every few
// million additions.
func spin(ctx context.Context) {
	var x uint64
	for ctx.Err() == nil {
		for range 1 << 22 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	spinSink = x // used, so the compiler keeps the loop
}

var spinSink uint64

// copyBuffers copies one buffer of size bytes into another and back
// until ctx ends, a chunk at a time so that it stops promptly.
func copyBuffers(ctx context.Context, size int) {
	const chunk = 4 << 20
	a, b := make([]byte, size), make([]byte, size)
	// a is written through first, so every page is its own: an untouched
	// one reads as the kernel's shared zero page, which stays in the cache.
	for i := 0; i < size && ctx.Err() == nil; i += chunk {
		part := a[i:min(i+chunk, size)]
		for j := range part {
			part[j] = byte(j)
		}
	}
	for ctx.Err() == nil {
		copyChunks(ctx, b, a, chunk)
		copyChunks(ctx, a, b, chunk)
	}
}

// copyChunks copies src into dst chunk bytes at a time while ctx lasts.
func copyChunks(ctx context.Context, dst, src []byte, chunk int) {
	for i := 0; i < len(dst) && ctx.Err() == nil; i += chunk {
		copy(dst[i:min(i+chunk, len(dst))], src[i:])
	}
}

// crowd is the hogs the benchmark runs beside a measurement.
type crowd struct {
	procs []*exec.Cmd
	done  []chan struct{}
}

// startCrowd starts one CPU hog per core and one memory hog, each the
// executable self, each ending after limit at most.
func startCrowd(self string, limit time.Duration) (*crowd, error) {
	c := &crowd{}
	kinds := []string{HogMemory}
	for range runtime.NumCPU() {
		kinds = append(kinds, HogCPU)
	}
	for _, k := range kinds {
		cmd := exec.Command(self, ChildHog, "-for", limit.String(), k)
		cmd.SysProcAttr = procAttr()
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			return nil, errors.Join(fmt.Errorf("start the %s hog: %w", k, err), c.stop())
		}
		done := make(chan struct{})
		go func() {
			_ = cmd.Wait()
			close(done)
		}()
		c.procs, c.done = append(c.procs, cmd), append(c.done, done)
	}
	return c, nil
}

// size says what the crowd is, for the output.
func (c *crowd) size() string {
	return strconv.Itoa(len(c.procs)-1) + " CPU busy-loops and 1 memory-bandwidth hog"
}

// stop kills the hogs and waits for them. It may be called more than
// once.
func (c *crowd) stop() error {
	var errs []error
	for i, cmd := range c.procs {
		select {
		case <-c.done[i]:
			continue
		default:
		}
		if err := killGroup(cmd.Process.Pid); err != nil {
			errs = append(errs, fmt.Errorf("stop hog %d: %w", cmd.Process.Pid, err))
			continue
		}
		<-c.done[i]
	}
	return errors.Join(errs...)
}

// alive is how many hogs still run: one that died early would leave the
// crowding weaker than the output says.
func (c *crowd) alive() int {
	n := 0
	for _, d := range c.done {
		select {
		case <-d:
		default:
			n++
		}
	}
	return n
}
