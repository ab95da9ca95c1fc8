package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/taskready/taskready/embedded"
	"github.com/taskready/taskready/loadtest/kube"
)

func TestK8sRender(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"k8s", "render", "-workers", "3", "-image", "ghcr.io/taskready/harness:v1", "-target", "http://taskapi.default.svc", "-scenario", "load", "-name", "ci"}
	if code := run(context.Background(), args, &out, &errOut); code != exitPass {
		t.Fatalf("harness %v = %d; want 0 (stderr %q)", args, code, errOut.String())
	}
	kinds := map[string]int{}
	docs := utilyaml.NewYAMLReader(bufio.NewReader(&out))
	for {
		doc, err := docs.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var head struct{ Kind string }
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("document %q: %v", doc, err)
		}
		if head.Kind == "Job" {
			var job batchv1.Job
			if err := yaml.UnmarshalStrict(doc, &job); err != nil {
				t.Fatalf("job: %v", err)
			}
			if job.Name == "ci-workers" && (job.Spec.Completions == nil || *job.Spec.Completions != 3) {
				t.Errorf("workers completions = %v; want 3", job.Spec.Completions)
			}
			// The load scenario lasts 4m: its length, a tenth and the
			// start margin bound the workers.
			want := int64((4*time.Minute + 24*time.Second + kube.StartMargin) / time.Second)
			if job.Name == "ci-workers" && (job.Spec.ActiveDeadlineSeconds == nil || *job.Spec.ActiveDeadlineSeconds != want) {
				t.Errorf("workers activeDeadlineSeconds = %v; want %d, derived from the load scenario's length", job.Spec.ActiveDeadlineSeconds, want)
			}
		}
		if head.Kind != "" {
			kinds[head.Kind]++
		}
	}
	if want := map[string]int{"Job": 3, "PersistentVolumeClaim": 1, "NetworkPolicy": 1, "Pod": 1}; !maps.Equal(kinds, want) {
		t.Errorf("rendered %v; want %v (seed, workers, coordinator; volume; policy; fetch pod)", kinds, want)
	}
}

func TestK8sRenderToFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.yaml")
	var out, errOut bytes.Buffer
	args := []string{"k8s", "render", "-workers", "2", "-image", "h", "-target", "http://api", "-o", path}
	if code := run(context.Background(), args, &out, &errOut); code != exitPass {
		t.Fatalf("harness %v = %d; want 0 (stderr %q)", args, code, errOut.String())
	}
	data, err := os.ReadFile(path)
	if err != nil || !bytes.Contains(data, []byte("completionMode: Indexed")) {
		t.Errorf("%s: %v; want the manifests", path, err)
	}
	if !strings.Contains(out.String(), "kubectl apply -f "+path) {
		t.Errorf("stdout %q; want how to apply it", out.String())
	}
}

func TestK8sUsage(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no subcommand", []string{"k8s"}, "want render, wait or seed"},
		{"unknown subcommand", []string{"k8s", "apply"}, `unknown k8s subcommand "apply"`},
		{"missing image", []string{"k8s", "render", "-workers", "4", "-target", "http://taskapi"}, "Image:"},
		{"no workers", []string{"k8s", "render", "-image", "h", "-target", "http://taskapi"}, "Workers:"},
		{"bad target", []string{"k8s", "render", "-workers", "4", "-image", "h", "-target", "taskapi"}, "Target:"},
		{"wait without dirs", []string{"k8s", "wait"}, "directories"},
		{"a scenario with faults", []string{"k8s", "render", "-workers", "2", "-image", "h", "-target", "http://taskapi", "-scenario", "failover"},
			"scenario failover plays faults, which a distributed run cannot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(context.Background(), tt.args, &out, &errOut); code != exitUsage {
				t.Errorf("harness %v = %d; want %d (stderr %q)", tt.args, code, exitUsage, errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.stderr) {
				t.Errorf("stderr = %q; want it to mention %q", errOut.String(), tt.stderr)
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q; want nothing on a usage error", out.String())
			}
		})
	}
}

func TestK8sWait(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "worker-1")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"k8s", "wait", "-poll", "5ms", dir}, &out, &errOut); code != exitPass {
		t.Errorf("wait for a finished worker = %d; want 0 (stderr %q)", code, errOut.String())
	}
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"k8s", "wait", "-timeout", "30ms", "-poll", "5ms", dir, missing}, &out, &errOut); code != exitFail {
		t.Errorf("wait for a missing worker = %d; want 1 (stderr %q)", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), missing) {
		t.Errorf("stderr = %q; want it to name %s", errOut.String(), missing)
	}
}

// TestK8sSeed runs the seed Job's command against a real (embedded)
// MongoDB twice, as a retried Job would, and checks that the workers'
// wait then sees it done.
func TestK8sSeed(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	m, err := embedded.StartMongo(ctx, t.TempDir(), embedded.MongoLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	dir := filepath.Join(t.TempDir(), "seed")
	for attempt := range 2 {
		var out, errOut bytes.Buffer
		if code := run(ctx, []string{"k8s", "seed", "-scenario", "smoke", "-mongo-uri", m.URI(), "-out", dir}, &out, &errOut); code != exitPass {
			t.Fatalf("attempt %d: k8s seed = %d\nstdout %s\nstderr %s", attempt, code, out.String(), errOut.String())
		}
		if !strings.Contains(out.String(), "seeded 100 users and 1000 tasks for smoke") {
			t.Errorf("attempt %d said %q; want the smoke scenario's 100 users with 10 tasks each", attempt, out.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"k8s", "wait", "-timeout", "10s", "-poll", "5ms", dir}, &out, &errOut); code != exitPass {
		t.Errorf("wait for the seed = %d; want 0 (stderr %q)", code, errOut.String())
	}
}
