package prom

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/taskready/taskready/env/docker"
)

// DefaultImage is the Prometheus image ImageFromEnv falls back to: the
// official one.
const DefaultImage = "prom/prometheus:v2.53.0"

// Where the container keeps its configuration and its data. The data is
// a tmpfs open to every user: the official image runs as nobody, and no
// directory of every image is both present and writable to it.
const (
	containerConfig = "/taskready/prometheus.yml"
	containerData   = "/taskready/data"
)

// ImageFromEnv picks the Prometheus image: flag when set, then
// $HARNESS_PROMETHEUS_IMAGE, then $LOCAL_IMAGE_PROMETHEUS (a machine's
// local copy, for machines that cannot pull the official one), then
// DefaultImage.
func ImageFromEnv(flag string) string {
	for _, img := range []string{flag, os.Getenv("HARNESS_PROMETHEUS_IMAGE"), os.Getenv("LOCAL_IMAGE_PROMETHEUS")} {
		if img = strings.TrimSpace(img); img != "" {
			return img
		}
	}
	return DefaultImage
}

// containerRun is Prometheus in a container.
type containerRun struct {
	image string
	ctr   *testcontainers.DockerContainer
}

// startContainer runs o.image scraping targets on the host's network,
// listening on addr, with o's rule files beside its configuration. It
// returns once the container runs; Start waits for /-/ready.
func startContainer(ctx context.Context, o options, targets []Target, addr string) (*containerRun, error) {
	if err := docker.Available(ctx); err != nil {
		return nil, fmt.Errorf("prometheus (image %s): %w", o.image, err)
	}
	var id [4]byte
	_, _ = rand.Read(id[:])
	labels := maps.Clone(o.labels)
	if labels == nil {
		labels = map[string]string{}
	}
	// What env/docker puts on its containers, so that `harness down`
	// removes this one too when a run dies before Close.
	labels[docker.LabelHarness] = "true"
	labels[docker.LabelComponent] = "prometheus"
	rules := ruleFileNames(path.Dir(containerConfig), len(o.rules))
	files := []testcontainers.ContainerFile{{
		Reader: bytes.NewReader(Config(targets, o.interval, rules...)), ContainerFilePath: containerConfig, FileMode: 0o644,
	}}
	for i, r := range o.rules {
		files = append(files, testcontainers.ContainerFile{Reader: bytes.NewReader(r), ContainerFilePath: rules[i], FileMode: 0o644})
	}
	ctr, err := testcontainers.Run(ctx, o.image,
		// Errors carry what matters; the harness prints its own progress.
		testcontainers.WithLogger(tclog.NewNoopLogger()),
		testcontainers.WithName("taskready-prometheus-"+hex.EncodeToString(id[:])),
		testcontainers.WithLabels(labels),
		testcontainers.WithCmd(flags(containerConfig, containerData, addr)...),
		testcontainers.WithFiles(files...),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			// The targets listen on the host's loopback, which a
			// container on a bridge network cannot reach.
			hc.NetworkMode = "host"
			hc.Tmpfs = map[string]string{containerData: "rw,mode=1777"}
		}),
	)
	c := &containerRun{image: o.image, ctr: ctr}
	switch {
	case err == nil:
		return c, nil
	case ctr != nil:
		return nil, errors.Join(fmt.Errorf("prometheus (image %s): %w; its log: %s", o.image, err, tail(c.output())), c.stop())
	case !imagePresent(o.image):
		return nil, fmt.Errorf("prometheus: %w: the container engine has no image %s and cannot pull it (pass -prometheus-image, or set HARNESS_PROMETHEUS_IMAGE or LOCAL_IMAGE_PROMETHEUS, to a Prometheus image it has): %v", ErrNoImage, o.image, err)
	default:
		return nil, fmt.Errorf("prometheus (image %s): %w", o.image, err)
	}
}

// imagePresent reports whether the engine holds ref, to tell a missing
// image from any other reason a container did not start.
func imagePresent(ref string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return false
	}
	defer cli.Close()
	_, err = cli.ImageInspect(ctx, ref)
	return err == nil
}

func (c *containerRun) exited(ctx context.Context) error {
	state, err := c.ctr.State(ctx)
	if err != nil || state.Running {
		// The readiness poll ends on its own deadline; an engine that
		// cannot say is no reason to give up earlier.
		return nil
	}
	return fmt.Errorf("exited with code %d", state.ExitCode)
}

// output fetches the container's log; the engine keeps it, so nothing
// streams while Prometheus runs.
func (c *containerRun) output() string {
	if c.ctr == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := c.ctr.Logs(ctx)
	if err != nil {
		return fmt.Sprintf("(its log is unavailable: %v)", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil {
		return string(b) + fmt.Sprintf("\n(reading its log: %v)", err)
	}
	return string(b)
}

// stop removes the container at once: its data is a tmpfs that nobody
// reads again, so there is nothing to flush.
func (c *containerRun) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := testcontainers.TerminateContainer(c.ctr, testcontainers.StopContext(ctx), testcontainers.StopTimeout(0)); err != nil {
		return fmt.Errorf("prometheus (image %s): remove container: %w", c.image, err)
	}
	return nil
}
