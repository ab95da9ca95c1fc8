package ledger_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/journey"
	"github.com/taskready/taskready/loadtest/ledger"
)

// A tracked task costs the ledger at most BytesPerObject of heap, as the
// documentation says, measured over acknowledged creates of 1,000 seeded
// users: 60,000 of them just after the map doubled (the worst), 100,000
// when it is fuller; and past its limit, writes are counted, not kept.
func TestBytesPerObject(t *testing.T) {
	for _, n := range []int{60_000, 100_000} {
		per := bytesPerObject(t, n)
		t.Logf("%d tasks: %.0f bytes per tracked task (%.0f MB per million)", n, per, per)
		if per > ledger.BytesPerObject {
			t.Errorf("%d tasks: %.0f bytes per tracked task; the documentation says at most %d", n, per, ledger.BytesPerObject)
		}
	}

	xs := exchanges(50)
	small := ledger.New(ledger.WithLimit(10))
	for i := range xs {
		small.Observe(&xs[i])
	}
	if c := small.Counts(); c.Objects == 0 || c.Objects > 10 || c.Objects+c.Untracked != 50 || c.Acknowledged != 50 {
		t.Errorf("with a limit of 10: %+v; want some and at most 10 kept (accounts count too), the rest untracked, all 50 acknowledged", c)
	}
}

// exchanges are n acknowledged creates of 1,000 seeded users.
func exchanges(n int) []journey.Exchange {
	xs := make([]journey.Exchange, n)
	for i := range xs {
		xs[i] = journey.Exchange{
			User:   journey.User{Index: i%1000 + 1, Email: fmt.Sprintf("seed%d@example.com", i%1000+1), Password: "pw"},
			Method: "POST", Path: "/api/tasks", Authorization: "Bearer token-of-" + fmt.Sprint(i%1000),
			Body:   []byte(`{"title":"Load test task","status":"pending"}`),
			Status: 201, Start: time.Unix(0, int64(i)), End: time.Unix(0, int64(i)+1),
			Answer: fmt.Appendf(nil, `{"message":"Task created successfully","task":{"_id":"%024x","title":"Load test task","description":"","status":"pending"}}`, i+1),
		}
	}
	return xs
}

// bytesPerObject is the heap a ledger of n tasks holds, per task.
func bytesPerObject(t *testing.T, n int) float64 {
	xs := exchanges(n)
	before := heap()
	l := ledger.New()
	for i := range xs {
		l.Observe(&xs[i])
	}
	after := heap()
	runtime.KeepAlive(l)
	runtime.KeepAlive(xs) // else freed before after is read
	if c := l.Counts(); c.Objects != int64(n) || c.Acknowledged != int64(n) {
		t.Fatalf("counts = %+v; want %d objects and acknowledged writes", c, n)
	}
	return float64(after-before) / float64(n)
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
