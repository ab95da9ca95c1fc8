// Package mongo keeps the API's users and tasks in MongoDB (or any server
// that speaks its wire protocol, such as FerretDB), creates the indexes the
// queries rely on, and reports pool and command metrics.
//
// All store methods take the caller's context and never create their own
// background one: the HTTP layer gives each request a deadline, and a store
// call cannot outlive it.
package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// Pool and timeout defaults. A URI that sets the same option (for example
// maxPoolSize=20) wins over these.
const (
	DefaultMaxPoolSize       = 100
	DefaultMinPoolSize       = 2
	DefaultConnectTimeout    = 3 * time.Second
	DefaultSelectionTimeout  = 3 * time.Second
	DefaultHeartbeatInterval = 2 * time.Second // how soon a recovered server is noticed
	DefaultMaxConnIdleTime   = 5 * time.Minute
)

// Connect opens a client for uri with the package's pool and timeout
// defaults, wiring monitor (which may be nil) into its events, and checks
// the server answers before ctx ends.
func Connect(ctx context.Context, uri string, monitor *Monitor) (*mongo.Client, error) {
	opts := options.Client().
		SetMaxPoolSize(DefaultMaxPoolSize).
		SetMinPoolSize(DefaultMinPoolSize).
		SetConnectTimeout(DefaultConnectTimeout).
		SetServerSelectionTimeout(DefaultSelectionTimeout).
		SetHeartbeatInterval(DefaultHeartbeatInterval).
		SetMaxConnIdleTime(DefaultMaxConnIdleTime).
		SetAppName("taskapi").
		ApplyURI(uri)
	if monitor != nil {
		opts.SetPoolMonitor(monitor.poolMonitor()).SetMonitor(monitor.commandMonitor()).SetServerMonitor(monitor.serverMonitor())
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("connect mongodb: %w", err)
	}
	if err := client.Ping(ctx, readpref.Primary()); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("ping mongodb: %w", err)
	}
	return client, nil
}
