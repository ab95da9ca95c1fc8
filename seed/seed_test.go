package seed_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/crypto/bcrypt"

	"github.com/taskready/taskready/embedded"
	"github.com/taskready/taskready/seed"
)

func database(t *testing.T, name string) *mongo.Database {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := embedded.StartMongo(ctx, t.TempDir(), embedded.MongoLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	client, err := mongo.Connect(options.Client().ApplyURI(m.URI()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database(name)
}

type taskDoc struct {
	Title     string        `bson:"title"`
	Status    string        `bson:"status"`
	User      bson.ObjectID `bson:"user"`
	CreatedAt time.Time     `bson:"createdAt"`
	UpdatedAt time.Time     `bson:"updatedAt"`
}

func TestRunWritesRealisticDeterministicData(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := database(t, "seedtest")
	var calls, last int
	res, err := seed.Run(ctx, db, seed.Options{Users: 30, TasksPerUser: 7, Seed: 42, BatchSize: 50,
		Progress: func(done, total int) { calls++; last = done; _ = total }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Users != 30 || res.Tasks != 210 || res.Rate() <= 0 {
		t.Errorf("result = %+v", res)
	}
	if last != 240 || calls < 240/50 {
		t.Errorf("progress: %d calls, last %d; want every batch reported, ending at 240", calls, last)
	}
	for coll, want := range map[string]int64{"users": 30, "tasks": 210} {
		if n, _ := db.Collection(coll).CountDocuments(ctx, bson.D{}); n != want {
			t.Errorf("%s = %d; want %d", coll, n, want)
		}
	}

	var u struct {
		Email, Password string
		CreatedAt       time.Time `bson:"createdAt"`
	}
	if err := db.Collection("users").FindOne(ctx, bson.D{{Key: "email", Value: seed.Email("seed", 7)}}).Decode(&u); err != nil {
		t.Fatalf("seeded user 7: %v", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(u.Password), []byte(seed.DefaultPassword)) != nil {
		t.Error("seeded password hash does not match DefaultPassword")
	}

	cur, err := db.Collection("tasks").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var tasks []taskDoc
	if err := cur.All(ctx, &tasks); err != nil {
		t.Fatal(err)
	}
	statuses := map[string]int{}
	for _, tk := range tasks {
		statuses[tk.Status]++
		if tk.Title == "" || tk.UpdatedAt.Before(tk.CreatedAt) || tk.CreatedAt.After(time.Now()) {
			t.Fatalf("implausible task %+v", tk)
		}
	}
	if len(statuses) != 3 {
		t.Errorf("statuses = %v; want all three", statuses)
	}

	// The same seed writes the same data; another seed does not.
	again := database(t, "seedtest")
	if _, err := seed.Run(ctx, again, seed.Options{Users: 30, TasksPerUser: 7, Seed: 42}); err != nil {
		t.Fatal(err)
	}
	other := database(t, "seedtest")
	if _, err := seed.Run(ctx, other, seed.Options{Users: 30, TasksPerUser: 7, Seed: 43}); err != nil {
		t.Fatal(err)
	}
	if a, b := titles(t, db), titles(t, again); a != b {
		t.Error("same seed, different titles")
	}
	if a, c := titles(t, db), titles(t, other); a == c {
		t.Error("different seeds, same titles")
	}
}

func titles(t *testing.T, db *mongo.Database) string {
	t.Helper()
	cur, err := db.Collection("tasks").Find(context.Background(), bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	var tasks []taskDoc
	if err := cur.All(context.Background(), &tasks); err != nil {
		t.Fatal(err)
	}
	s := ""
	for _, tk := range tasks {
		s += tk.Title + "|" + tk.Status + ";"
	}
	return s
}

func TestResetRemovesOnlySeededData(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := database(t, "resettest")
	real := bson.NewObjectID()
	if _, err := db.Collection("users").InsertOne(ctx, bson.D{{Key: "_id", Value: real}, {Key: "email", Value: "seed-real@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("tasks").InsertOne(ctx, bson.D{{Key: "user", Value: real}, {Key: "title", Value: "keep me"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Run(ctx, db, seed.Options{Users: 5, TasksPerUser: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Run(ctx, db, seed.Options{Users: 5, TasksPerUser: 3}); !errors.Is(err, seed.ErrAlreadySeeded) {
		t.Fatalf("second run = %v; want ErrAlreadySeeded", err)
	}
	users, tasks, err := seed.Reset(ctx, db, "seed")
	if err != nil || users != 5 || tasks != 15 {
		t.Fatalf("Reset = %d users, %d tasks, %v; want 5, 15", users, tasks, err)
	}
	for coll, want := range map[string]int64{"users": 1, "tasks": 1} {
		if n, _ := db.Collection(coll).CountDocuments(ctx, bson.D{}); n != want {
			t.Errorf("%s left = %d; want %d (the real data)", coll, n, want)
		}
	}
}
