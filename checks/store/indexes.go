package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/taskready/taskready/checks/check"
)

// requirement is an index a query of the API needs. The list mirrors
// service/mongo/indexes.go on purpose instead of importing it: the check
// states what the queries need, independently of the code that is
// supposed to create it.
type requirement struct {
	coll   string
	key    bson.D
	unique bool
	why    string
}

var required = []requirement{
	{"users", bson.D{{Key: "email", Value: 1}}, true, "login by email; the unique index decides a registration race"},
	{"tasks", bson.D{{Key: "user", Value: 1}, {Key: "createdAt", Value: -1}}, false, "a user's tasks newest first, paged"},
	{"tasks", bson.D{{Key: "user", Value: 1}, {Key: "status", Value: 1}}, false, "a user's tasks filtered by status"},
}

// indexInfo is the part of a listIndexes document the check judges.
type indexInfo struct {
	Name      string `bson:"name"`
	Key       bson.D `bson:"key"`
	Unique    bool   `bson:"unique"`
	Sparse    bool   `bson:"sparse"`
	Hidden    bool   `bson:"hidden"`
	Partial   bson.D `bson:"partialFilterExpression"`
	Collation bson.D `bson:"collation"`
}

// String renders the index as "name {key} unique …" for evidence.
func (ix indexInfo) String() string {
	s := ix.Name + " " + keyString(ix.Key)
	for _, f := range []struct {
		on   bool
		name string
	}{{ix.Unique, "unique"}, {ix.Sparse, "sparse"}, {ix.Hidden, "hidden"}, {ix.Partial != nil, "partial"}, {ix.Collation != nil, "collation"}} {
		if f.on {
			s += " " + f.name
		}
	}
	return s
}

// listIndexInfo returns coll's indexes; exists is false when the
// collection does not exist.
func listIndexInfo(ctx context.Context, coll *mongo.Collection) (out []indexInfo, exists bool, err error) {
	cur, err := coll.Indexes().List(ctx)
	if err != nil {
		if isCode(err, 26) { // NamespaceNotFound
			return nil, false, nil
		}
		return nil, false, err
	}
	if err := cur.All(ctx, &out); err != nil {
		return nil, true, err
	}
	// Every collection has its _id index; FerretDB answers an empty list,
	// not NamespaceNotFound, when the database does not exist.
	return out, len(out) > 0, nil
}

// direction returns a key's direction as +1/-1, or 0 for a special index
// type ("text", "hashed", "2dsphere").
func direction(v any) int {
	f, ok := toFloat(v)
	switch {
	case !ok:
		return 0
	case f > 0:
		return 1
	case f < 0:
		return -1
	}
	return 0
}

// serves says whether ix can serve r and how: "" when it cannot. An
// index serves a non-unique requirement when r's key is ix's key or a
// prefix of it, in the same directions or all reversed (the planner walks
// an index backwards). A unique requirement needs exactly that key,
// unique, because only then does the index enforce the uniqueness.
// Partial, hidden and collated indexes are not used for the API's plain
// queries, so they do not count.
func serves(r requirement, ix indexInfo) (how string, ok bool) {
	if ix.Hidden || ix.Partial != nil || ix.Collation != nil || len(ix.Key) < len(r.key) {
		return "", false
	}
	same, reversed := true, true
	for i, e := range r.key {
		if ix.Key[i].Key != e.Key {
			return "", false
		}
		want, got := direction(e.Value), direction(ix.Key[i].Value)
		if got == 0 {
			return "", false
		}
		same = same && got == want
		reversed = reversed && got == -want
	}
	if !same && !reversed {
		return "", false
	}
	exact := len(ix.Key) == len(r.key)
	if r.unique {
		if !exact || !same || !ix.Unique {
			return "", false
		}
		return ix.Name, true
	}
	switch {
	case exact && same:
		return ix.Name, true
	case exact:
		return ix.Name + " (walked backwards)", true
	}
	return ix.Name + " " + keyString(ix.Key) + " (as its prefix)", true
}

func indexes(ctx context.Context, t *check.Target) check.Result {
	if t.Mongo == nil {
		return check.NotApplicablef("no MongoDB connection (Target.Mongo): indexes cannot be listed")
	}
	db := t.Mongo.Database(t.DatabaseName())
	listed := map[string][]indexInfo{}
	var ev []check.Evidence
	var missing, notes []string
	for _, coll := range []string{"users", "tasks"} {
		ixs, exists, err := listIndexInfo(ctx, db.Collection(coll))
		if unauthorized(err) {
			return check.Errorf(fmt.Sprintf("listIndexes on %s.%s refused: the check's user needs read (or listIndexes) on the database: %v", t.DatabaseName(), coll, err))
		}
		if err != nil {
			return check.Errorf(fmt.Sprintf("listIndexes on %s.%s: %v", t.DatabaseName(), coll, err))
		}
		listed[coll] = ixs
		e := check.Evidence{Request: fmt.Sprintf("db.%s.getIndexes() on %s", coll, t.DatabaseName())}
		if !exists {
			e.Response = "collection does not exist"
		} else {
			var lines []string
			for _, ix := range ixs {
				lines = append(lines, ix.String())
			}
			e.Response = strings.Join(lines, "\n")
		}
		ev = append(ev, e)
		if !exists {
			notes = append(notes, fmt.Sprintf("collection %s.%s does not exist (has the API ever started against this database?)", t.DatabaseName(), coll))
		}
	}
	var found []string
	for _, r := range required {
		var how string
		for _, ix := range listed[r.coll] {
			if h, ok := serves(r, ix); ok {
				how = h
				break
			}
		}
		want := r.coll + " " + keyString(r.key)
		if r.unique {
			want += " unique"
		}
		if how != "" {
			found = append(found, fmt.Sprintf("%s: %s", want, how))
			continue
		}
		problem := fmt.Sprintf("%s (%s)", want, r.why)
		if r.unique && slices.ContainsFunc(listed[r.coll], func(ix indexInfo) bool {
			return len(ix.Key) == len(r.key) && ix.Key[0].Key == r.key[0].Key && !ix.Unique
		}) {
			problem += ": an index on the key exists but is not unique, so duplicate emails can be registered"
		}
		missing = append(missing, problem)
	}
	ev = append(ev, check.Evidence{
		Expected: "users {email: 1} unique; tasks {user: 1, createdAt: -1}; tasks {user: 1, status: 1}",
		Observed: strings.Join(append(found, missing...), "\n"),
		Note:     strings.Join(notes, "; "),
	})
	if len(missing) > 0 {
		return check.Failf("missing index: "+strings.Join(missing, "; "), ev...)
	}
	return check.Passf(fmt.Sprintf("the %d indexes the API's queries need exist in %s", len(required), t.DatabaseName()), ev...)
}
