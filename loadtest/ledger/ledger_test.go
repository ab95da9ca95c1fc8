package ledger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/taskready/taskready/env/envtest"
	"github.com/taskready/taskready/internal/testbin"
	"github.com/taskready/taskready/loadtest/journey"
	"github.com/taskready/taskready/loadtest/ledger"
	"github.com/taskready/taskready/loadtest/summary"
)

// realAPI starts one instance of the real API on embedded stores and
// returns its base URL and its tasks collection.
func realAPI(t *testing.T) (string, *mongo.Collection) {
	t.Helper()
	e := envtest.Embedded(t, 1)
	return e.Target, envtest.Database(t, e).Collection("tasks")
}

// client sends requests as one user and tells the ledger of each, as a
// journey step with journey.Observe would.
type client struct {
	t      *testing.T
	target string
	user   journey.User
	token  string
	l      *ledger.Ledger
}

// send sends a request and returns its status and decoded answer; lie,
// when set, is what the ledger hears instead of the real status (0: the
// client saw no answer).
func (c *client) send(method, path string, body any, lie ...int) (int, map[string]any) {
	c.t.Helper()
	var data []byte
	if body != nil {
		data, _ = json.Marshal(body)
	}
	req, err := http.NewRequest(method, c.target+path, bytes.NewReader(data))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	auth := ""
	if c.token != "" {
		auth = "Bearer " + c.token
		req.Header.Set("Authorization", auth)
	}
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	answer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	x := &journey.Exchange{User: c.user, Method: method, Path: path, Authorization: auth, Body: data,
		Status: res.StatusCode, Answer: answer, Start: start, End: time.Now()}
	if len(lie) > 0 {
		x.Status, x.Answer, x.Err = lie[0], nil, "timeout after 1s"
	}
	if c.l != nil {
		c.l.Observe(x)
	}
	var out map[string]any
	_ = json.Unmarshal(answer, &out)
	return res.StatusCode, out
}

func register(t *testing.T, target string, index int, email string, l *ledger.Ledger) *client {
	t.Helper()
	c := &client{t: t, target: target, l: l, user: journey.User{Index: index, Email: email, Password: "password-1"}}
	status, out := c.send("POST", "/api/auth/register", map[string]string{"name": "Ledger", "email": email, "password": "password-1"})
	if status != http.StatusCreated {
		t.Fatalf("register %s: %d %v", email, status, out)
	}
	c.token = out["token"].(string)
	return c
}

func (c *client) create(title string) string {
	c.t.Helper()
	status, out := c.send("POST", "/api/tasks", map[string]string{"title": title, "description": "ledger test"})
	if status != http.StatusCreated {
		c.t.Fatalf("create: %d %v", status, out)
	}
	return out["task"].(map[string]any)["_id"].(string)
}

func oid(t *testing.T, hex string) bson.ObjectID {
	t.Helper()
	id, err := bson.ObjectIDFromHex(hex)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// The ledger reads back every task the writes touched and finds each
// thing done behind the API's back, by id; before that, it finds
// nothing. Every kind of finding is made once, directly in MongoDB or by
// a write the client is told failed although it happened.
func TestVerifyFindsWhatHappenedBehindTheAPIsBack(t *testing.T) {
	t.Parallel()
	target, tasks := realAPI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	began := time.Now()
	l := ledger.New()
	c := register(t, target, 1, "ledger-owner@example.com", l)

	// Twelve tasks: kept, updated, and deleted, through the API.
	var ids []string
	for i := range 12 {
		ids = append(ids, c.create(fmt.Sprintf("ledger task %02d", i)))
	}
	for _, i := range []int{1, 2, 3} {
		if status, _ := c.send("PUT", "/api/tasks/"+ids[i], map[string]string{"status": "completed"}); status != http.StatusOK {
			t.Fatalf("update %d: %d", i, status)
		}
	}
	for _, i := range []int{4, 5} {
		if status, _ := c.send("DELETE", "/api/tasks/"+ids[i], nil); status != http.StatusOK {
			t.Fatalf("delete %d: %d", i, status)
		}
	}
	// Writes the client is told failed: a delete and an update that did
	// happen, an update that did not (a 404, so no change), and a create
	// that happened.
	c.send("DELETE", "/api/tasks/"+ids[6], nil, 0)
	c.send("PUT", "/api/tasks/"+ids[7], map[string]string{"status": "in-progress"}, 504)
	c.send("PUT", "/api/tasks/"+ids[8], map[string]string{"status": "bogus"}, 0) // a 400 in truth
	if status, out := c.send("POST", "/api/tasks", map[string]string{"title": "ledger maybe", "description": "ledger test"}, 0); status != http.StatusCreated {
		t.Fatalf("uncertain create: %d %v", status, out)
	}
	// A second user's task, read back as that user.
	other := register(t, target, 2, "ledger-other@example.com", l)
	otherID := other.create("someone else's task")

	clean := l.Verify(ctx, ledger.ReadBack{Target: target, Since: began.Add(-time.Minute)})
	if n := clean.Lost + clean.Resurrected + clean.Duplicated; n != 0 || clean.Unverified != 0 || clean.Error != "" {
		t.Fatalf("before any tampering: %+v; want nothing lost, resurrected, duplicated or unverified", clean)
	}
	// The three uncertain writes that happened are ambiguous; the one
	// that did not (ids[8] keeps its title) is not.
	if got := kinds(clean, ledger.Ambiguous); len(got) != 3 || !slices.Contains(got, ids[6]) || !slices.Contains(got, ids[7]) {
		t.Fatalf("ambiguous before tampering = %v; want ids[6] (delete), ids[7] (update) and the uncertain create", got)
	}
	if clean.Acknowledged != 18 || clean.Uncertain != 4 || clean.Checked != 14 {
		t.Errorf("counts = %d acknowledged, %d uncertain, %d checked; want 18, 4, 14", clean.Acknowledged, clean.Uncertain, clean.Checked)
	}

	// Behind the API's back: a kept task deleted, an updated one changed,
	// a deleted one back, and a copy of a created one.
	if _, err := tasks.DeleteOne(ctx, bson.M{"_id": oid(t, ids[0])}); err != nil {
		t.Fatal(err)
	}
	if _, err := tasks.UpdateOne(ctx, bson.M{"_id": oid(t, ids[2])}, bson.M{"$set": bson.M{"status": "pending"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tasks.UpdateOne(ctx, bson.M{"_id": oid(t, otherID)}, bson.M{"$set": bson.M{"title": "changed"}}); err != nil {
		t.Fatal(err)
	}
	var copyOf bson.M
	if err := tasks.FindOne(ctx, bson.M{"_id": oid(t, ids[9])}).Decode(&copyOf); err != nil {
		t.Fatal(err)
	}
	resurrected := maps.Clone(copyOf)
	resurrected["_id"] = oid(t, ids[4])
	if _, err := tasks.InsertOne(ctx, resurrected); err != nil {
		t.Fatal(err)
	}
	copyOf["_id"] = bson.NewObjectID()
	copyOf["createdAt"] = time.Now()
	if _, err := tasks.InsertOne(ctx, copyOf); err != nil {
		t.Fatal(err)
	}

	w := l.Verify(ctx, ledger.ReadBack{Target: target, Since: began.Add(-time.Minute), Pace: 200})
	for kind, want := range map[string][]string{
		ledger.Lost:        {ids[0], ids[2], otherID},
		ledger.Resurrected: {ids[4]},
		ledger.Duplicated:  {copyOf["_id"].(bson.ObjectID).Hex()},
	} {
		got := kinds(w, kind)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v; want %v", kind, got, want)
		}
	}
	if w.Lost != 3 || w.Resurrected != 1 || w.Duplicated != 1 {
		t.Errorf("counts: lost %d, resurrected %d, duplicated %d; want 3, 1, 1", w.Lost, w.Resurrected, w.Duplicated)
	}
	for _, f := range w.Findings {
		if f.ID == ids[0] && (f.Got != "absent (404)" || f.Owner != "ledger-owner@example.com") {
			t.Errorf("the deleted task's finding = %+v; want absent, owned by ledger-owner@example.com", f)
		}
		if f.ID == ids[2] && f.Got != `title "ledger task 02", status "pending"` {
			t.Errorf("the changed task's finding = %+v; want what the API shows", f)
		}
	}
	t.Logf("read back %d tasks with %d requests in %.1fs: %s", w.Checked, w.Requests, w.Seconds, ledger.Describe(w))
}

func TestMain(m *testing.M) { testbin.Main(m) }

func kinds(w *summary.Writes, kind string) []string {
	var out []string
	for _, f := range w.Findings {
		if f.Kind == kind {
			out = append(out, f.ID)
		}
	}
	return out
}
