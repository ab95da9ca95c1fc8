package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/taskready/taskready/checks/check"
)

var mongoRefs = []string{
	"https://www.mongodb.com/docs/manual/administration/production-checklist-development/",
	"https://www.mongodb.com/docs/manual/administration/production-checklist-operations/",
}

// Checks returns the MongoDB and Redis checks. MongoDB checks are
// NotApplicable without Target.Mongo; redis.auth without Target.RedisURL
// or Target.Redis; redis.cache-invalidation without Target.BaseURL. The
// driver does not expose a connected client's write concern or pool
// settings, so mongodb.write-concern and mongodb.pool read them from
// Target.MongoURI, the connection string the API uses; without it they
// judge only what the server reports. The URI's credentials are never
// shown in evidence.
func Checks() []check.Check {
	return []check.Check{
		check.Func{M: check.Meta{
			ID: "mongodb.indexes", Title: "The indexes the API's queries need exist", Category: check.MongoDB, Severity: check.Critical,
			Remediation: "Start the API once against the database (it creates its indexes at startup: service/mongo.EnsureIndexes) " +
				"or create them by hand: users {email: 1} unique, tasks {user: 1, createdAt: -1} and {user: 1, status: 1}.",
			References: append([]string{"DB-02"}, mongoRefs...),
		}, F: indexes},
		check.Func{M: check.Meta{
			ID: "mongodb.explain", Title: "The API's queries use indexes", Category: check.MongoDB, Severity: check.High,
			Remediation: "Create the index the query shape needs (equality fields first, then the sort field: ESR) " +
				"so that explain shows IXSCAN without COLLSCAN or an in-memory SORT.",
			References: append([]string{"DB-01", "https://www.mongodb.com/docs/manual/tutorial/analyze-query-plan/"}, mongoRefs...),
		}, F: explain},
		check.Func{M: check.Meta{
			ID: "mongodb.write-concern", Title: "Writes are acknowledged by a majority", Category: check.MongoDB, Severity: check.High,
			Remediation: "Run a replica set and keep w at its implicit \"majority\" default, or set w=majority in MONGODB_URI; never w=0.",
			References:  []string{"DB-04", "https://www.mongodb.com/docs/manual/reference/mongodb-defaults/"},
		}, F: writeConcern},
		check.Func{M: check.Meta{
			ID: "mongodb.topology", Title: "MongoDB is a healthy replica set", Category: check.MongoDB, Severity: check.High,
			Remediation: "Run a replica set of at least three data-bearing voting members (an odd number of votes), " +
				"all healthy, with one primary; a standalone server has no failover.",
			References: append([]string{"DB-05"}, mongoRefs[1]),
		}, F: topology},
		check.Func{M: check.Meta{
			ID: "mongodb.pool", Title: "Connection pool settings fit the server", Category: check.MongoDB, Severity: check.Low,
			Remediation: "Set maxPoolSize, minPoolSize, maxIdleTimeMS and serverSelectionTimeoutMS explicitly, " +
				"and keep instances × maxPoolSize below the server's available connections.",
			References: []string{"DB-08", "https://www.mongodb.com/docs/manual/administration/connection-pool-overview/"},
		}, F: pool},
		check.Func{M: check.Meta{
			ID: "redis.auth", Title: "Redis refuses unauthenticated clients", Category: check.Redis, Severity: check.High,
			Remediation: "Require authentication (requirepass or ACL users with no nopass default user), keep protected-mode on, " +
				"bind Redis to a private interface and use TLS. A local development Redis without a password is expected: " +
				"downgrade this check in the development policy rather than lowering its severity.",
			References: []string{"RDS-01", "https://redis.io/docs/latest/operate/oss_and_stack/management/security/"},
		}, F: redisAuth},
		check.Func{M: check.Meta{
			ID: "redis.cache-invalidation", Title: "Reads after a write are never stale", Category: check.Redis, Severity: check.Medium,
			Remediation: "Invalidate (or bypass) every cache entry a write changes before answering the write.",
			References:  []string{"RDS-02"},
		}, F: cacheInvalidation},
	}
}

// hello is what the hello command says about the server.
type hello struct {
	SetName           string   `bson:"setName"`
	Msg               string   `bson:"msg"`
	Hosts             []string `bson:"hosts"`
	Passives          []string `bson:"passives"`
	Arbiters          []string `bson:"arbiters"`
	Primary           string   `bson:"primary"`
	IsWritablePrimary bool     `bson:"isWritablePrimary"`
	IsMaster          bool     `bson:"ismaster"`
	MaxWireVersion    int32    `bson:"maxWireVersion"`
}

// kind is "replica set", "sharded cluster (mongos)" or "standalone".
func (h hello) kind() string {
	switch {
	case h.Msg == "isdbgrid":
		return "sharded cluster (mongos)"
	case h.SetName != "":
		return "replica set " + h.SetName
	}
	return "standalone"
}

// runHello runs hello, or isMaster on servers older than 4.4.2.
func runHello(ctx context.Context, c *mongo.Client) (hello, bson.Raw, error) {
	admin := c.Database("admin")
	raw, err := admin.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Raw()
	if isCode(err, 59) { // CommandNotFound
		raw, err = admin.RunCommand(ctx, bson.D{{Key: "isMaster", Value: 1}}).Raw()
	}
	if err != nil {
		return hello{}, nil, err
	}
	var h hello
	if err := bson.Unmarshal(raw, &h); err != nil {
		return hello{}, raw, err
	}
	return h, raw, nil
}

// ferretDB returns FerretDB's version when the server is FerretDB ("" if
// not): its answers to explain, serverStatus and replication commands
// differ from MongoDB's and must be read differently.
func ferretDB(ctx context.Context, c *mongo.Client) (string, bool) {
	raw, err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Raw()
	if err != nil {
		return "", false
	}
	v, err := raw.LookupErr("ferretdbVersion")
	if err != nil {
		return "", false
	}
	s, _ := v.StringValueOK()
	if s == "unknown" { // builds without version information say so
		s = ""
	}
	return s, true
}

// ferretLabel is "FerretDB" with its version when known.
func ferretLabel(version string) string {
	if version == "" {
		return "FerretDB"
	}
	return "FerretDB " + version
}

// isCode reports a server error with one of codes.
func isCode(err error, codes ...int) bool {
	var se mongo.ServerError
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range codes {
		if se.HasErrorCode(c) {
			return true
		}
	}
	return false
}

// unauthorized reports a refusal for lack of privileges (Unauthorized).
func unauthorized(err error) bool { return isCode(err, 13) }

// number reads a BSON number of any type as a float64.
func number(v bson.RawValue) (float64, bool) {
	switch v.Type {
	case bson.TypeInt32:
		return float64(v.Int32()), true
	case bson.TypeInt64:
		return float64(v.Int64()), true
	case bson.TypeDouble:
		return v.Double(), true
	case bson.TypeDecimal128:
		f, err := strconv.ParseFloat(v.Decimal128().String(), 64)
		return f, err == nil
	}
	return 0, false
}

// lookupNumber reads the number at path in doc; false if absent.
func lookupNumber(doc bson.Raw, path ...string) (float64, bool) {
	v, err := doc.LookupErr(path...)
	if err != nil {
		return 0, false
	}
	return number(v)
}

// compact renders a document as relaxed extended JSON, cut to max bytes,
// for evidence.
func compact(doc any, max int) string {
	js, err := bson.MarshalExtJSON(doc, false, false)
	if err != nil {
		return fmt.Sprint(doc)
	}
	s := string(js)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// keyString renders a key pattern as "{user: 1, createdAt: -1}".
func keyString(k bson.D) string {
	parts := make([]string, len(k))
	for i, e := range k {
		parts[i] = e.Key + ": " + dirString(e.Value)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func dirString(v any) string {
	if f, ok := toFloat(v); ok {
		if f == math.Trunc(f) {
			return strconv.FormatInt(int64(f), 10)
		}
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}
