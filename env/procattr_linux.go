package env

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// apiProcAttr puts an API in its own process group, so a Ctrl-C at the
// terminal reaches only the harness, which then stops the APIs gracefully
// (a second, direct signal would kill them mid-shutdown); and asks the
// kernel to end it if the harness dies without cleaning up.
func apiProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// waitState waits until the kernel reports process pid in a state for
// which want returns true (from /proc/PID/stat), so that Pause returns
// once the process is frozen, not merely signalled.
func waitState(pid int, want func(state byte) bool) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return err
		}
		// The state follows the command name, which is in parentheses
		// and may itself contain spaces or parentheses.
		if i := bytes.LastIndexByte(data, ')'); i >= 0 && i+2 < len(data) && want(data[i+2]) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d did not change state within 5s", pid)
		}
		time.Sleep(time.Millisecond)
	}
}
