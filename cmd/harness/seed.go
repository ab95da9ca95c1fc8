package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/taskready/taskready/seed"
)

// seedOptions are the flags of harness seed.
type seedOptions struct {
	store          storeFlags
	users, perUser int
	seed           uint64
	prefix         string
	reset          bool
}

func seedCmd() command {
	var o seedOptions
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	o.store.register(fs)
	fs.IntVar(&o.users, "users", 100, "users to create")
	fs.IntVar(&o.perUser, "tasks-per-user", 20, "tasks per user")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed: the same seed writes the same data")
	fs.StringVar(&o.prefix, "prefix", seed.DefaultPrefix, "email prefix of seeded users: <prefix>-000001@example.com")
	fs.BoolVar(&o.reset, "reset", false, "first delete users with the prefix and their tasks (only those)")
	return command{fs: fs, help: "bulk-insert deterministic users and tasks (password " + seed.DefaultPassword + ")", run: o.run}
}

func (o *seedOptions) run(ctx context.Context, out io.Writer) error {
	if o.users < 1 || o.perUser < 0 {
		return fmt.Errorf("%w: -users must be at least 1 and -tasks-per-user at least 0", errUsage)
	}
	client, err := o.store.connect(time.Minute)
	if err != nil {
		return err
	}
	defer client.Disconnect(context.WithoutCancel(ctx))
	database := client.Database(o.store.db)
	if o.reset {
		u, t, err := seed.Reset(ctx, database, o.prefix)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "harness: removed %d seeded users and %d tasks\n", u, t)
	}
	res, err := seedWithProgress(ctx, out, database, seed.Options{Users: o.users, TasksPerUser: o.perUser, Seed: o.seed, Prefix: o.prefix})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "harness: seeded %d users and %d tasks in %s (%.0f docs/s); log in as %s / %s\n",
		res.Users, res.Tasks, res.Took.Round(time.Millisecond), res.Rate(), seed.Email(o.prefix, 1), seed.DefaultPassword)
	return nil
}
