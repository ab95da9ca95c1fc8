package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/checks/check"
)

// maxExaminedRatio is how many documents a query may examine per
// document it returns (DB-01 flags above 10).
const maxExaminedRatio = 10

// shape is one query the API issues, as the command the driver sends.
type shape struct {
	name string
	cmd  bson.D
	// skip is the documents skipped, which a server examines too.
	skip int64
	// noSort: a blocking in-memory SORT fails the shape (paged lists
	// must be read in index order).
	noSort bool
	// noRatio: the examined/returned ratio does not apply (a count
	// returns one document whatever it reads).
	noRatio bool
}

// shapes returns the API's query shapes (service/mongo) with sample
// values taken from the database, so that explain reports real work.
func shapes(ctx context.Context, db *mongo.Database) []shape {
	user, status, email := bson.NewObjectID(), "pending", "nobody@example.com"
	var task struct {
		User   bson.ObjectID `bson:"user"`
		Status string        `bson:"status"`
	}
	if err := db.Collection("tasks").FindOne(ctx, bson.D{}, options.FindOne().SetProjection(bson.D{{Key: "user", Value: 1}, {Key: "status", Value: 1}})).Decode(&task); err == nil && !task.User.IsZero() {
		user = task.User
		if task.Status != "" {
			status = task.Status
		}
	}
	var u struct {
		Email string `bson:"email"`
	}
	if err := db.Collection("users").FindOne(ctx, bson.D{}, options.FindOne().SetProjection(bson.D{{Key: "email", Value: 1}})).Decode(&u); err == nil && u.Email != "" {
		email = u.Email
	}
	newest := bson.D{{Key: "createdAt", Value: -1}}
	return []shape{
		{name: "list a user's tasks, page 2, newest first", skip: 10, noSort: true, cmd: bson.D{
			{Key: "find", Value: "tasks"}, {Key: "filter", Value: bson.D{{Key: "user", Value: user}}},
			{Key: "sort", Value: newest}, {Key: "skip", Value: int64(10)}, {Key: "limit", Value: int64(10)}}},
		{name: "list a user's tasks by status, newest first", cmd: bson.D{
			{Key: "find", Value: "tasks"}, {Key: "filter", Value: bson.D{{Key: "user", Value: user}, {Key: "status", Value: status}}},
			{Key: "sort", Value: newest}, {Key: "limit", Value: int64(10)}}},
		{name: "count a user's tasks (paged list total)", noRatio: true, cmd: bson.D{
			{Key: "aggregate", Value: "tasks"}, {Key: "pipeline", Value: bson.A{
				bson.D{{Key: "$match", Value: bson.D{{Key: "user", Value: user}}}},
				bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
			}}, {Key: "cursor", Value: bson.D{}}}},
		{name: "find a user by email (login)", cmd: bson.D{
			{Key: "find", Value: "users"}, {Key: "filter", Value: bson.D{{Key: "email", Value: email}}}, {Key: "limit", Value: int64(1)}}},
	}
}

// verdict is what explain said about one shape.
type verdict struct {
	// format is "mongodb", "ferretdb" or "unknown".
	format   string
	stages   []string
	indexes  []string
	problems []string
	notes    []string
	// nReturned, docsExamined and keysExamined are -1 when not reported.
	nReturned, docsExamined, keysExamined int64
	// ferret holds FerretDB's own plan description; ferretScan says it
	// shows a full table scan with no filter pushdown.
	ferret     string
	ferretScan bool
}

// planNode walks an explain document and collects the stage names and
// index names under every "winningPlan" (classic, SBE's queryPlan, each
// shard's, each $cursor stage's).
func planNode(v bson.RawValue, inPlan bool, stages, indexes *[]string) {
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		elems, _ := v.Document().Elements()
		for _, e := range elems {
			key := e.Key()
			if inPlan && key == "stage" {
				if s, ok := e.Value().StringValueOK(); ok {
					*stages = append(*stages, s)
				}
			}
			if inPlan && key == "indexName" {
				if s, ok := e.Value().StringValueOK(); ok && !slices.Contains(*indexes, s) {
					*indexes = append(*indexes, s)
				}
			}
			// Rejected plans and the SBE slot plan would add stages that
			// do not run (or use other names).
			if key == "rejectedPlans" || key == "slotBasedPlan" || key == "executionStats" {
				continue
			}
			planNode(e.Value(), inPlan || key == "winningPlan", stages, indexes)
		}
	case bson.TypeArray:
		vals, _ := v.Array().Values()
		for _, x := range vals {
			planNode(x, inPlan, stages, indexes)
		}
	}
}

// findExecutionStats returns the first "executionStats" document in an
// explain (top level for find, inside $cursor for an aggregate).
func findExecutionStats(doc bson.Raw) (bson.Raw, bool) {
	elems, _ := doc.Elements()
	for _, e := range elems {
		if e.Key() == "executionStats" {
			if d, ok := e.Value().DocumentOK(); ok {
				return d, true
			}
		}
	}
	for _, e := range elems {
		switch e.Value().Type {
		case bson.TypeEmbeddedDocument:
			if d, ok := findExecutionStats(e.Value().Document()); ok {
				return d, true
			}
		case bson.TypeArray:
			vals, _ := e.Value().Array().Values()
			for _, v := range vals {
				if d, ok := v.DocumentOK(); ok {
					if s, ok := findExecutionStats(d); ok {
						return s, true
					}
				}
			}
		}
	}
	return nil, false
}

func isIndexStage(s string) bool {
	return strings.Contains(s, "IXSCAN") || s == "IDHACK" || s == "COUNT_SCAN" || s == "DISTINCT_SCAN"
}

// judge reads one explain output against the shape's criteria.
func judge(sh shape, out bson.Raw) verdict {
	v := verdict{nReturned: -1, docsExamined: -1, keysExamined: -1}
	planNode(bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: out}, false, &v.stages, &v.indexes)
	if len(v.stages) == 0 {
		plan, perr := out.LookupErr("queryPlanner", "Plan")
		_, ferr := out.LookupErr("filterPushdown")
		if perr == nil || ferr == nil {
			v.format = "ferretdb"
			var pushdown []string
			for _, k := range []string{"filterPushdown", "sortPushdown", "limitPushdown"} {
				if b, ok := out.Lookup(k).BooleanOK(); ok {
					pushdown = append(pushdown, fmt.Sprintf("%s=%t", k, b))
				}
			}
			v.ferret = strings.TrimSpace(fmt.Sprintf("%s %s", strings.Join(pushdown, " "), compact(plan, 300)))
			filtered, _ := out.Lookup("filterPushdown").BooleanOK()
			text := compact(plan, 4000)
			v.ferretScan = !filtered && strings.Contains(text, "SCAN ") && !strings.Contains(text, "USING INDEX") &&
				!strings.Contains(text, "Index Scan")
			return v
		}
		v.format = "unknown"
		return v
	}
	v.format = "mongodb"
	if stats, ok := findExecutionStats(out); ok {
		if n, ok := lookupNumber(stats, "nReturned"); ok {
			v.nReturned = int64(n)
		}
		if n, ok := lookupNumber(stats, "totalDocsExamined"); ok {
			v.docsExamined = int64(n)
		}
		if n, ok := lookupNumber(stats, "totalKeysExamined"); ok {
			v.keysExamined = int64(n)
		}
	}
	if slices.Contains(v.stages, "COLLSCAN") {
		v.problems = append(v.problems, "COLLSCAN: the whole collection is read")
	}
	if !slices.ContainsFunc(v.stages, isIndexStage) {
		v.problems = append(v.problems, "no index scan in the winning plan")
	}
	if slices.Contains(v.stages, "SORT") {
		if sh.noSort {
			v.problems = append(v.problems, "blocking in-memory SORT: the page is sorted after reading every match, not read in index order")
		} else {
			v.notes = append(v.notes, "in-memory SORT of the matches (an index {user: 1, status: 1, createdAt: -1} would avoid it)")
		}
	}
	if !sh.noRatio && v.docsExamined >= 0 && v.nReturned >= 0 {
		if wanted := v.nReturned + sh.skip; v.docsExamined > maxExaminedRatio*max(wanted, 1) {
			v.problems = append(v.problems, fmt.Sprintf("examined %d documents to return %d (skip %d): more than %d× the work needed",
				v.docsExamined, v.nReturned, sh.skip, maxExaminedRatio))
		}
	}
	return v
}

func explain(ctx context.Context, t *check.Target) check.Result {
	if t.Mongo == nil {
		return check.NotApplicablef("no MongoDB connection (Target.Mongo): queries cannot be explained")
	}
	db := t.Mongo.Database(t.DatabaseName())
	ferretVersion, isFerret := ferretDB(ctx, t.Mongo)
	var ev []check.Evidence
	var failed, ferret, unknown []string
	scans := 0
	for _, sh := range shapes(ctx, db) {
		out, err := db.RunCommand(ctx, bson.D{{Key: "explain", Value: sh.cmd}, {Key: "verbosity", Value: "executionStats"}}).Raw()
		switch {
		case isCode(err, 59):
			return check.NotApplicablef("the server has no explain command: index use cannot be checked")
		case unauthorized(err):
			return check.Errorf(fmt.Sprintf("explain refused: the check's user needs find on %s: %v", t.DatabaseName(), err))
		case err != nil:
			return check.Errorf(fmt.Sprintf("explain %s: %v", sh.name, err))
		}
		v := judge(sh, out)
		e := check.Evidence{Request: "explain(executionStats) " + compact(sh.cmd, 400)}
		switch v.format {
		case "mongodb":
			e.Response = fmt.Sprintf("winning plan stages %s; indexes %s; nReturned %d, totalDocsExamined %d, totalKeysExamined %d",
				strings.Join(v.stages, " > "), strings.Join(v.indexes, ", "), v.nReturned, v.docsExamined, v.keysExamined)
			e.Expected = "an index scan, no COLLSCAN"
			if sh.noSort {
				e.Expected += ", no in-memory SORT"
			}
			if !sh.noRatio {
				e.Expected += fmt.Sprintf(", documents examined <= %d× (returned + skipped)", maxExaminedRatio)
			}
			e.Observed = "ok"
			if len(v.problems) > 0 {
				e.Observed = strings.Join(v.problems, "; ")
				failed = append(failed, sh.name+": "+e.Observed)
			}
			e.Note = strings.Join(v.notes, "; ")
		case "ferretdb":
			e.Response = v.ferret
			e.Note = "FerretDB reports its SQL backend's plan, not MongoDB's query planner"
			ferret = append(ferret, sh.name)
			if v.ferretScan {
				scans++
			}
		default:
			e.Response = compact(out, 600)
			e.Note = "no winningPlan stages found"
			unknown = append(unknown, sh.name)
		}
		ev = append(ev, e)
	}
	switch {
	case len(failed) > 0:
		return check.Failf(fmt.Sprintf("%d of %d query shapes do not use an index properly: %s", len(failed), len(ev), strings.Join(failed, " | ")), ev...)
	case len(ferret) > 0:
		who := "the server"
		if isFerret {
			who = ferretLabel(ferretVersion)
		}
		return check.Warnf(fmt.Sprintf("%s cannot show MongoDB index use: its explain gives the SQL backend's plan and pushdown flags, "+
			"not IXSCAN/COLLSCAN stages or executionStats; that plan is a full table scan without filter pushdown for %d of %d shapes. "+
			"Index use is not established here: judge it against MongoDB", who, scans, len(ev)), ev...)
	case len(unknown) > 0:
		return check.Warnf(fmt.Sprintf("explain output not understood for %d of %d shapes (no winningPlan stages): index use not established", len(unknown), len(ev)), ev...)
	}
	return check.Passf(fmt.Sprintf("all %d query shapes use an index without a collection scan or a paged in-memory sort", len(ev)), ev...)
}
