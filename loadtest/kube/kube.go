// Package kube renders the Kubernetes manifests of a distributed load run:
// a seed Job, an indexed Job of N harness workers, each running 1/N of the
// load, a coordinator that merges their histograms and gates once, and a
// small pod to copy the merged results out.
//
// Every pod of the run shares a ReadWriteMany volume: the seed Job writes
// /results/seed when the scenario's users exist, the workers wait for it
// (Wait, as `harness k8s wait`) and worker I writes /results/worker-I, the
// coordinator waits until every worker's summary is there, then runs
// `harness merge` into /results/merged, whose exit code is the run's
// verdict. The scenario comes from the image (a shipped name or a path in
// it), so no ConfigMap is rendered.
package kube

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Defaults of Options, exported so that the harness's flags cannot drift
// from them.
const (
	DefaultName    = "taskready-load"
	DefaultStorage = "1Gi"
	DefaultCPU     = "1"
	DefaultMemory  = "1Gi"
	// DefaultTimeout bounds a run whose length is unknown (Duration 0): it
	// covers the longest shipped scenario (soak, 2h) with room for
	// scheduling and image pulls.
	DefaultTimeout = 3 * time.Hour
	// DefaultTTL keeps a finished run's Jobs, and so their logs, for a day.
	DefaultTTL = 24 * time.Hour
	// DefaultFetchImage is the fetch pod's image: kubectl cp needs tar in
	// the container, which the distroless harness image does not have.
	DefaultFetchImage = "busybox:1.37.0"
	// DefaultSeedSecret is the Secret deploy/k8s's API reads its
	// MONGODB_URI from.
	DefaultSeedSecret = "taskapi"
	// MaxWorkers bounds Workers: past it the coordinator's argument list
	// and the volume's fan-in stop being reasonable.
	MaxWorkers = 1000
)

// ResultsDir is where the results volume is mounted in every pod.
const ResultsDir = "/results"

// maxName keeps every derived name a valid DNS-1123 label (63 bytes): the
// longest suffix is the coordinator's, and an indexed worker's hostname
// (<name>-workers-<index>) is shorter than it up to 1000 workers.
const maxName = validation.DNS1123LabelMaxLength - len(coordinatorSuffix)

// ErrInvalid is wrapped by every error Render returns for its Options.
var ErrInvalid = errors.New("invalid options")

// Resources are one pod's CPU and memory as Kubernetes quantities ("500m",
// "1Gi"); requests equal limits, so that every worker has the same,
// guaranteed capacity and N workers make N times one worker's load.
type Resources struct {
	CPU    string // default DefaultCPU
	Memory string // default DefaultMemory
}

// Options describe a distributed run. Workers, Image, Scenario and Target
// are required, and Shipped when Scenario is a name; the others have
// defaults.
type Options struct {
	Workers      int           // harness workers, each running 1/Workers of the load (1..MaxWorkers)
	Image        string        // the harness image; its entrypoint must be the harness binary
	Scenario     string        // a shipped scenario name ("load") or an absolute path inside the image
	Shipped      []string      // the names of the scenarios shipped in the image, which Scenario may name (the CLI passes its embedded ones)
	Target       string        // the API's base URL as seen from the cluster, e.g. http://taskapi.default.svc
	Namespace    string        // namespace of every object; empty leaves it to kubectl
	Name         string        // run name, a DNS-1123 label prefixing every object (default DefaultName)
	Storage      string        // size of the results volume (default DefaultStorage)
	StorageClass string        // storage class of the results volume; it must offer ReadWriteMany (default: the cluster's)
	Resources    Resources     // per worker, and for the coordinator, which merges about what one worker recorded
	Duration     time.Duration // the scenario's planned length; 0 when unknown (a path inside the image)
	Timeout      time.Duration // how long the run may take to write every worker's results (default: Duration plus StartMargin and a tenth, or DefaultTimeout when Duration is 0)
	TTL          time.Duration // how long finished Jobs (and their logs) and the fetch pod stay (default DefaultTTL)
	SeedSecret   string        // a Secret whose MONGODB_URI the seed Job writes the scenario's users to; empty renders no seed Job (seed beforehand)
	FetchImage   string        // an image with tar and sleep for the fetch pod (default DefaultFetchImage)
	ExtraArgs    []string      // appended to every worker's `harness run`
}

// StartMargin is what Timeout adds to a known Duration, on top of a tenth
// of it: scheduling, image pulls and the seeding before the first request.
const StartMargin = 15 * time.Minute

// MergeMargin is how long the coordinator has, after its wait, to merge.
const MergeMargin = 10 * time.Minute

// reserved are the worker flags that define the split; ExtraArgs may not
// override them, or the merge would combine runs that are not slices of
// one.
var reserved = []string{"provider", "target", "scenario", "segment", "out"}

// withDefaults fills the optional fields.
func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.Storage == "" {
		o.Storage = DefaultStorage
	}
	if o.Resources.CPU == "" {
		o.Resources.CPU = DefaultCPU
	}
	if o.Resources.Memory == "" {
		o.Resources.Memory = DefaultMemory
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
		if o.Duration > 0 {
			o.Timeout = o.Duration + o.Duration/10 + StartMargin
		}
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.FetchImage == "" {
		o.FetchImage = DefaultFetchImage
	}
	return o
}

// validate reports every problem at once, each naming its field.
func (o Options) validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if o.Workers < 1 || o.Workers > MaxWorkers {
		bad("Workers", "must be between 1 and %d, got %d", MaxWorkers, o.Workers)
	}
	if strings.TrimSpace(o.Image) == "" {
		bad("Image", "is required (the harness image)")
	}
	if msg := checkScenario(o.Scenario, o.Shipped); msg != "" {
		bad("Scenario", "%s", msg)
	}
	if msg := checkTarget(o.Target); msg != "" {
		bad("Target", "%s", msg)
	}
	if o.Namespace != "" {
		if msgs := validation.IsDNS1123Label(o.Namespace); len(msgs) > 0 {
			bad("Namespace", "%q: %s", o.Namespace, strings.Join(msgs, "; "))
		}
	}
	if msgs := validation.IsDNS1123Label(o.Name); len(msgs) > 0 {
		bad("Name", "%q: %s", o.Name, strings.Join(msgs, "; "))
	} else if len(o.Name) > maxName {
		bad("Name", "%q is %d bytes; at most %d, so that %q still fits a 63-byte label", o.Name, len(o.Name), maxName, o.Name+coordinatorSuffix)
	}
	checkQuantity := func(field, v string) {
		if q, err := resource.ParseQuantity(v); err != nil {
			bad(field, "%q is not a quantity (e.g. 500m, 1, 1Gi)", v)
		} else if q.Sign() <= 0 {
			bad(field, "%q must be positive", v)
		}
	}
	checkQuantity("Storage", o.Storage)
	checkQuantity("Resources.CPU", o.Resources.CPU)
	checkQuantity("Resources.Memory", o.Resources.Memory)
	if o.StorageClass != "" {
		if msgs := validation.IsDNS1123Subdomain(o.StorageClass); len(msgs) > 0 {
			bad("StorageClass", "%q: %s", o.StorageClass, strings.Join(msgs, "; "))
		}
	}
	for field, d := range map[string]time.Duration{"Duration": o.Duration, "Timeout": o.Timeout, "TTL": o.TTL} {
		if d < 0 {
			bad(field, "must not be negative, got %s", d)
		}
	}
	if o.SeedSecret != "" {
		if msgs := validation.IsDNS1123Subdomain(o.SeedSecret); len(msgs) > 0 {
			bad("SeedSecret", "%q: %s", o.SeedSecret, strings.Join(msgs, "; "))
		}
	}
	if strings.TrimSpace(o.FetchImage) == "" {
		bad("FetchImage", "must not be blank")
	}
	for _, a := range o.ExtraArgs {
		if name := flagName(a); slices.Contains(reserved, name) {
			bad("ExtraArgs", "%q sets -%s, which the render owns", a, name)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return nil
}

// checkScenario accepts a shipped name, checked here because a typo would
// otherwise surface only in N failed pods, or an absolute path, which only
// the image can check.
func checkScenario(s string, shipped []string) string {
	switch {
	case s == "":
		return "is required (a shipped scenario name or an absolute path inside the image)"
	case strings.ContainsAny(s, `/\`):
		if !path.IsAbs(s) {
			return fmt.Sprintf("%q: a path inside the image must be absolute (the pod's working directory is the image's)", s)
		}
	case len(shipped) == 0:
		return fmt.Sprintf("%q cannot be checked against the shipped scenarios: Shipped names none (give an absolute path inside the image)", s)
	case !slices.Contains(shipped, strings.TrimSuffix(s, ".yaml")):
		return fmt.Sprintf("%q is not a shipped scenario (%s) nor an absolute path inside the image", s, strings.Join(shipped, ", "))
	}
	return ""
}

func checkTarget(t string) string {
	if t == "" {
		return "is required (the API's base URL as seen from the cluster, e.g. http://taskapi.default.svc)"
	}
	u, err := url.Parse(t)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("%q is not an http(s) URL with a host", t)
	}
	return ""
}

// flagName is the name of a flag argument ("-out=x", "--out" → "out"), or
// "" for a value.
func flagName(arg string) string {
	if !strings.HasPrefix(arg, "-") {
		return ""
	}
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	return name
}

// Render validates o and writes the run's manifests to w as one
// multi-document YAML stream, ready for kubectl apply -f.
func Render(w io.Writer, o Options) error {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return err
	}
	kubectl := "kubectl"
	if o.Namespace != "" {
		kubectl += " -n " + o.Namespace
	}
	coord := o.Name + coordinatorSuffix
	fmt.Fprintf(w, "# Distributed load run %q: %d harness workers run scenario %s against %s.\n", o.Name, o.Workers, o.Scenario, o.Target)
	if o.SeedSecret != "" {
		fmt.Fprintf(w, "# job/%s first writes the scenario's users to the MongoDB of secret/%s.\n", o.Name+seedSuffix, o.SeedSecret)
	}
	fmt.Fprintf(w, "# job/%s merges their results and gates once: it completes when the run\n", coord)
	fmt.Fprintf(w, "# passes and fails when it does not (%s logs -f job/%s).\n", kubectl, coord)
	fmt.Fprintf(w, "# Then copy the merged results out (pod/%s keeps the volume for %s):\n", o.Name+fetchSuffix, o.TTL)
	fmt.Fprintf(w, "#   %s cp %s:%s ./%s-merged\n", kubectl, o.Name+fetchSuffix, mergedDir, o.Name)
	objs := []any{results(o), networkPolicy(o)}
	if o.SeedSecret != "" {
		objs = append(objs, seeder(o))
	}
	objs = append(objs, workers(o), coordinator(o), fetcher(o))
	for _, obj := range objs {
		doc, err := marshal(obj)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "---\n%s", doc); err != nil {
			return err
		}
	}
	return nil
}
