package bench

import (
	"bytes"
	"os"
	"strconv"
	"testing"
	"time"
)

// procState is process pid's state letter from /proc, 0 if unreadable.
func procState(pid int) byte {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	if i := bytes.LastIndexByte(data, ')'); i >= 0 && i+2 < len(data) {
		return data[i+2]
	}
	return 0
}

func TestProcessCPU(t *testing.T) {
	// Burn some CPU so there is something to see at /proc's 10 ms.
	before, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
	}
	after, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after < before {
		t.Errorf("CPU went back: %v then %v", before, after)
	}
	if _, err := processCPU(-1); err == nil {
		t.Error("no error for a process that cannot exist")
	}
}
