package bench

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// TestMain lets the test binary serve as the benchmark's executable: run
// with ChildEngine or ChildHog first, it is an engine turn or a hog, as
// cmd/benchengine is.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && (os.Args[1] == ChildEngine || os.Args[1] == ChildHog) {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		var err error
		if os.Args[1] == ChildEngine {
			err = EngineChild(ctx, os.Args[2:], os.Stdout)
		} else {
			err = HogChild(ctx, os.Args[2:])
		}
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
