// Package embedded provides the no-setup store environment: a MongoDB-wire
// server ([Mongo], FerretDB running inside this process, on a private
// PostgreSQL cluster when PostgreSQL is installed, else on SQLite) and a
// Redis server ([Redis], a redis-server child process when one is
// installed, else an in-process miniredis).
//
// # Why it exists
//
// The task API needs MongoDB and Redis. When MONGODB_URI / REDIS_URL are not
// set it starts these instead, so that `go run` works on a fresh machine
// without Docker or any service to install. The load-test harness reuses the
// same code as its "embedded" provider, which is why both servers can be
// stopped and started again on the same address: that is how outages are
// simulated. While stopped, a server refuses connections and its existing
// client connections are cut, so drivers observe a real outage rather than
// a hang.
//
// The package deliberately imports nothing else from this repository, so
// that any binary or test can use it.
//
// # Data
//
// [Mongo] keeps its data in the directory passed to [StartMongo]: a
// PostgreSQL cluster in its postgresql/ subdirectory, or SQLite files. The
// data survives [Mongo.Stop]/[Mongo.Start] and [Mongo.Close] (start a new
// Mongo on the same directory to get it back: it finds the backend the data
// is in). Only one Mongo may use a directory at a time. [Redis] keeps
// nothing: persistence is turned off, and data is lost on [Redis.Stop].
//
// # Why PostgreSQL
//
// FerretDB's SQLite backend pushes down no filter but _id alone: every
// other query reads and decodes the whole collection in Go, so a task list
// of one user reads every user's tasks, and the server falls over under a
// load test's traffic. Its PostgreSQL backend hands equality filters to
// PostgreSQL. FerretDB 1.x writes them as jsonb containment, which the
// btree indexes it creates cannot serve, so the cluster gets an event
// trigger that adds a GIN index beside each of them (containment.sql).
//
// The cluster is a development one: it listens only on a Unix socket in
// its directory (no port, only this user), trusts its one role, and runs
// with fsync, synchronous commit and full-page writes off, so an operating
// system crash may lose or corrupt it; never keep data there that matters.
// initdb runs once per PostgreSQL installation, into the user's cache
// directory (taskready/postgresql-*); new clusters are copies of that
// template. PostgreSQL refuses to run as root: run by root, initdb and
// postgres get a user namespace of their own (Linux). postgres is a child
// process, killed with this process if it dies.
//
// A redis-server keeps its configuration and log in a temporary directory
// made by [TempDir], whose name carries the owning process's id, and removes
// it on Close. A process killed before Close leaves it behind;
// [RemoveLeftovers] removes those whose owner no longer runs.
//
// # Concurrency contract
//
// All methods of [Mongo] and [Redis] are safe for concurrent use. Start, Stop
// and Close of one server are serialized: a call waits for a concurrent one
// to finish, and each call is bounded by its context and by an internal
// 10-second deadline, so none of them blocks indefinitely. URI, URL, Addr and
// Kind never block and return the same value for the whole life of the
// server, whether it is running or stopped. Close is idempotent and may be
// called on a nil pointer; after Close, Start returns [ErrClosed] and Stop
// returns nil. [StartMongo] may run initdb and is bounded by 30 seconds
// instead. Several Mongo and Redis servers may run in one process at the
// same time (each Mongo on its own directory).
package embedded
