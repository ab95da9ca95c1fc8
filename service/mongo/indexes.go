package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Collection names, kept from the original Mongoose models.
const (
	UsersCollection = "users"
	TasksCollection = "tasks"
)

// IndexReport says what EnsureIndexes created and what the server refused.
type IndexReport struct {
	Created     []string
	Unsupported []string // optional indexes the server cannot build (FerretDB has no text index)
}

type indexSpec struct {
	coll     string
	model    mongo.IndexModel
	optional bool
}

// Named explicitly so a re-run finds the same index and creation is a no-op.
var indexSpecs = []indexSpec{
	{UsersCollection, mongo.IndexModel{
		Keys:    bson.D{{Key: "email", Value: 1}},
		Options: options.Index().SetName("email_unique").SetUnique(true),
	}, false},
	{TasksCollection, mongo.IndexModel{
		Keys:    bson.D{{Key: "user", Value: 1}, {Key: "createdAt", Value: -1}},
		Options: options.Index().SetName("user_createdAt"),
	}, false},
	{TasksCollection, mongo.IndexModel{
		Keys:    bson.D{{Key: "user", Value: 1}, {Key: "status", Value: 1}},
		Options: options.Index().SetName("user_status"),
	}, false},
	{TasksCollection, mongo.IndexModel{
		Keys:    bson.D{{Key: "title", Value: "text"}},
		Options: options.Index().SetName("title_text"),
	}, true},
}

// EnsureIndexes creates the indexes the stores' queries rely on. It is
// idempotent: running it on every start costs one round trip per index.
// The unique email index is what decides a registration race.
func EnsureIndexes(ctx context.Context, db *mongo.Database) (IndexReport, error) {
	var r IndexReport
	for _, s := range indexSpecs {
		name, err := db.Collection(s.coll).Indexes().CreateOne(ctx, s.model)
		switch {
		case err != nil && s.optional:
			r.Unsupported = append(r.Unsupported, s.coll+"."+*indexName(s.model))
		case err != nil:
			return r, fmt.Errorf("create index %s.%s: %w", s.coll, *indexName(s.model), err)
		default:
			r.Created = append(r.Created, s.coll+"."+name)
		}
	}
	return r, nil
}

func indexName(m mongo.IndexModel) *string {
	var o options.IndexOptions
	for _, set := range m.Options.List() {
		_ = set(&o)
	}
	return o.Name
}
