// Package seed fills a task API's database with deterministic, realistic
// users and tasks for load scenarios and readiness checks to use.
//
// The same seed writes the same users, titles, statuses and time offsets;
// absolute times are relative to the run's start.
//
// It writes through the MongoDB driver in the API's document shapes (the
// users and tasks collections), in bulk: seeding a million tasks through
// the HTTP API would spend the run's budget on bcrypt. Every seeded user
// has the same password, hashed once, and an email with a recognisable
// prefix, so Reset removes exactly what Run wrote and nothing else.
//
// Run is not safe to call concurrently on the same database and prefix.
package seed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/crypto/bcrypt"
)

// Defaults.
const (
	DefaultPrefix    = "seed"
	DefaultPassword  = "seed-password-1"
	DefaultBatchSize = 1000
	// DefaultCost is bcrypt's minimum: seeded users are load-test
	// fixtures, and the API checks a hash of any cost.
	DefaultCost = bcrypt.MinCost
)

// ErrAlreadySeeded is returned when users with the prefix exist already.
var ErrAlreadySeeded = errors.New("seed data with this prefix already exists (reset it first)")

// Options configure a run.
type Options struct {
	Users        int
	TasksPerUser int
	Seed         uint64 // the same seed writes the same data
	Prefix       string // emails are <prefix>-<n>@example.com
	Password     string
	BatchSize    int
	// Progress, when set, is called after each batch with documents
	// written so far and the total.
	Progress func(done, total int)
}

// Result says what a run wrote and how fast.
type Result struct {
	Users, Tasks int
	Took         time.Duration
}

// Rate is the achieved insert rate in documents per second.
func (r Result) Rate() float64 {
	if r.Took <= 0 {
		return 0
	}
	return float64(r.Users+r.Tasks) / r.Took.Seconds()
}

// Email returns the email of seeded user n (1-based), for scenarios.
func Email(prefix string, n int) string { return fmt.Sprintf("%s-%06d@example.com", prefix, n) }

func (o *Options) defaults() {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Password == "" {
		o.Password = DefaultPassword
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Progress == nil {
		o.Progress = func(int, int) {}
	}
}

// Run writes o.Users users with o.TasksPerUser tasks each into db.
func Run(ctx context.Context, db *mongo.Database, o Options) (Result, error) {
	o.defaults()
	if o.Users < 1 || o.TasksPerUser < 0 {
		return Result{}, fmt.Errorf("seed: need at least 1 user and 0 or more tasks per user (got %d, %d)", o.Users, o.TasksPerUser)
	}
	users, tasks := db.Collection("users"), db.Collection("tasks")
	if n, err := users.CountDocuments(ctx, bson.D{{Key: "email", Value: Email(o.Prefix, 1)}}); err != nil {
		return Result{}, fmt.Errorf("seed: check existing: %w", err)
	} else if n > 0 {
		return Result{}, ErrAlreadySeeded
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(o.Password), DefaultCost)
	if err != nil {
		return Result{}, fmt.Errorf("seed: hash password: %w", err)
	}

	start := time.Now()
	rng := rand.New(rand.NewPCG(o.Seed, 0x7a5c))
	total := o.Users * (1 + o.TasksPerUser)
	done := 0
	batch := make([]any, 0, o.BatchSize)
	flush := func(c *mongo.Collection) error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := c.InsertMany(ctx, batch, options.InsertMany().SetOrdered(false)); err != nil {
			return fmt.Errorf("seed: insert into %s: %w", c.Name(), err)
		}
		done += len(batch)
		batch = batch[:0]
		o.Progress(done, total)
		return nil
	}

	// Accounts are spread over the last year; each user's tasks over the
	// time since they signed up, so "newest first" is meaningful.
	now := time.Now().UTC().Truncate(time.Millisecond)
	ids := make([]bson.ObjectID, o.Users)
	joined := make([]time.Time, o.Users)
	for i := range o.Users {
		joined[i] = now.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
		ids[i] = objectID(rng, joined[i])
		batch = append(batch, bson.D{
			{Key: "_id", Value: ids[i]},
			{Key: "name", Value: name(rng)},
			{Key: "email", Value: Email(o.Prefix, i+1)},
			{Key: "password", Value: string(hash)},
			{Key: "createdAt", Value: joined[i]},
			{Key: "updatedAt", Value: joined[i]},
		})
		if len(batch) == o.BatchSize {
			if err := flush(users); err != nil {
				return Result{}, err
			}
		}
	}
	if err := flush(users); err != nil {
		return Result{}, err
	}
	for i := range o.Users {
		for range o.TasksPerUser {
			created := joined[i].Add(time.Duration(rng.Int64N(int64(now.Sub(joined[i])) + 1)))
			updated := created.Add(time.Duration(rng.Int64N(int64(now.Sub(created)) + 1)))
			batch = append(batch, bson.D{
				{Key: "_id", Value: objectID(rng, created)},
				{Key: "title", Value: title(rng)},
				{Key: "description", Value: description(rng)},
				{Key: "status", Value: status(rng)},
				{Key: "user", Value: ids[i]},
				{Key: "createdAt", Value: created},
				{Key: "updatedAt", Value: updated},
			})
			if len(batch) == o.BatchSize {
				if err := flush(tasks); err != nil {
					return Result{}, err
				}
			}
		}
	}
	if err := flush(tasks); err != nil {
		return Result{}, err
	}
	return Result{Users: o.Users, Tasks: o.Users * o.TasksPerUser, Took: time.Since(start)}, nil
}

// Reset deletes the users with prefix and their tasks, and nothing else.
func Reset(ctx context.Context, db *mongo.Database, prefix string) (users, tasks int64, err error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	filter := bson.D{{Key: "email", Value: bson.D{{Key: "$regex", Value: "^" + regexp.QuoteMeta(prefix) + `-\d{6}@example\.com$`}}}}
	cur, err := db.Collection("users").Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return 0, 0, fmt.Errorf("seed reset: find users: %w", err)
	}
	var docs []struct {
		ID bson.ObjectID `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return 0, 0, fmt.Errorf("seed reset: read users: %w", err)
	}
	ids := make([]bson.ObjectID, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	// Delete in chunks: one $in with a million ids is a huge command.
	for start := 0; start < len(ids); start += DefaultBatchSize {
		chunk := ids[start:min(start+DefaultBatchSize, len(ids))]
		res, err := db.Collection("tasks").DeleteMany(ctx, bson.D{{Key: "user", Value: bson.D{{Key: "$in", Value: chunk}}}})
		if err != nil {
			return users, tasks, fmt.Errorf("seed reset: delete tasks: %w", err)
		}
		tasks += res.DeletedCount
		res, err = db.Collection("users").DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: chunk}}}})
		if err != nil {
			return users, tasks, fmt.Errorf("seed reset: delete users: %w", err)
		}
		users += res.DeletedCount
	}
	return users, tasks, nil
}
