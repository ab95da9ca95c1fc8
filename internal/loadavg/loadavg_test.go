package loadavg_test

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/taskready/taskready/internal/loadavg"
)

// On Linux the three averages are read, and One is the first of them.
func TestRead(t *testing.T) {
	avg, ok := loadavg.Read()
	if runtime.GOOS != "linux" {
		t.Skipf("no /proc/loadavg on %s (Read says %v)", runtime.GOOS, ok)
	}
	if !ok {
		t.Fatal("Read found no /proc/loadavg on Linux")
	}
	for _, a := range avg {
		if v, err := strconv.ParseFloat(a, 64); err != nil || v < 0 {
			t.Errorf("average %q is not a load (%v)", a, err)
		}
	}
	if one, ok := loadavg.One(); !ok || strconv.FormatFloat(one, 'f', 2, 64) != avg[0] {
		t.Errorf("One() = %v, %v; want %s", one, ok, avg[0])
	}
}
