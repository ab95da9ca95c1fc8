package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// procAttr puts a child in a process group of its own, so that stopping it
// stops whatever it started too, and asks the kernel to kill it should the
// benchmark die without cleaning up (SIGKILL, a crash).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills the process group that pid leads.
func killGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }

// userHZ is the unit of the CPU times in /proc/PID/stat; Linux reports
// them in USER_HZ, which is 100 on every architecture Go supports.
const userHZ = 100

// processCPU is the user and system CPU time process pid has used so far,
// from /proc/PID/stat (to 10 ms): how busy a server that is still running
// was, which its rusage would only tell once it exits.
func processCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseProcStatCPU(string(data))
}

// parseProcStatCPU reads utime and stime, fields 14 and 15 of a
// /proc/PID/stat line. The command name (field 2) is in parentheses and
// may itself hold spaces or parentheses, so fields count from the last ')'.
func parseProcStatCPU(line string) (time.Duration, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, fmt.Errorf("proc stat: no command name in %q", line)
	}
	f := strings.Fields(line[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, fmt.Errorf("proc stat: %d fields after the command name, want at least 13", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("proc stat: cpu time %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// allowedCPUs are the CPUs this process may run on (its affinity mask),
// in order; nil when the mask cannot be read.
func allowedCPUs() []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil
	}
	const setSize = 1024 // CPU_SETSIZE: the CPUs a mask can name
	var cpus []int
	for c := 0; c < setSize && len(cpus) < set.Count(); c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus
}
