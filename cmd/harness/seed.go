package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/taskready/taskready/loadtest/progress"
	"github.com/taskready/taskready/loadtest/seed"
)

func seedCmd() command {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	state := fs.String("state", DefaultState, "endpoints file of a running `harness up` (for its MongoDB URI)")
	uri := fs.String("mongo-uri", "", "MongoDB URI (instead of -state)")
	db := fs.String("db", "taskmanager", "database name (the API's MONGODB_DB)")
	users := fs.Int("users", 100, "users to create")
	perUser := fs.Int("tasks-per-user", 20, "tasks per user")
	seedVal := fs.Uint64("seed", 1, "random seed: the same seed writes the same data")
	prefix := fs.String("prefix", seed.DefaultPrefix, "email prefix of seeded users: <prefix>-000001@example.com")
	reset := fs.Bool("reset", false, "first delete users with the prefix and their tasks (only those)")
	return command{fs: fs, help: "bulk-insert deterministic users and tasks (password " + seed.DefaultPassword + ")", run: func(ctx context.Context, out io.Writer) error {
		if *users < 1 || *perUser < 0 {
			return fmt.Errorf("%w: -users must be at least 1 and -tasks-per-user at least 0", errUsage)
		}
		if *uri == "" {
			ep, err := readState(*state)
			if err != nil {
				return fmt.Errorf("no -mongo-uri and no environment: %w", err)
			}
			*uri = ep.MongoURI
		}
		client, err := mongo.Connect(options.Client().ApplyURI(*uri).SetTimeout(time.Minute))
		if err != nil {
			return fmt.Errorf("connect %s: %w", *uri, err)
		}
		defer client.Disconnect(context.WithoutCancel(ctx))
		database := client.Database(*db)
		if *reset {
			u, t, err := seed.Reset(ctx, database, *prefix)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "harness: removed %d seeded users and %d tasks\n", u, t)
		}
		bar := progress.New(out, "seeding", "docs", *users*(1+*perUser))
		res, err := seed.Run(ctx, database, seed.Options{
			Users: *users, TasksPerUser: *perUser, Seed: *seedVal, Prefix: *prefix, Progress: func(done, _ int) { bar.Set(done) },
		})
		if err != nil {
			return err
		}
		bar.Done(res.Users + res.Tasks)
		fmt.Fprintf(out, "harness: seeded %d users and %d tasks in %s (%.0f docs/s); log in as %s / %s\n",
			res.Users, res.Tasks, res.Took.Round(time.Millisecond), res.Rate(), seed.Email(*prefix, 1), seed.DefaultPassword)
		return nil
	}}
}
