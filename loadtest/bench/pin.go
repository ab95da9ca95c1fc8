package bench

import (
	"os/exec"
	"strconv"
	"strings"
)

// pinning keeps the server and the tools on separate CPUs, as a
// benchmark rig isolates its server from its clients: nginx on the first
// CPU this process may use, every tool on the others, all through
// taskset(1). Every tool gets the same CPUs, so the comparison stays
// fair; what it removes is noise and the scheduler's guesswork. Sharing
// both cores of a 2-core machine with nginx, a Go tool's idle threads
// spun up on the core nginx needed (its runtime sizes itself by the
// CPUs it may use) and the same tool measured 0.70 to 0.98 of wrk from
// one round to the next. Pinned, every tool is faster (wrk 63,000 to
// 86,000 req/s, the engine 45,000 to 71,000 on one machine), but the open
// model then has one CPU for rates set by that faster closed model.
type pinning struct {
	taskset string // "" when not pinning
	server  string // taskset -c's list for nginx
	tools   string // taskset -c's list for the tools
	ntools  int    // how many CPUs the tools have
}

// newPinning pins when on, taskset is installed and cpus (the CPUs this
// process may use) has at least two; else it says why not.
func newPinning(on bool, cpus []int) (p pinning, why string) {
	switch {
	case !on:
		return p, "BENCH_PIN=1 pins them"
	case len(cpus) < 2:
		return p, "fewer than 2 CPUs"
	}
	ts, err := exec.LookPath("taskset")
	if err != nil {
		return p, "taskset not found (it comes with util-linux)"
	}
	return pinning{taskset: ts, server: strconv.Itoa(cpus[0]), tools: cpuList(cpus[1:]), ntools: len(cpus) - 1}, ""
}

// on reports whether p pins anything.
func (p pinning) on() bool { return p.taskset != "" }

// tool is c run on the tools' CPUs.
func (p pinning) tool(c child) child {
	if !p.on() {
		return c
	}
	c.args = append([]string{"-c", p.tools, c.path}, c.args...)
	c.path = p.taskset
	return c
}

// cpuList is cpus as taskset -c takes them: "1,2,3".
func cpuList(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}
