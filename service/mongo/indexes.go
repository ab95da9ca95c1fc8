package mongo

import (
	"context"
	"errors"
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

// IndexReport says what EnsureIndexes created and which indexes of
// earlier versions it dropped.
type IndexReport struct {
	Created []string
	Dropped []string
}

type indexSpec struct {
	coll  string
	model mongo.IndexModel
}

// indexSpecs are the indexes, named explicitly so a re-run finds the same
// index and creation is a no-op. A function, not a variable: the driver
// writes to the options it is given, so two EnsureIndexes at once (two
// servers in one test process) must not share them.
func indexSpecs() []indexSpec {
	return []indexSpec{
		{UsersCollection, mongo.IndexModel{
			Keys:    bson.D{{Key: "email", Value: 1}},
			Options: options.Index().SetName("email_unique").SetUnique(true),
		}},
		{TasksCollection, mongo.IndexModel{
			Keys:    bson.D{{Key: "user", Value: 1}, {Key: "createdAt", Value: -1}},
			Options: options.Index().SetName("user_createdAt"),
		}},
		// The list filtered by status is sorted newest first and paged:
		// createdAt in the key lets MongoDB walk the index in order instead of
		// sorting every match in memory.
		{TasksCollection, mongo.IndexModel{
			Keys:    bson.D{{Key: "user", Value: 1}, {Key: "status", Value: 1}, {Key: "createdAt", Value: -1}},
			Options: options.Index().SetName("user_status_createdAt"),
		}},
	}
}

// replaced are indexes of earlier versions that no query uses any more:
// user_status is the prefix of user_status_createdAt, and search matches
// an escaped, case-insensitive regex, which a text index cannot serve.
var replaced = []struct{ coll, name string }{
	{TasksCollection, "user_status"},
	{TasksCollection, "title_text"},
}

// codeIndexNotFound is the server's error code for dropping an index that
// does not exist.
const codeIndexNotFound = 27

// EnsureIndexes creates the indexes the stores' queries rely on. It is
// idempotent: running it on every start costs one round trip per index.
// The unique email index is what decides a registration race.
func EnsureIndexes(ctx context.Context, db *mongo.Database) (IndexReport, error) {
	var r IndexReport
	for _, s := range indexSpecs() {
		name, err := db.Collection(s.coll).Indexes().CreateOne(ctx, s.model)
		if err != nil {
			return r, fmt.Errorf("create index %s.%s: %w", s.coll, *indexName(s.model), err)
		}
		r.Created = append(r.Created, s.coll+"."+name)
	}
	// Dropped after the replacements exist, so no query goes without.
	for _, old := range replaced {
		err := db.Collection(old.coll).Indexes().DropOne(ctx, old.name)
		var ce mongo.CommandError
		switch {
		case err == nil:
			r.Dropped = append(r.Dropped, old.coll+"."+old.name)
		case errors.As(err, &ce) && (ce.Code == codeIndexNotFound || ce.HasErrorMessage("index not found")):
		default:
			return r, fmt.Errorf("drop the replaced index %s.%s: %w", old.coll, old.name, err)
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
