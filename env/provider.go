package env

import (
	"context"
	"errors"
	"time"
)

// Provider brings up (or connects to) the stores of an environment.
// NewEmbedded, NewExternal and env/docker's New are the implementations;
// Up adds the API instances on top of whichever one it is given.
type Provider interface {
	// Name is the provider's --provider value.
	Name() string
	// Stores starts or connects to MongoDB and Redis. On error, whatever
	// it started is already gone.
	Stores(ctx context.Context) (*Stores, error)
}

// Stores is what a provider brought up.
type Stores struct {
	// ID identifies the environment's resources in a container engine
	// (empty for providers that start none).
	ID string
	// Description says what runs, for reports and logs.
	Description string
	// Notes are caveats every report must repeat, such as a replica set
	// that fell back to one node because the image cannot form one.
	Notes []string
	// MongoURI and RedisURL are usable from this host; RedisURL is the
	// primary.
	MongoURI string
	RedisURL string
	// RedisReplicaURLs are read replicas of the primary, if any.
	RedisReplicaURLs []string
	// SentinelAddrs and SentinelMaster, when set, let a client follow a
	// Redis failover (go-redis NewFailoverClient).
	SentinelAddrs  []string
	SentinelMaster string
	// SentinelPassword is what the Sentinels require of their clients;
	// empty when they require nothing.
	SentinelPassword string
	// Components are the parts faults can act on, by name.
	Components []Component
	// Timings say how long each component took to start.
	Timings []Timing
	// Close removes everything the provider started; nil-safe, idempotent.
	Close func() error
}

// Timing is how long one component took to become ready.
type Timing struct {
	Component string
	Took      time.Duration
}

// Component is a named part of an environment ("mongo-0",
// "redis-primary", "sentinel-1", "api-2") that faults act on.
type Component interface {
	Name() string
	// Stop stops it gracefully; Start brings it back on the same address.
	Stop(ctx context.Context) error
	Start(ctx context.Context) error
	// Pause freezes it (connections hang); Unpause resumes it.
	Pause(ctx context.Context) error
	Unpause(ctx context.Context) error
	// Kill stops it at once, without a graceful shutdown.
	Kill(ctx context.Context) error
}

// Limited is a Component that cannot undergo every fault, and says which
// before a run rather than when the fault is due.
type Limited interface {
	// Can returns an error wrapping ErrUnsupported, saying why, when the
	// component cannot undergo action ("pause", ...); nil when it can.
	Can(action string) error
}

// ErrUnsupported is returned by a Component for a fault its kind cannot
// undergo (an in-process server cannot be paused, say).
var ErrUnsupported = errors.New("fault not supported by this component")

// ErrNoComponent is returned when a fault names a component that does not
// exist in the environment.
var ErrNoComponent = errors.New("no such component")
