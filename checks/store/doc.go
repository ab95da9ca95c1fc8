// Package store checks the task API's MongoDB and Redis for production
// readiness (the checks DB-01, DB-02, DB-04, DB-05, DB-08, RDS-01 and
// RDS-02 of the report). [Checks] returns them:
//
//	mongodb.indexes           critical  users {email: 1} unique, tasks {user: 1, createdAt: -1}
//	                                    and {user: 1, status: 1} exist (by key pattern)
//	mongodb.explain           high      the API's query shapes use an index: IXSCAN, no COLLSCAN,
//	                                    no in-memory SORT on the paged list, docs examined
//	                                    <= 10× returned+skipped
//	mongodb.write-concern     high      effective w is "majority" (server default or the URI)
//	mongodb.topology          high      a replica set of >= 3 healthy data-bearing members,
//	                                    one primary, odd votes, small lag
//	mongodb.pool              low       pool settings against the server's available connections
//	redis.auth                high      an unauthenticated PING is refused
//	redis.cache-invalidation  medium    reads right after writes are fresh
//
// The MongoDB checks are NotApplicable without Target.Mongo; redis.auth
// without a Redis address; redis.cache-invalidation without an API
// (Target.BaseURL).
//
// # FerretDB
//
// The embedded environment runs FerretDB, which answers differently:
// explain gives its SQL backend's plan and pushdown flags instead of
// MongoDB's winningPlan (on SQLite, a full table scan with no filter
// pushdown for every shape the API issues; on PostgreSQL, the filter
// pushed down and usually an index read), so mongodb.explain warns
// that index use is not established rather than passing; hello reports a
// standalone and replSetGetStatus and getDefaultRWConcern do not exist,
// so mongodb.topology and mongodb.write-concern warn; serverStatus has
// no connections section.
//
// # What the client cannot see
//
// The Go driver does not expose a connected client's write concern or
// pool options. Target.MongoURI passes the API's connection string so
// that those checks can read them; the URI's credentials never reach
// evidence.
//
// # Development environments
//
// redis.auth fails (high) against a local Redis without a password, as
// it should: the finding is true. A development policy downgrades it;
// its severity stays high so that a production run cannot miss it.
//
// # What cache-invalidation can check
//
// The API caches only user profiles and drops a profile only when the
// user is deleted, which has no HTTP route; a profile cannot change
// through the API. redis.cache-invalidation therefore reads the profile
// twice (noting, with Target.Redis, that it is cached) and then checks
// that task reads right after a create, an update and a delete are never
// stale, across two API instances when the target has several.
package store
