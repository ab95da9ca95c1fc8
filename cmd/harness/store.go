package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/env"
	"github.com/taskready/taskready/internal/progress"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/seed"
	"github.com/taskready/taskready/service/config"
)

// storeFlags locate a database: a URI, or the state file of `harness up`.
type storeFlags struct {
	uri, state, db string
}

func (s *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.uri, "mongo-uri", "", "MongoDB URI (default: the running \"harness up\" environment's, from -state)")
	fs.StringVar(&s.state, "state", DefaultState, "endpoints file of a running \"harness up\"")
	fs.StringVar(&s.db, "db", config.DefaultDatabase, "database name (the API's MONGODB_DB)")
}

// connect connects to the MongoDB the flags locate; timeout bounds each
// operation on the client.
func (s *storeFlags) connect(timeout time.Duration) (*mongo.Client, error) {
	uri := s.uri
	if uri == "" {
		ep, err := readState(s.state)
		if err != nil {
			return nil, fmt.Errorf("%w: no -mongo-uri and no environment: %w", errUsage, err)
		}
		uri = ep.MongoURI
	}
	return connectMongo(uri, timeout)
}

// connectMongo is the one way the harness opens MongoDB: timeout bounds
// each operation, and the URI in an error has its password hidden.
func connectMongo(uri string, timeout time.Duration) (*mongo.Client, error) {
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(timeout))
	if err != nil {
		return nil, fmt.Errorf("connect to MongoDB at %s: %w", redacted(uri), err)
	}
	return client, nil
}

// seedWithProgress writes o's users and tasks into db, drawing a progress
// bar on out.
func seedWithProgress(ctx context.Context, out io.Writer, db *mongo.Database, o seed.Options) (seed.Result, error) {
	bar := progress.New(out, "seeding", "docs", o.Users*(1+o.TasksPerUser))
	o.Progress = func(done, _ int) { bar.Set(done) }
	res, err := seed.Run(ctx, db, o)
	if err != nil {
		return res, fmt.Errorf("seed: %w", err)
	}
	bar.Done(res.Users + res.Tasks)
	return res, nil
}

// defaultSeedTasks is how many tasks each user a scenario logs in as gets
// when nothing says otherwise (harness run, harness k8s seed).
const defaultSeedTasks = 10

// seedScenario writes the users a scenario logs in as (users.count of
// them when users is negative, none when 0), each with tasksPerUser tasks,
// into e's database; an environment without a MongoDB URI is left alone
// with a note of what the scenario expects.
func seedScenario(ctx context.Context, out io.Writer, f *scenario.File, e *env.Env, users, tasksPerUser int) error {
	if users < 0 {
		users = f.Users.Count
	}
	if users == 0 {
		return nil
	}
	if e.Stores == nil || e.Stores.MongoURI == "" {
		fmt.Fprintf(out, "harness: no MongoDB URI, not seeding: the scenario expects %d users %s (password %s)\n", users, seed.Email(f.Users.Prefix, 1), f.Users.Password)
		return nil
	}
	client, err := connectMongo(e.Stores.MongoURI, time.Minute)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer client.Disconnect(context.WithoutCancel(ctx))
	_, err = seedWithProgress(ctx, out, client.Database(config.DefaultDatabase), seed.Options{
		Users: users, TasksPerUser: tasksPerUser, Seed: 1, Prefix: f.Users.Prefix, Password: f.Users.Password,
	})
	return err
}
