package executor

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/taskready/taskready/loadtest/scenario"
)

func TestVUChanges(t *testing.T) {
	ms := time.Millisecond
	s := scenario.Scenario{StartVUs: 1, Stages: []scenario.Stage{
		{Duration: 300 * ms, Target: 4}, {Duration: 100 * ms, Target: 4},
		{Duration: 200 * ms, Target: 2}, {Duration: 0, Target: 5}, {Duration: 100 * ms, Target: 5},
	}}
	want := []change{{0, 1}, {100 * ms, 2}, {200 * ms, 3}, {300 * ms, 4}, {500 * ms, 3}, {600 * ms, 2}, {600 * ms, 5}, {700 * ms, 0}}
	if got := vuChanges(s); !slices.Equal(got, want) {
		t.Errorf("vuChanges = %v, want %v", got, want)
	}
}

func TestPicker(t *testing.T) {
	f := &scenario.File{Journeys: map[string]*scenario.Journey{"a": {Name: "a"}, "b": {Name: "b"}, "c": {Name: "c"}}}
	for _, tc := range []struct {
		ws   []scenario.WeightedJourney
		want string
	}{
		{[]scenario.WeightedJourney{{Name: "a", Weight: 3}, {Name: "b", Weight: 1}}, "aabaaaba"},
		{[]scenario.WeightedJourney{{Name: "a", Weight: 1}, {Name: "c", Weight: 0}, {Name: "b", Weight: 1}}, "abab"},
		{[]scenario.WeightedJourney{{Name: "a", Weight: 5}, {Name: "b", Weight: 1}, {Name: "c", Weight: 1}}, "aabacaaaabacaa"},
	} {
		p, err := newPicker(f, scenario.Scenario{Journeys: tc.ws})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for range tc.want {
			got += p.next().Name
		}
		if got != tc.want {
			t.Errorf("%v: %s, want %s", tc.ws, got, tc.want)
		}
	}
}

// TestGrowthPacesNewVUs: the open model may add a burst of VUs at once
// (growthBurst of the schedule), then hands an iteration a VU freed
// meanwhile rather than adding one; with none freed it adds the next VU
// once the schedule's pace allows.
func TestGrowthPacesNewVUs(t *testing.T) {
	ctx := context.Background()
	g := newGrowth()
	defer g.stop()
	const rate = 1000 // 10 VUs in growthBurst
	idle := make(chan *worker, 1)
	for i := range 10 {
		if w, err := g.next(ctx, idle, rate); w != nil || err != nil {
			t.Fatalf("call %d of the burst: %v, %v; want a new VU", i, w, err)
		}
	}
	freed := &worker{}
	idle <- freed
	if w, err := g.next(ctx, idle, rate); w != freed || err != nil {
		t.Fatalf("past the burst with a VU freed: %v, %v; want the freed VU", w, err)
	}
	if w, err := g.next(ctx, idle, rate); w != nil || err != nil {
		t.Fatalf("past the burst, none freed: %v, %v; want a new VU when the pace allows", w, err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	g.tokens = 0
	if _, err := g.next(done, idle, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting with the context done: %v, want context.Canceled", err)
	}
}
