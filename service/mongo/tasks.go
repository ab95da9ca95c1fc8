package mongo

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/service/task"
)

type taskDoc struct {
	ID          bson.ObjectID `bson:"_id"`
	Title       string        `bson:"title"`
	Description string        `bson:"description"`
	Status      string        `bson:"status"`
	User        bson.ObjectID `bson:"user"`
	CreatedAt   time.Time     `bson:"createdAt"`
	UpdatedAt   time.Time     `bson:"updatedAt"`
}

func (d *taskDoc) task() task.Task {
	return task.Task{
		ID: d.ID.Hex(), Title: d.Title, Description: d.Description, Status: task.Status(d.Status),
		UserID: d.User.Hex(), CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}

// Tasks is the MongoDB task.Store. Every query is filtered by owner first,
// which both enforces isolation and lets the {user, ...} indexes serve it.
type Tasks struct {
	c *mongo.Collection
	g *Guard
}

var _ task.Store = (*Tasks)(nil)

// NewTasks returns the task store of db, failing fast while g (which may
// be nil) is open.
func NewTasks(db *mongo.Database, g *Guard) *Tasks {
	return &Tasks{c: db.Collection(TasksCollection), g: g}
}

// newest is the list order; it matches the user_createdAt index, so paged
// lists are read in index order without an in-memory sort.
var newest = bson.D{{Key: "createdAt", Value: -1}}

// owned returns the filter for task id of userID, or false when either id
// cannot exist (then the answer is "not found" without a round trip).
func owned(userID, id string) (bson.D, bool) {
	uid, err1 := bson.ObjectIDFromHex(userID)
	oid, err2 := bson.ObjectIDFromHex(id)
	if err1 != nil || err2 != nil {
		return nil, false
	}
	return bson.D{{Key: "_id", Value: oid}, {Key: "user", Value: uid}}, true
}

// Create inserts t and sets its ID and timestamps.
func (s *Tasks) Create(ctx context.Context, t *task.Task) error {
	ctx, done, err := s.g.enter(ctx)
	if err != nil {
		return err
	}
	defer done()
	uid, err := bson.ObjectIDFromHex(t.UserID)
	if err != nil {
		return fmt.Errorf("insert task: owner id %q: %w", t.UserID, err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	d := taskDoc{ID: bson.NewObjectID(), Title: t.Title, Description: t.Description, Status: string(t.Status), User: uid, CreatedAt: now, UpdatedAt: now}
	if _, err := s.c.InsertOne(ctx, d); err != nil {
		return s.g.classify(fmt.Errorf("insert task: %w", err))
	}
	*t = d.task()
	return nil
}

// Get returns the task id if userID owns it.
func (s *Tasks) Get(ctx context.Context, userID, id string) (*task.Task, error) {
	ctx, done, err := s.g.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	filter, ok := owned(userID, id)
	if !ok {
		return nil, task.ErrNotFound
	}
	var d taskDoc
	if err := s.c.FindOne(ctx, filter).Decode(&d); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil, task.ErrNotFound
		}
		return nil, s.g.classify(fmt.Errorf("find task: %w", err))
	}
	t := d.task()
	return &t, nil
}

// filter builds the query of f. The search text is quoted, so it is
// matched literally: user input never becomes a regular expression.
func filter(f task.Filter) (bson.D, error) {
	uid, err := bson.ObjectIDFromHex(f.UserID)
	if err != nil {
		return nil, fmt.Errorf("owner id %q: %w", f.UserID, err)
	}
	q := bson.D{{Key: "user", Value: uid}}
	if f.Status != "" {
		q = append(q, bson.E{Key: "status", Value: string(f.Status)})
	}
	if f.Search != "" {
		q = append(q, bson.E{Key: "title", Value: bson.D{
			{Key: "$regex", Value: regexp.QuoteMeta(f.Search)},
			{Key: "$options", Value: "i"},
		}})
	}
	return q, nil
}

// List returns f's page of tasks, newest first.
func (s *Tasks) List(ctx context.Context, f task.Filter) ([]task.Task, error) {
	ctx, done, err := s.g.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	q, err := filter(f)
	if err != nil {
		return nil, s.g.classify(fmt.Errorf("list tasks: %w", err))
	}
	opts := options.Find().SetSort(newest).SetSkip(int64(f.Skip)).SetLimit(int64(f.Limit))
	cur, err := s.c.Find(ctx, q, opts)
	if err != nil {
		return nil, s.g.classify(fmt.Errorf("list tasks: %w", err))
	}
	var docs []taskDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, s.g.classify(fmt.Errorf("list tasks: decode: %w", err))
	}
	out := make([]task.Task, len(docs))
	for i := range docs {
		out[i] = docs[i].task()
	}
	return out, nil
}

// Count returns how many tasks match f, ignoring Skip and Limit.
func (s *Tasks) Count(ctx context.Context, f task.Filter) (int64, error) {
	ctx, done, err := s.g.enter(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	q, err := filter(f)
	if err != nil {
		return 0, s.g.classify(fmt.Errorf("count tasks: %w", err))
	}
	n, err := s.c.CountDocuments(ctx, q)
	if err != nil {
		return 0, s.g.classify(fmt.Errorf("count tasks: %w", err))
	}
	return n, nil
}

// Update applies u to the task id of userID and returns the result.
func (s *Tasks) Update(ctx context.Context, userID, id string, u task.Update) (*task.Task, error) {
	ctx, done, err := s.g.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	q, ok := owned(userID, id)
	if !ok {
		return nil, task.ErrNotFound
	}
	set := bson.D{{Key: "updatedAt", Value: time.Now().UTC().Truncate(time.Millisecond)}}
	if u.Title != nil {
		set = append(set, bson.E{Key: "title", Value: *u.Title})
	}
	if u.Description != nil {
		set = append(set, bson.E{Key: "description", Value: *u.Description})
	}
	if u.Status != nil {
		set = append(set, bson.E{Key: "status", Value: string(*u.Status)})
	}
	var d taskDoc
	err = s.c.FindOneAndUpdate(ctx, q, bson.D{{Key: "$set", Value: set}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil, task.ErrNotFound
		}
		return nil, s.g.classify(fmt.Errorf("update task: %w", err))
	}
	t := d.task()
	return &t, nil
}

// Delete removes the task id of userID.
func (s *Tasks) Delete(ctx context.Context, userID, id string) error {
	ctx, done, err := s.g.enter(ctx)
	if err != nil {
		return err
	}
	defer done()
	q, ok := owned(userID, id)
	if !ok {
		return task.ErrNotFound
	}
	res, err := s.c.DeleteOne(ctx, q)
	if err != nil {
		return s.g.classify(fmt.Errorf("delete task: %w", err))
	}
	if res.DeletedCount == 0 {
		return task.ErrNotFound
	}
	return nil
}
