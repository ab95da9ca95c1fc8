package memory_test

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/memory"
)

func TestReadFS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc and cgroups are Linux's")
	}
	for _, tc := range []struct {
		root   string
		bytes  uint64
		source string
	}{
		{"host", 23648752 * 1024, "MemAvailable in /proc/meminfo"},
		// 2 GiB limit on the parent, 1.5 GiB used of which 0.25 GiB is
		// page cache the group may drop: 0.75 GiB left.
		{"v2", 805306368, "cgroup limit in /sys/fs/cgroup/ci.slice/memory.max"},
		// The kernel names a host path; the container's mount root is
		// the group: 512 MiB less 100 MiB.
		{"v1-container", 432013312, "cgroup limit in /sys/fs/cgroup/memory/memory.limit_in_bytes"},
	} {
		t.Run(tc.root, func(t *testing.T) {
			a, err := memory.ReadFS(os.DirFS("testdata/" + tc.root))
			if err != nil {
				t.Fatal(err)
			}
			if a.Bytes != tc.bytes || !strings.Contains(a.Source, tc.source) {
				t.Errorf("ReadFS = %d bytes from %q; want %d from %q", a.Bytes, a.Source, tc.bytes, tc.source)
			}
		})
	}
	for _, root := range []string{"old-kernel", "nowhere"} {
		if a, err := memory.ReadFS(os.DirFS("testdata/" + root)); !errors.Is(err, memory.ErrUnknown) {
			t.Errorf("%s: ReadFS = %v, %v; want ErrUnknown", root, a, err)
		}
	}
}

func TestReadThisMachine(t *testing.T) {
	a, err := memory.Read()
	if runtime.GOOS != "linux" {
		if !errors.Is(err, memory.ErrUnknown) {
			t.Errorf("Read on %s = %v, %v; want ErrUnknown", runtime.GOOS, a, err)
		}
		return
	}
	if err != nil || a.Bytes == 0 || a.Source == "" {
		t.Fatalf("Read = %+v, %v; want this machine's available memory", a, err)
	}
	t.Logf("%s", a)
}

func TestSize(t *testing.T) {
	for _, tc := range []struct {
		n    uint64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1024, "1 KiB"}, {128 << 10, "128 KiB"}, {1536 << 20, "1.5 GiB"},
		{50_000_000 * 128 << 10, "6.0 TiB"}, {1 << 63, "8 EiB"},
	} {
		if got := memory.Size(tc.n); got != tc.want {
			t.Errorf("Size(%d) = %q; want %q", tc.n, got, tc.want)
		}
	}
}
