package kube_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/taskready/taskready/internal/golden"
	"github.com/taskready/taskready/loadtest/kube"
)

// fourWorkers sets every field, so that the golden file shows each one.
func fourWorkers() kube.Options {
	return kube.Options{
		Workers:      4,
		Image:        "ghcr.io/taskready/harness:v1",
		Scenario:     "load",
		Shipped:      []string{"load", "smoke"},
		Target:       "http://taskapi.load.svc.cluster.local",
		Namespace:    "load",
		Name:         "nightly",
		Storage:      "2Gi",
		StorageClass: "nfs-client",
		Resources:    kube.Resources{CPU: "2", Memory: "2Gi"},
		Timeout:      30 * time.Minute,
		ExtraArgs:    []string{"-max-cpu", "0.8"},
	}
}

func render(t *testing.T, o kube.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := kube.Render(&buf, o); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return buf.Bytes()
}

// rendered is a render decoded back into the typed objects, strictly: a
// field the types do not know would be a field Kubernetes ignores.
type rendered struct {
	pvcs []corev1.PersistentVolumeClaim
	jobs map[string]batchv1.Job
}

func decode(t *testing.T, data []byte) rendered {
	t.Helper()
	r := rendered{jobs: map[string]batchv1.Job{}}
	docs := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := docs.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("split documents: %v", err)
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("document %q: %v", doc, err)
		}
		switch tm.Kind {
		case "":
			if strings.TrimSpace(stripComments(doc)) != "" {
				t.Fatalf("document without a kind:\n%s", doc)
			}
		case "PersistentVolumeClaim":
			var pvc corev1.PersistentVolumeClaim
			strict(t, doc, &pvc)
			r.pvcs = append(r.pvcs, pvc)
		case "Job":
			var job batchv1.Job
			strict(t, doc, &job)
			r.jobs[job.Name] = job
		default:
			t.Fatalf("unexpected kind %s/%s", tm.APIVersion, tm.Kind)
		}
	}
	return r
}

func strict(t *testing.T, doc []byte, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(doc, into); err != nil {
		t.Fatalf("strict decode into %T: %v\n%s", into, err, doc)
	}
}

func stripComments(doc []byte) string {
	var b strings.Builder
	for line := range strings.Lines(string(doc)) {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line)
		}
	}
	return b.String()
}

func TestRenderFourWorkers(t *testing.T) {
	o := fourWorkers()
	r := decode(t, render(t, o))

	if len(r.pvcs) != 1 {
		t.Fatalf("%d PersistentVolumeClaims; want 1", len(r.pvcs))
	}
	pvc := r.pvcs[0]
	if got := pvc.Spec.AccessModes; !slices.Equal(got, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}) {
		t.Errorf("results volume access modes = %v; want [ReadWriteMany]: workers on several nodes write it", got)
	}
	if got := pvc.Spec.Resources.Requests.Storage().String(); got != "2Gi" {
		t.Errorf("results volume size = %s; want 2Gi", got)
	}
	if pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != "nfs-client" {
		t.Errorf("storage class = %v; want nfs-client", pvc.Spec.StorageClassName)
	}
	if len(r.jobs) != 2 {
		t.Fatalf("jobs %v; want the workers and the coordinator", slices.Sorted(maps.Keys(r.jobs)))
	}
	for name, job := range r.jobs {
		if job.Namespace != "load" {
			t.Errorf("job %s namespace = %q; want load", name, job.Namespace)
		}
		assertResultsMounted(t, name, job.Spec.Template.Spec, pvc.Name)
	}

	workers, ok := r.jobs["nightly-workers"]
	if !ok {
		t.Fatal("no job nightly-workers")
	}
	spec := workers.Spec
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode = %v; want Indexed", spec.CompletionMode)
	}
	for field, p := range map[string]*int32{"completions": spec.Completions, "parallelism": spec.Parallelism} {
		if p == nil || *p != 4 {
			t.Errorf("%s = %v; want 4", field, p)
		}
	}
	if spec.BackoffLimitPerIndex == nil || *spec.BackoffLimitPerIndex != 0 || spec.BackoffLimit != nil {
		t.Errorf("backoffLimitPerIndex = %v, backoffLimit = %v; want 0 per index (a retried worker replays its slice) and none for the Job (one failed worker must not stop the others)", spec.BackoffLimitPerIndex, spec.BackoffLimit)
	}
	if got := spec.Template.Spec.RestartPolicy; got != corev1.RestartPolicyNever {
		t.Errorf("worker restartPolicy = %s; want Never", got)
	}
	if len(spec.Template.Spec.Containers) != 1 {
		t.Fatalf("%d worker containers; want 1", len(spec.Template.Spec.Containers))
	}
	w := spec.Template.Spec.Containers[0]
	if w.Image != o.Image {
		t.Errorf("worker image = %q; want %q", w.Image, o.Image)
	}
	wantArgs := []string{
		"run", "-provider", "external", "-target", o.Target, "-scenario", "load",
		"-segment", "$(JOB_COMPLETION_INDEX)/4", "-out", "/results/worker-$(JOB_COMPLETION_INDEX)",
		"-contract=false", "-seed-users", "0", "-max-cpu", "0.8",
	}
	if !slices.Equal(w.Args, wantArgs) {
		t.Errorf("worker args =\n  %q\nwant\n  %q", w.Args, wantArgs)
	}
	assertIndexEnv(t, w)
	if got := w.Resources.Limits.Cpu().String(); got != "2" {
		t.Errorf("worker CPU limit = %s; want 2", got)
	}
	if !w.Resources.Requests.Memory().Equal(*w.Resources.Limits.Memory()) {
		t.Errorf("worker memory request %s != limit %s: workers should be alike and guaranteed", w.Resources.Requests.Memory(), w.Resources.Limits.Memory())
	}

	coord, ok := r.jobs["nightly-coordinator"]
	if !ok {
		t.Fatal("no job nightly-coordinator")
	}
	pod := coord.Spec.Template.Spec
	dirs := []string{"/results/worker-0", "/results/worker-1", "/results/worker-2", "/results/worker-3"}
	if len(pod.InitContainers) != 1 {
		t.Fatalf("%d coordinator init containers; want the wait", len(pod.InitContainers))
	}
	if got, want := pod.InitContainers[0].Args, append([]string{"k8s", "wait", "-timeout", "30m0s"}, dirs...); !slices.Equal(got, want) {
		t.Errorf("wait args = %q; want %q", got, want)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d coordinator containers; want the merge", len(pod.Containers))
	}
	if got, want := pod.Containers[0].Args, append([]string{"merge", "-out", "/results/merged"}, dirs...); !slices.Equal(got, want) {
		t.Errorf("merge args = %q; want %q", got, want)
	}
	if coord.Spec.BackoffLimit == nil || *coord.Spec.BackoffLimit != 0 {
		t.Errorf("coordinator backoffLimit = %v; want 0: a failed gate is a verdict", coord.Spec.BackoffLimit)
	}
}

// assertIndexEnv checks the declaration that lets kubelet expand
// $(JOB_COMPLETION_INDEX) in the worker's args.
func assertIndexEnv(t *testing.T, c corev1.Container) {
	t.Helper()
	for _, e := range c.Env {
		if e.Name != kube.IndexEnv {
			continue
		}
		want := "metadata.annotations['batch.kubernetes.io/job-completion-index']"
		if e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != want {
			t.Errorf("%s = %+v; want a fieldRef to %s", e.Name, e.ValueFrom, want)
		}
		return
	}
	t.Errorf("worker env %+v does not declare %s", c.Env, kube.IndexEnv)
}

func assertResultsMounted(t *testing.T, job string, pod corev1.PodSpec, claim string) {
	t.Helper()
	var volume string
	for _, v := range pod.Volumes {
		if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim {
			volume = v.Name
		}
	}
	if volume == "" {
		t.Errorf("job %s has no volume for claim %s", job, claim)
		return
	}
	for _, c := range slices.Concat(pod.InitContainers, pod.Containers) {
		mounted := slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
			return m.Name == volume && m.MountPath == kube.ResultsDir && !m.ReadOnly
		})
		if !mounted {
			t.Errorf("job %s container %s does not mount %s at %s", job, c.Name, claim, kube.ResultsDir)
		}
	}
}

func TestRenderGolden(t *testing.T) {
	got := render(t, fourWorkers())
	for _, noise := range []string{"\nstatus:", "status: {}", "creationTimestamp"} {
		if bytes.Contains(got, []byte(noise)) {
			t.Errorf("the render contains %q, which a manifest does not declare", noise)
		}
	}
	golden.Assert(t, "four-workers.golden.yaml", got)
}

func TestRenderDefaults(t *testing.T) {
	r := decode(t, render(t, kube.Options{Workers: 1, Image: "harness", Scenario: "/scenarios/mine.yaml", Target: "https://api.example.com"}))
	if len(r.pvcs) != 1 || r.pvcs[0].Name != kube.DefaultName+"-results" {
		t.Fatalf("PVCs %+v; want one named %s-results", r.pvcs, kube.DefaultName)
	}
	if got := r.pvcs[0].Spec.Resources.Requests.Storage().String(); got != kube.DefaultStorage {
		t.Errorf("default size = %s; want %s", got, kube.DefaultStorage)
	}
	if r.pvcs[0].Spec.StorageClassName != nil || r.pvcs[0].Namespace != "" {
		t.Errorf("storage class %v, namespace %q; want both left to the cluster", r.pvcs[0].Spec.StorageClassName, r.pvcs[0].Namespace)
	}
	coord := r.jobs[kube.DefaultName+"-coordinator"].Spec.Template.Spec
	if len(coord.InitContainers) != 1 || !slices.Contains(coord.InitContainers[0].Args, kube.DefaultTimeout.String()) {
		t.Errorf("wait %+v; want the default timeout %s", coord.InitContainers, kube.DefaultTimeout)
	}
}

func TestRenderInvalid(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*kube.Options)
		field string
	}{
		{"no workers", func(o *kube.Options) { o.Workers = 0 }, "Workers"},
		{"too many workers", func(o *kube.Options) { o.Workers = kube.MaxWorkers + 1 }, "Workers"},
		{"no image", func(o *kube.Options) { o.Image = " " }, "Image"},
		{"no target", func(o *kube.Options) { o.Target = "" }, "Target"},
		{"target not http", func(o *kube.Options) { o.Target = "ftp://taskapi" }, "Target"},
		{"target without host", func(o *kube.Options) { o.Target = "http://" }, "Target"},
		{"target without scheme", func(o *kube.Options) { o.Target = "taskapi:5000" }, "Target"},
		{"no scenario", func(o *kube.Options) { o.Scenario = "" }, "Scenario"},
		{"unknown scenario", func(o *kube.Options) { o.Scenario = "lod" }, "Scenario"},
		{"scenario not among the shipped", func(o *kube.Options) { o.Shipped = []string{"smoke"} }, "Scenario"},
		{"scenario name without shipped names", func(o *kube.Options) { o.Shipped = nil }, "Scenario"},
		{"relative scenario path", func(o *kube.Options) { o.Scenario = "scenarios/load.yaml" }, "Scenario"},
		{"name not DNS-1123", func(o *kube.Options) { o.Name = "Nightly_Run" }, "Name"},
		{"name too long", func(o *kube.Options) { o.Name = strings.Repeat("a", 52) }, "Name"},
		{"namespace not DNS-1123", func(o *kube.Options) { o.Namespace = "Load" }, "Namespace"},
		{"storage not a quantity", func(o *kube.Options) { o.Storage = "lots" }, "Storage"},
		{"storage zero", func(o *kube.Options) { o.Storage = "0" }, "Storage"},
		{"storage class invalid", func(o *kube.Options) { o.StorageClass = "NFS class" }, "StorageClass"},
		{"cpu not a quantity", func(o *kube.Options) { o.Resources.CPU = "fast" }, "Resources.CPU"},
		{"memory negative", func(o *kube.Options) { o.Resources.Memory = "-1Gi" }, "Resources.Memory"},
		{"negative timeout", func(o *kube.Options) { o.Timeout = -time.Second }, "Timeout"},
		{"extra args override -out", func(o *kube.Options) { o.ExtraArgs = []string{"-out=/tmp/x"} }, "ExtraArgs"},
		{"extra args override --segment", func(o *kube.Options) { o.ExtraArgs = []string{"--segment", "0/1"} }, "ExtraArgs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := fourWorkers()
			tt.edit(&o)
			var buf bytes.Buffer
			err := kube.Render(&buf, o)
			if !errors.Is(err, kube.ErrInvalid) {
				t.Fatalf("Render = %v; want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.field+":") {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
			if buf.Len() != 0 {
				t.Errorf("Render wrote %d bytes before refusing", buf.Len())
			}
		})
	}
}

func TestRenderReportsEveryProblem(t *testing.T) {
	err := kube.Render(io.Discard, kube.Options{})
	for _, field := range []string{"Workers", "Image", "Scenario", "Target"} {
		if err == nil || !strings.Contains(err.Error(), field+":") {
			t.Errorf("Render(zero Options) = %v; want it to name %s", err, field)
		}
	}
}

func TestWait(t *testing.T) {
	root := t.TempDir()
	dirs := make([]string, 3)
	for i := range dirs {
		dirs[i] = filepath.Join(root, "worker-"+strconv.Itoa(i))
		if err := os.MkdirAll(dirs[i], 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(dir, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, kube.SummaryFile), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(dirs[0], `{"metrics":{}}`)
	write(dirs[1], `{"metrics":{}}`)
	write(dirs[2], `{"metrics":`) // still being written

	t.Run("times out naming the missing worker", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		var progress bytes.Buffer
		err := kube.Wait(ctx, dirs, 5*time.Millisecond, &progress)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), dirs[2]) || strings.Contains(err.Error(), dirs[0]) {
			t.Errorf("Wait = %v; want a deadline naming %s only", err, dirs[2])
		}
		if !strings.Contains(progress.String(), "2 of 3 workers") {
			t.Errorf("progress %q; want 2 of 3", progress.String())
		}
	})

	t.Run("returns once every summary is whole", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		go func() {
			time.Sleep(20 * time.Millisecond)
			// Written whole at once, so that the poller never sees half.
			tmp := filepath.Join(dirs[2], "summary.tmp")
			if os.WriteFile(tmp, []byte(`{"metrics":{}}`), 0o644) == nil {
				os.Rename(tmp, filepath.Join(dirs[2], kube.SummaryFile))
			}
		}()
		var progress bytes.Buffer
		if err := kube.Wait(ctx, dirs, 5*time.Millisecond, &progress); err != nil {
			t.Fatalf("Wait = %v", err)
		}
		if !strings.Contains(progress.String(), "3 of 3 workers") {
			t.Errorf("progress %q; want 3 of 3", progress.String())
		}
	})
}
