package main_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/env/envtest"
)

// Tasks deleted or changed directly in MongoDB while the load runs are
// reported lost, each by id, and the run crosses lost_writes count==0:
// exit 99. The ledger can fail.
func TestRunReportsTasksLostBehindTheAPIsBack(t *testing.T) {
	t.Parallel()
	harness, _ := buildBinaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e := envtest.Embedded(t, 1, "RATE_LIMIT_AUTH=100000/1m", "RATE_LIMIT_API=100000/1m")
	tasks := envtest.Database(t, e).Collection("tasks")

	out := t.TempDir()
	type result struct {
		code int
		text string
	}
	done := make(chan result, 1)
	go func() {
		code, text := harnessRun(t, harness, "run", "-target", e.Target, "-mongo-uri", e.Stores.MongoURI,
			"-seed-tasks", "0", "-contract=false", "-scenario", "testdata/ledger.yaml", "-out", out)
		done <- result{code, text}
	}()

	// The first four tasks the load creates: two deleted, two changed.
	var tampered []string
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	for len(tampered) < 4 {
		select {
		case r := <-done:
			t.Fatalf("the run ended (exit %d) before four tasks were made:\n%s", r.code, r.text)
		case <-poll.C:
		}
		cur, err := tasks.Find(ctx, bson.M{"title": bson.M{"$regex": "^ledger load "}}, options.Find().SetLimit(4))
		if err != nil {
			t.Fatal(err)
		}
		var found []struct {
			ID bson.ObjectID `bson:"_id"`
		}
		if err := cur.All(ctx, &found); err != nil {
			t.Fatal(err)
		}
		if len(found) < 4 {
			continue
		}
		for i, f := range found {
			if i < 2 {
				_, err = tasks.DeleteOne(ctx, bson.M{"_id": f.ID})
			} else {
				_, err = tasks.UpdateOne(ctx, bson.M{"_id": f.ID}, bson.M{"$set": bson.M{"status": "completed"}})
			}
			if err != nil {
				t.Fatal(err)
			}
			tampered = append(tampered, f.ID.Hex())
		}
	}
	r := <-done
	if r.code != 99 {
		t.Fatalf("exit %d; want 99 (lost_writes count==0 crossed):\n%s", r.code, r.text)
	}
	s := fullSummary(t, out)
	w := s.Run.Writes
	if w == nil {
		t.Fatal("summary.json has no writes")
	}
	var lost []string
	for _, f := range w.Findings {
		if f.Kind == "lost" {
			lost = append(lost, f.ID)
		}
	}
	slices.Sort(lost)
	slices.Sort(tampered)
	if w.Lost != 4 || !slices.Equal(lost, tampered) || w.Resurrected+w.Duplicated+w.Unverified != 0 {
		t.Errorf("writes = %+v; want exactly the 4 tampered tasks lost (%v), nothing else wrong", w, tampered)
	}
	if len(s.Run.Outcome.Reasons) == 0 || !strings.Contains(s.Run.Outcome.Reasons[0], "threshold lost_writes count==0 crossed") {
		t.Errorf("outcome = %+v; want the lost_writes threshold named", s.Run.Outcome)
	}
	for _, want := range []string{"WRITES", "lost 4 · resurrected 0", "lost " + tampered[0] + ": expected present, as acknowledged"} {
		if !strings.Contains(r.text, want) {
			t.Errorf("output lacks %q:\n%s", want, r.text)
		}
	}
	junit, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	if err != nil || !strings.Contains(string(junit), "lost_writes") || !strings.Contains(string(junit), tampered[1]) {
		t.Errorf("junit.xml lacks the lost_writes threshold or a lost id (%v)", err)
	}
	t.Logf("%d writes acknowledged, %d read back in %.1fs with %d requests", w.Acknowledged, w.Checked, w.Seconds, w.Requests)
}
