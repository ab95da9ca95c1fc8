package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/taskready/taskready/loadtest/kube"
	"github.com/taskready/taskready/scenarios"
)

// k8sOptions are the flags and arguments of harness k8s.
type k8sOptions struct {
	fs      *flag.FlagSet
	kube    kube.Options
	outFile string
	poll    time.Duration
}

func k8sCmd() command {
	fs := flag.NewFlagSet("k8s", flag.ContinueOnError)
	// The image carries the scenarios this binary embeds.
	o := k8sOptions{fs: fs, kube: kube.Options{Shipped: scenarios.Names()}}
	fs.IntVar(&o.kube.Workers, "workers", 0, fmt.Sprintf("render: harness workers, each running 1/N of the load (1-%d)", kube.MaxWorkers))
	fs.StringVar(&o.kube.Image, "image", "", "render: the harness image (the root Dockerfile's harness target)")
	fs.StringVar(&o.kube.Target, "target", "", "render: the API's base URL as the cluster sees it, e.g. http://taskapi.default.svc")
	fs.StringVar(&o.kube.Scenario, "scenario", "load", fmt.Sprintf("render: a shipped scenario %v or an absolute path inside the image", scenarios.Names()))
	fs.StringVar(&o.kube.Name, "name", kube.DefaultName, "render: the run's name, prefixing every object (a DNS-1123 label)")
	fs.StringVar(&o.kube.Namespace, "namespace", "", "render: namespace of every object (default: kubectl's)")
	fs.StringVar(&o.kube.Storage, "storage", kube.DefaultStorage, "render: size of the results volume")
	fs.StringVar(&o.kube.StorageClass, "storage-class", "", "render: storage class of the results volume, one that offers ReadWriteMany (default: the cluster's)")
	fs.StringVar(&o.kube.Resources.CPU, "cpu", kube.DefaultCPU, "render: CPU of each worker (request and limit)")
	fs.StringVar(&o.kube.Resources.Memory, "memory", kube.DefaultMemory, "render: memory of each worker (request and limit)")
	fs.DurationVar(&o.kube.Timeout, "timeout", kube.DefaultTimeout, "render, wait: how long the coordinator waits for every worker's results")
	fs.Var((*listFlag)(&o.kube.ExtraArgs), "arg", "render: an extra argument for every worker's harness run (repeatable), e.g. -arg=-max-cpu=0.8")
	fs.StringVar(&o.outFile, "o", "", "render: write the manifests here instead of standard output")
	fs.DurationVar(&o.poll, "poll", kube.DefaultPoll, "wait: how often to look for the workers' results")
	usage := `usage:
  harness k8s render -workers N -image IMAGE -target URL [-scenario S] [-name NAME]
                     [-namespace NS] [-storage 1Gi] [-o FILE]
      write the manifests of a distributed load run: a results volume, an
      indexed Job of N workers each running 1/N of the scenario, and a
      coordinator Job that merges their histograms and gates once
      (kubectl apply -f FILE; the coordinator's Job fails when the run does)
  harness k8s wait [-timeout D] DIR...
      wait until every worker DIR holds its summary.json (the coordinator's
      first step)

exit codes: 0 done, 1 an error or the wait timed out, 2 a usage error or
invalid options`
	return command{fs: fs, help: "render the manifests of a distributed load run on Kubernetes", usage: usage, run: o.run}
}

func (o *k8sOptions) run(ctx context.Context, out io.Writer) error {
	sub, err := subcommand(o.fs, "render", "wait")
	if err != nil {
		return err
	}
	switch sub {
	case "render":
		if o.fs.NArg() != 0 {
			return fmt.Errorf("%w: k8s render takes no arguments, got %q", errUsage, o.fs.Args())
		}
		return k8sRender(out, o.kube, o.outFile)
	case "wait":
		if o.fs.NArg() == 0 {
			return fmt.Errorf("%w: k8s wait takes the workers' directories", errUsage)
		}
		ctx, cancel := context.WithTimeout(ctx, o.kube.Timeout)
		defer cancel()
		return kube.Wait(ctx, o.fs.Args(), o.poll, out)
	}
	return fmt.Errorf("%w: unknown k8s subcommand %q: want render or wait", errUsage, sub)
}

// k8sRender renders into memory first, so that invalid options leave no
// empty file behind.
func k8sRender(out io.Writer, o kube.Options, path string) error {
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
