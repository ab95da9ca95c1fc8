package prom_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/taskready/taskready/dashboards/prom"
	"github.com/taskready/taskready/env/docker"
)

// testLabel marks what one test creates, so that its leftovers can be
// counted without touching other runs on the same engine.
const testLabel = "org.taskready.test"

// testImageRef is the image built from the host's prometheus binary. A
// fixed name lets the engine's build cache answer the next run.
const testImageRef = "localhost/taskready-test-prometheus:host"

// needDocker skips the test when no engine answers, or fails it when
// REQUIRE_CONTAINERS=1.
func needDocker(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := docker.Available(ctx); err != nil {
		if os.Getenv("REQUIRE_CONTAINERS") == "1" {
			t.Fatalf("REQUIRE_CONTAINERS=1 but %v", err)
		}
		t.Skip(err)
	}
}

// prometheusImage is $LOCAL_IMAGE_PROMETHEUS, or else an image built on
// $LOCAL_IMAGE_BASE around the host's prometheus binary: official images
// cannot be pulled everywhere the tests run, and the Debian package's
// binary is a glibc one that runs on a Debian base.
func prometheusImage(ctx context.Context, t *testing.T) string {
	t.Helper()
	if img := os.Getenv("LOCAL_IMAGE_PROMETHEUS"); img != "" {
		return img
	}
	need(t, "prometheus")
	bin, _ := exec.LookPath("prometheus")
	dir := t.TempDir()
	if err := linkOrCopy(bin, filepath.Join(dir, "prometheus")); err != nil {
		t.Fatal(err)
	}
	dockerfile := "ARG BASE=debian:bookworm-slim\nFROM ${BASE}\nCOPY prometheus /usr/bin/prometheus\nENTRYPOINT [\"/usr/bin/prometheus\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	args := map[string]*string{}
	if base := os.Getenv("LOCAL_IMAGE_BASE"); base != "" {
		args["BASE"] = &base
	}
	repo, tag, _ := strings.Cut(testImageRef, ":")
	var log bytes.Buffer
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		t.Fatalf("docker provider: %v", err)
	}
	defer p.Close()
	start := time.Now()
	ref, err := p.BuildImage(ctx, &testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
		Context: dir, BuildArgs: args, Repo: repo, Tag: tag, BuildLogWriter: &log,
		// Without it, every build is labelled with its session and the
		// cache never answers.
		KeepImage: true,
	}})
	if err != nil {
		t.Fatalf("build %s from %s: %v\n%s", testImageRef, bin, err, log.String())
	}
	t.Logf("built %s from %s in %s", ref, bin, time.Since(start).Round(time.Millisecond))
	return ref
}

// linkOrCopy puts src at dst, by a hard link when both are on one file
// system, so a 50 MB binary costs nothing.
func linkOrCopy(src, dst string) error {
	if os.Link(src, dst) == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// labelled lists the containers, running or not, that carry label.
func labelled(ctx context.Context, t *testing.T, label string) []string {
	t.Helper()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		t.Fatalf("docker client: %v", err)
	}
	defer cli.Close()
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", label)})
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	var out []string
	for _, c := range res.Items {
		out = append(out, c.ID[:12]+" "+strings.Join(c.Names, ","))
	}
	return out
}

func randomLabel() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return testLabel + "=" + hex.EncodeToString(b[:])
}

// TestScrapeAndQueryInAContainer is TestScrapeAndQuery with Prometheus in
// a container on the host's network, as `harness dashboards verify` runs
// it with the docker provider: the exporter listens on the host's
// loopback only.
func TestScrapeAndQueryInAContainer(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	image := prometheusImage(ctx, t)
	label := randomLabel()
	key, value, _ := strings.Cut(label, "=")

	start := time.Now()
	srv, err := prom.Start(ctx, []prom.Target{{Job: "demo", Addrs: []string{exporter(t)}}},
		prom.Image(image), prom.Labels(map[string]string{key: value}),
		prom.Rules([]byte("groups: [{name: demo, rules: [{alert: DemoAlwaysFires, expr: vector(1)}]}]\n")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	t.Logf("%s ready at %s in %s", image, srv.URL, time.Since(start).Round(time.Millisecond))
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Errorf("URL %s; want the host's loopback", srv.URL)
	}
	// `harness down` finds leftovers by the harness's label alone.
	if got := labelled(ctx, t, label); len(got) != 1 {
		t.Fatalf("containers labelled %s: %q; want one", label, got)
	}
	if got := labelled(ctx, t, docker.LabelHarness+"=true"); !containsAny(got, "taskready-prometheus-") {
		t.Errorf("no container named taskready-prometheus-* among those labelled %s=true: %q", docker.LabelHarness, got)
	}

	checkScrapeAndQuery(ctx, t, srv, start)
	// The rule file went into the container beside the configuration.
	if rules, err := srv.Rules(ctx); err != nil || len(rules) != 1 || rules[0].Name != "DemoAlwaysFires" {
		t.Errorf("rules in the container: %+v, %v; want the one given", rules, err)
	}

	stopped := time.Now()
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	t.Logf("removed in %s", time.Since(stopped).Round(time.Millisecond))
	if got := labelled(ctx, t, label); len(got) > 0 {
		t.Errorf("after Close, containers labelled %s remain: %q", label, got)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}

func containsAny(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestImageUnavailable: an image the engine neither has nor can pull is
// named, with the ways to choose another.
func TestImageUnavailable(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const ref = "localhost/taskready-no-such-prometheus:0"
	srv, err := prom.Start(ctx, nil, prom.Image(ref))
	if err == nil {
		srv.Close()
		t.Fatalf("Start with %s succeeded", ref)
	}
	if !errors.Is(err, prom.ErrNoImage) {
		t.Errorf("err %v; want ErrNoImage, which verify falls back on", err)
	}
	for _, want := range []string{ref, "-prometheus-image", "HARNESS_PROMETHEUS_IMAGE", "LOCAL_IMAGE_PROMETHEUS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// TestImageFailsClearly: a container that exits at once (here because
// Prometheus refuses a config with one job name twice) fails Start with
// the container's own words, and leaves nothing behind.
func TestImageFailsClearly(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	image := prometheusImage(ctx, t)
	label := randomLabel()
	key, value, _ := strings.Cut(label, "=")
	dup := prom.Target{Job: "dup", Addrs: []string{"127.0.0.1:1"}}
	_, err := prom.Start(ctx, []prom.Target{dup, dup}, prom.Image(image), prom.Labels(map[string]string{key: value}))
	if err == nil || !strings.Contains(err.Error(), "exited with code") || !strings.Contains(err.Error(), image) ||
		!strings.Contains(err.Error(), "dup") {
		t.Errorf("err %v; want the image, its exit code and its log", err)
	}
	if got := labelled(ctx, t, label); len(got) > 0 {
		t.Errorf("after a failed Start, containers labelled %s remain: %q", label, got)
	}
}

func TestImageFromEnv(t *testing.T) {
	t.Setenv("HARNESS_PROMETHEUS_IMAGE", "")
	t.Setenv("LOCAL_IMAGE_PROMETHEUS", "")
	if got := prom.ImageFromEnv(""); got != prom.DefaultImage {
		t.Errorf("nothing set: %q, want %q", got, prom.DefaultImage)
	}
	t.Setenv("LOCAL_IMAGE_PROMETHEUS", "localhost/prometheus:local")
	if got := prom.ImageFromEnv(""); got != "localhost/prometheus:local" {
		t.Errorf("LOCAL_IMAGE_PROMETHEUS: %q", got)
	}
	t.Setenv("HARNESS_PROMETHEUS_IMAGE", " registry.example/prometheus:2 ")
	if got := prom.ImageFromEnv(""); got != "registry.example/prometheus:2" {
		t.Errorf("HARNESS_PROMETHEUS_IMAGE over LOCAL_IMAGE_PROMETHEUS: %q", got)
	}
	if got := prom.ImageFromEnv("mine:1"); got != "mine:1" {
		t.Errorf("the flag over both: %q", got)
	}
}
