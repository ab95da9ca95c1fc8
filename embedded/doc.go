// Package embedded provides the no-setup store environment: a MongoDB-wire
// server ([Mongo], FerretDB on SQLite running inside this process) and a
// Redis server ([Redis], a redis-server child process when one is installed,
// else an in-process miniredis).
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
// [Mongo] keeps its data in SQLite files in the directory passed to
// [StartMongo]; the data survives [Mongo.Stop]/[Mongo.Start] and [Mongo.Close]
// (start a new Mongo on the same directory to get it back). Only one Mongo
// may use a directory at a time. [Redis] keeps nothing: persistence is turned
// off, and data is lost on [Redis.Stop].
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
// returns nil. Several Mongo and Redis servers may run in one process at the
// same time (each Mongo on its own directory).
package embedded
