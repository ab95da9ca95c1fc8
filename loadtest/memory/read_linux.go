package memory

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// unlimited is where a cgroup limit stops meaning anything: v1 writes
// "no limit" as the largest page-aligned int64, v2 as "max".
const unlimited = 1 << 62

func read(root fs.FS) (Available, error) {
	meminfo, err := fs.ReadFile(root, "proc/meminfo")
	if err != nil {
		return Available{}, fmt.Errorf("%w: %w", ErrUnknown, err)
	}
	kb, ok := field(meminfo, "MemAvailable:")
	if !ok {
		return Available{}, fmt.Errorf("%w: no MemAvailable in /proc/meminfo", ErrUnknown)
	}
	best := Available{Bytes: kb * 1024, Source: "MemAvailable in /proc/meminfo"}
	if cg, ok := cgroupAvailable(root); ok && cg.Bytes < best.Bytes {
		best = cg
	}
	return best, nil
}

// field returns the number after name in a "name value kB" line.
func field(data []byte, name string) (uint64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == name {
			n, err := strconv.ParseUint(f[1], 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// cgroupAvailable is the least any memory limit on this process's control
// group or its ancestors leaves; ok is false when none limits it.
func cgroupAvailable(root fs.FS) (Available, bool) {
	data, err := fs.ReadFile(root, "proc/self/cgroup")
	if err != nil {
		return Available{}, false
	}
	var best Available
	found := false
	consider := func(a Available, ok bool) {
		if ok && (!found || a.Bytes < best.Bytes) {
			best, found = a, true
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		// hierarchy-ID:controllers:path; v2 is "0::path".
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			for _, mount := range []string{"sys/fs/cgroup", "sys/fs/cgroup/unified"} {
				consider(walk(root, mount, parts[2], v2))
			}
		case contains(strings.Split(parts[1], ","), "memory"):
			consider(walk(root, "sys/fs/cgroup/memory", parts[2], v1))
		}
	}
	return best, found
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// version names a cgroup version's files.
type version struct{ limit, usage, inactive string }

var (
	v1 = version{"memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"}
	v2 = version{"memory.max", "memory.current", "inactive_file"}
)

// walk checks the group at dir (below mount) and every ancestor up to the
// mount, whose limits all apply. In a container the path the kernel
// names may not exist under the container's mount, whose root is then the
// group itself: the walk starts at the deepest directory that exists.
func walk(root fs.FS, mount, dir string, v version) (Available, bool) {
	var best Available
	found := false
	for p := path.Clean("/" + dir); ; p = path.Dir(p) {
		d := path.Join(mount, p)
		if a, ok := group(root, d, v); ok && (!found || a.Bytes < best.Bytes) {
			best, found = a, true
		}
		if p == "/" {
			return best, found
		}
	}
}

// group reads one group's limit and usage; ok is false without a limit.
func group(root fs.FS, dir string, v version) (Available, bool) {
	limit, ok := number(root, path.Join(dir, v.limit))
	if !ok || limit >= unlimited {
		return Available{}, false
	}
	usage, ok := number(root, path.Join(dir, v.usage))
	if !ok {
		return Available{}, false
	}
	// Page cache the group may drop counts as free, as MemAvailable does.
	if stat, err := fs.ReadFile(root, path.Join(dir, "memory.stat")); err == nil {
		if inactive, ok := field(stat, v.inactive); ok {
			usage -= min(inactive, usage)
		}
	}
	return Available{Bytes: limit - min(usage, limit), Source: "the cgroup limit in /" + path.Join(dir, v.limit) + ", less what the group uses"}, true
}

// number reads a file holding one number; "max" (v2's no limit) is
// unlimited.
func number(root fs.FS, name string) (uint64, bool) {
	data, err := fs.ReadFile(root, name)
	if err != nil {
		return 0, false
	}
	s := strings.TrimSpace(string(data))
	if s == "max" {
		return unlimited, true
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}
