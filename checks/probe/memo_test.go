package probe_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/probe"
)

// The checks of a run share one value: made once, however many ask at
// once; another target or prefix gets its own, and so does another run.
func TestMemoShares(t *testing.T) {
	var m probe.Memo[int]
	var made atomic.Int32
	mk := func(context.Context) (int, error) {
		time.Sleep(20 * time.Millisecond) // let the others queue up
		return int(made.Add(1)), nil
	}
	run := &check.Shared{}
	target := &check.Target{BaseURL: "http://a", Prefix: "run-1", Shared: run}
	var wg sync.WaitGroup
	got := make([]int, 20)
	for i := range got {
		wg.Go(func() {
			v, err := m.Get(context.Background(), target, mk)
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		})
	}
	wg.Wait()
	for i, v := range got {
		if v != 1 {
			t.Errorf("caller %d got %d; want the one value made", i, v)
		}
	}
	if made.Load() != 1 {
		t.Errorf("made %d times; want once", made.Load())
	}
	for _, other := range []*check.Target{
		{BaseURL: "http://b", Prefix: "run-1", Shared: run},
		{BaseURL: "http://a", Prefix: "run-2", Shared: run},
		{BaseURL: "http://a", Prefix: "run-1", Shared: &check.Shared{}},
	} {
		if v, _ := m.Get(context.Background(), other, mk); v == 1 {
			t.Errorf("%s %s (run %p) shares the value of %s %s (run %p)", other.BaseURL, other.Prefix, other.Shared, target.BaseURL, target.Prefix, target.Shared)
		}
	}
}

// Two Memos of one run keep their values apart, and a target outside any
// run (no Shared) shares nothing: every Get makes its own.
func TestMemoScopes(t *testing.T) {
	var m1, m2 probe.Memo[string]
	run := &check.Shared{}
	target := &check.Target{BaseURL: "http://a", Shared: run}
	v1, _ := m1.Get(context.Background(), target, func(context.Context) (string, error) { return "one", nil })
	v2, _ := m2.Get(context.Background(), target, func(context.Context) (string, error) { return "two", nil })
	if v1 != "one" || v2 != "two" {
		t.Errorf("two Memos of one run got %q and %q; want their own values", v1, v2)
	}
	alone := &check.Target{BaseURL: "http://a"}
	made := 0
	for range 2 {
		_, _ = m1.Get(context.Background(), alone, func(context.Context) (string, error) { made++; return "", nil })
	}
	if made != 2 {
		t.Errorf("without a Shared the value was made %d times in 2 Gets; want 2", made)
	}
}

// A failure that is the target's is shared too: the next check would
// only spend the same budget to fail the same way.
func TestMemoSharesAFailure(t *testing.T) {
	var m probe.Memo[string]
	calls := 0
	mk := func(context.Context) (string, error) { calls++; return "", errors.New("register: 500") }
	target := &check.Target{BaseURL: "http://a", Shared: &check.Shared{}}
	for range 2 {
		if _, err := m.Get(context.Background(), target, mk); err == nil {
			t.Fatal("Get = nil error; want the make's")
		}
	}
	if calls != 1 {
		t.Errorf("made %d times; want the failure shared", calls)
	}
}

// A make cut short by its caller's context is forgotten: the next caller
// makes the value afresh, and so does a caller that was waiting for it
// with a context of its own still live.
func TestMemoRetriesAfterACancelledMake(t *testing.T) {
	var m probe.Memo[string]
	target := &check.Target{BaseURL: "http://a", Prefix: "p", Shared: &check.Shared{}}
	started := make(chan struct{})
	cancelled, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := m.Get(cancelled, target, func(ctx context.Context) (string, error) {
			close(started)
			<-ctx.Done()
			return "", ctx.Err()
		})
		errc <- err
	}()
	<-started
	waiter := make(chan string, 1)
	go func() {
		v, err := m.Get(context.Background(), target, func(context.Context) (string, error) { return "from the waiter", nil })
		if err != nil {
			t.Errorf("the waiter got %v; another caller's cancellation is not its own", err)
		}
		waiter <- v
	}()
	time.Sleep(20 * time.Millisecond) // the waiter waits for the first make
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("the cancelled caller got %v; want context.Canceled", err)
	}
	if v := <-waiter; v != "from the waiter" {
		t.Errorf("the waiter got %q", v)
	}
	v, err := m.Get(context.Background(), target, func(context.Context) (string, error) { return "again", nil })
	if err != nil || v != "from the waiter" {
		t.Errorf("a later caller got %q, %v; want the waiter's value, shared", v, err)
	}
}

// A caller whose own context ends stops waiting, without disturbing the
// make it was waiting for.
func TestMemoWaiterGivesUp(t *testing.T) {
	var m probe.Memo[int]
	target := &check.Target{BaseURL: "http://a", Shared: &check.Shared{}}
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if v, err := m.Get(context.Background(), target, func(context.Context) (int, error) { close(started); <-release; return 7, nil }); v != 7 || err != nil {
			t.Errorf("the maker got %d, %v", v, err)
		}
	}()
	// The make is under way, whenever a busy machine got to run it.
	<-started
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := m.Get(short, target, func(context.Context) (int, error) { return 0, errors.New("not called") }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the impatient caller got %v; want its own deadline", err)
	}
	close(release)
	<-done
	if v, _ := m.Get(context.Background(), target, nil); v != 7 {
		t.Errorf("after the make: %d; want 7", v)
	}
}

// A make that panics is forgotten, so that the next caller does not wait
// for it forever.
func TestMemoForgetsAPanic(t *testing.T) {
	var m probe.Memo[int]
	target := &check.Target{BaseURL: "http://a", Shared: &check.Shared{}}
	func() {
		defer func() { _ = recover() }()
		m.Get(context.Background(), target, func(context.Context) (int, error) { panic("boom") })
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if v, err := m.Get(ctx, target, func(context.Context) (int, error) { return 3, nil }); v != 3 || err != nil {
		t.Errorf("after a panic: %d, %v; want a fresh make", v, err)
	}
}
