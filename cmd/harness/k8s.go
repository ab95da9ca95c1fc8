package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/kube"
	"github.com/taskready/taskready/loadtest/scenario"
	"github.com/taskready/taskready/scenarios"
	"github.com/taskready/taskready/seed"
)

// k8sOptions are the flags and arguments of harness k8s.
type k8sOptions struct {
	fs      *flag.FlagSet
	kube    kube.Options
	outFile string
	poll    time.Duration
	seed    storeFlags
	seedOut string
}

func k8sCmd() command {
	fs := flag.NewFlagSet("k8s", flag.ContinueOnError)
	// The image carries the scenarios this binary embeds.
	o := k8sOptions{fs: fs, kube: kube.Options{Shipped: scenarios.Names()}}
	fs.IntVar(&o.kube.Workers, "workers", 0, fmt.Sprintf("render: harness workers, each running 1/N of the load (1-%d)", kube.MaxWorkers))
	fs.StringVar(&o.kube.Image, "image", "", "render: the harness image (the root Dockerfile's harness target)")
	fs.StringVar(&o.kube.Target, "target", "", "render: the API's base URL as the cluster sees it, e.g. http://taskapi.default.svc")
	fs.StringVar(&o.kube.Scenario, "scenario", "load", fmt.Sprintf("render, seed: a shipped scenario %v or an absolute path inside the image", scenarios.Names()))
	fs.StringVar(&o.kube.Name, "name", kube.DefaultName, "render: the run's name, prefixing every object (a DNS-1123 label)")
	fs.StringVar(&o.kube.Namespace, "namespace", "", "render: namespace of every object (default: kubectl's)")
	fs.StringVar(&o.kube.Storage, "storage", kube.DefaultStorage, "render: size of the results volume")
	fs.StringVar(&o.kube.StorageClass, "storage-class", "", "render: storage class of the results volume, one that offers ReadWriteMany (default: the cluster's)")
	fs.StringVar(&o.kube.Resources.CPU, "cpu", kube.DefaultCPU, "render: CPU of each worker (request and limit)")
	fs.StringVar(&o.kube.Resources.Memory, "memory", kube.DefaultMemory, "render: memory of each worker (request and limit)")
	fs.DurationVar(&o.kube.Timeout, "timeout", 0, fmt.Sprintf("render, wait: how long the run may take to write every worker's results (default: a shipped scenario's length plus %s and a tenth, else %s)", kube.StartMargin, kube.DefaultTimeout))
	fs.DurationVar(&o.kube.TTL, "ttl", kube.DefaultTTL, "render: how long finished Jobs, their logs and the fetch pod stay")
	fs.StringVar(&o.kube.SeedSecret, "seed-secret", kube.DefaultSeedSecret, "render: the Secret whose MONGODB_URI the seed Job writes the scenario's users to (empty: no seed Job, seed beforehand)")
	fs.StringVar(&o.kube.FetchImage, "fetch-image", kube.DefaultFetchImage, "render: an image with sleep and tar, for the pod kubectl cp copies the merged results from")
	fs.Var((*listFlag)(&o.kube.ExtraArgs), "arg", "render: an extra argument for every worker's harness run (repeatable), e.g. -arg=-max-cpu=0.8")
	fs.StringVar(&o.outFile, "o", "", "render: write the manifests here instead of standard output")
	fs.DurationVar(&o.poll, "poll", kube.DefaultPoll, "wait: how often to look for the workers' results")
	o.seed.register(fs)
	fs.StringVar(&o.seedOut, "out", kube.SeedDir, "seed: where to write summary.json once the users exist")
	usage := `usage: harness k8s render|wait|seed [flags]

Render the manifests of a distributed load run on Kubernetes; wait for its
results; seed its users.

  harness k8s render -workers N -image IMAGE -target URL [-scenario S] [-name NAME]
                     [-namespace NS] [-storage 1Gi] [-seed-secret taskapi] [-o FILE]
      write the manifests of a distributed load run: a results volume, a
      network policy, a Job that seeds the scenario's users, an indexed Job
      of N workers each running 1/N of the scenario, a coordinator Job that
      merges their histograms and gates once, and a pod to copy merged/ out
      (kubectl apply -f FILE; the coordinator's Job fails when the run does)
  harness k8s wait [-timeout D] DIR...
      wait until every DIR holds its summary.json (the workers wait for the
      seed, the coordinator for the workers)
  harness k8s seed -scenario S -mongo-uri URI [-db NAME] [-out DIR]
      replace the users scenario S logs in as (and their tasks), then write
      DIR/summary.json (the seed Job)

exit codes: 0 done, 1 an error or the wait timed out, 2 a usage error or
invalid options`
	return command{fs: fs, help: "render the manifests of a distributed load run on Kubernetes", usage: usage, run: o.run}
}

func (o *k8sOptions) run(ctx context.Context, out io.Writer) error {
	sub, err := subcommand(o.fs, "render", "wait", "seed")
	if err != nil {
		return err
	}
	switch sub {
	case "render":
		if o.fs.NArg() != 0 {
			return fmt.Errorf("%w: k8s render takes no arguments, got %q", errUsage, o.fs.Args())
		}
		return k8sRender(out, o.kube, o.outFile)
	case "seed":
		if o.fs.NArg() != 0 {
			return fmt.Errorf("%w: k8s seed takes no arguments, got %q", errUsage, o.fs.Args())
		}
		return k8sSeed(ctx, out, o.kube.Scenario, o.seed, o.seedOut)
	case "wait":
		if o.fs.NArg() == 0 {
			return fmt.Errorf("%w: k8s wait takes the workers' directories", errUsage)
		}
		timeout := o.kube.Timeout
		if timeout == 0 {
			timeout = kube.DefaultTimeout
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return kube.Wait(ctx, o.fs.Args(), o.poll, out)
	}
	return fmt.Errorf("%w: unknown k8s subcommand %q: want render, wait or seed", errUsage, sub)
}

// plannedLength is how long a shipped scenario's load lasts, the longest
// of its scenarios' start and schedule; 0 for a path inside the image,
// which only the image can read.
func plannedLength(name string) (time.Duration, error) {
	f, err := shippedFile(name)
	if f == nil || err != nil {
		return 0, err
	}
	var length time.Duration
	for _, sc := range f.Scenarios {
		sched, err := executor.Plan(sc)
		if err != nil {
			return 0, err
		}
		length = max(length, sc.StartTime+sched.Length())
	}
	return length, nil
}

// shippedFile loads name when it is a shipped scenario; nil for a path
// inside the image, which only the workers can read.
func shippedFile(name string) (*scenario.File, error) {
	if strings.ContainsAny(name, `/\`) || !slices.Contains(scenarios.Names(), strings.TrimSuffix(name, ".yaml")) {
		return nil, nil
	}
	return scenarios.Load(name)
}

// k8sSeed is the seed Job: it replaces the users the scenario logs in as,
// so that a retried Job or a reused database gets exactly what the run
// expects, then tells the waiting workers.
func k8sSeed(ctx context.Context, out io.Writer, name string, store storeFlags, dir string) error {
	f, err := scenarios.Load(name)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	var res seed.Result
	if f.Users.Count > 0 {
		client, err := store.connect(time.Minute)
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		defer client.Disconnect(context.WithoutCancel(ctx))
		db := client.Database(store.db)
		if _, _, err := seed.Reset(ctx, db, f.Users.Prefix); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		if res, err = seedWithProgress(ctx, out, db, seed.Options{
			Users: f.Users.Count, TasksPerUser: defaultSeedTasks, Seed: 1, Prefix: f.Users.Prefix, Password: f.Users.Password,
		}); err != nil {
			return err
		}
	}
	if err := kube.WriteSummary(dir, map[string]int{"users": res.Users, "tasks": res.Tasks}); err != nil {
		return err
	}
	fmt.Fprintf(out, "harness: seeded %d users and %d tasks for %s; wrote %s\n", res.Users, res.Tasks, name, filepath.Join(dir, kube.SummaryFile))
	return nil
}

// k8sRender renders into memory first, so that invalid options leave no
// empty file behind.
func k8sRender(out io.Writer, o kube.Options, path string) error {
	if f, err := shippedFile(o.Scenario); err == nil && f != nil && len(f.Faults) > 0 {
		return fmt.Errorf("%w: scenario %s plays faults, which a distributed run cannot: each worker runs one segment of the load, and faults are played once, by one harness (harness run -scenario %s)", errUsage, f.Name, f.Name)
	}
	var err error
	if o.Duration, err = plannedLength(o.Scenario); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := kube.Render(&buf, o); err != nil {
		if errors.Is(err, kube.ErrInvalid) {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		return err
	}
	if path == "" {
		_, err := out.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "harness: wrote %s; start the run with: kubectl apply -f %s\n", path, path)
	return nil
}
