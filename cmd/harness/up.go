package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/taskready/taskready/env"
	"github.com/taskready/taskready/env/docker"
)

// DefaultState is where `harness up` writes its endpoints for the other
// commands.
const DefaultState = "out/harness-env.json"

// upOptions are the flags of harness up.
type upOptions struct {
	env    envFlags
	asJSON bool
	state  string
}

func upCmd() command {
	var o upOptions
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	o.env.register(fs, 2)
	fs.BoolVar(&o.asJSON, "json", false, "print the endpoints as JSON")
	fs.StringVar(&o.state, "state", DefaultState, "file the endpoints are written to, for seed, fault and checks")
	return command{fs: fs, help: "bring up an environment, print its endpoints, hold it until Ctrl-C", run: o.run}
}

func (o *upOptions) run(ctx context.Context, out io.Writer) error {
	progress := out
	if o.asJSON {
		progress = os.Stderr
	}
	// An environment held for runs, smokes and checks against it gets the
	// limits a run uses: with the API's default (5 logins per 15 minutes)
	// one smoke would lock every later run out. -api-env overrides them.
	o.env.apiEnv = append(append(listFlag{}, loadLimits...), o.env.apiEnv...)
	e, err := o.env.up(ctx, progress)
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(progress, "harness: taking the environment down")
		if err := e.Close(); err != nil {
			fmt.Fprintln(progress, "harness:", err)
		}
		_ = os.Remove(o.state)
	}()
	ep := e.Endpoints()
	if ep.Control, err = env.ServeControl(ctx, e); err != nil {
		return err
	}
	if err := writeState(o.state, ep); err != nil {
		return err
	}
	if o.asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(ep); err != nil {
			return err
		}
	} else {
		printEndpoints(out, ep, o.state)
	}
	<-ctx.Done()
	return nil
}

func printEndpoints(out io.Writer, ep env.Endpoints, state string) {
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(out, "  %-12s %s\n", k, v)
		}
	}
	row("target", ep.Target)
	row("apis", strings.Join(ep.APIs, " "))
	row("metrics", strings.Join(ep.Metrics, " "))
	row("mongodb", redacted(ep.MongoURI))
	row("redis", redacted(ep.RedisURL))
	replicas := make([]string, len(ep.RedisReplicas))
	for i, r := range ep.RedisReplicas {
		replicas[i] = redacted(r)
	}
	row("replicas", strings.Join(replicas, " "))
	row("sentinels", strings.Join(ep.Sentinels, " "))
	row("components", strings.Join(ep.Components, " "))
	row("links", strings.Join(ep.Links, " "))
	fmt.Fprintf(out, "harness: endpoints written to %s (with the stores' passwords, which the terminal shows as xxxxx); Ctrl-C takes everything down\n", state)
}

// redacted is a store URI with its password, if any, shown as xxxxx: the
// terminal is seen and logged, the state file (mode 0600) and -json are
// for programs and carry it.
func redacted(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.User == nil {
		return uri
	}
	return u.Redacted()
}

func writeState(path string, ep env.Endpoints) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	data, err := json.MarshalIndent(ep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o600)
}

func readState(path string) (env.Endpoints, error) {
	var ep env.Endpoints
	data, err := os.ReadFile(path)
	if err != nil {
		return ep, fmt.Errorf("%w (start one with: harness up)", err)
	}
	if err := json.Unmarshal(data, &ep); err != nil {
		return ep, fmt.Errorf("state %s: %w", path, err)
	}
	return ep, nil
}

// downOptions are the flags of harness down.
type downOptions struct{ id string }

func downCmd() command {
	var o downOptions
	fs := flag.NewFlagSet("down", flag.ContinueOnError)
	fs.StringVar(&o.id, "env", "", "remove only the environment with this id (the \"id\" that harness up -json prints); default: all of the harness's, and the temporary directories of runs that were killed")
	return command{fs: fs, help: "remove what crashed runs left: containers, networks, temporary directories", run: o.run}
}

func (o *downOptions) run(ctx context.Context, out io.Writer) error {
	var errs []error
	if o.id == "" {
		// An environment id names containers only: directories are
		// swept when everything is.
		errs = append(errs, removeLeftoverDirs(out))
	}
	if err := docker.Available(ctx); err != nil {
		if !errors.Is(err, docker.ErrNoEngine) {
			return errors.Join(append(errs, err)...)
		}
		fmt.Fprintf(out, "harness: %v; no containers to remove\n", err)
		return errors.Join(errs...)
	}
	n, err := docker.RemoveLeftovers(ctx, o.id)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	fmt.Fprintf(out, "harness: removed %d leftover container(s) and network(s)\n", n)
	return errors.Join(errs...)
}

// removeLeftoverDirs removes the temporary directories of embedded stores
// whose run was killed, and names those it cannot tell the owner of.
func removeLeftoverDirs(out io.Writer) error {
	lo, err := env.RemoveLeftoverDirs()
	for _, d := range lo.Removed {
		fmt.Fprintf(out, "  removed %s\n", d)
	}
	fmt.Fprintf(out, "harness: removed %d leftover temporary director%s of killed runs\n", len(lo.Removed), plural(len(lo.Removed), "y", "ies"))
	if len(lo.Unknown) > 0 {
		fmt.Fprintf(out, "harness: kept %d temporary director%s of an older harness, which did not record its process: remove them once no harness runs:\n  rm -rf %s\n",
			len(lo.Unknown), plural(len(lo.Unknown), "y", "ies"), strings.Join(lo.Unknown, " "))
	}
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
