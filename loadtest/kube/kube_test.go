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
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/taskready/taskready/internal/golden"
	"github.com/taskready/taskready/internal/kubescore"
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
		Duration:     10 * time.Minute,
		Timeout:      30 * time.Minute,
		TTL:          2 * time.Hour,
		SeedSecret:   "taskapi",
		FetchImage:   "registry.example.com/busybox:1.37.0",
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
	pvcs    []corev1.PersistentVolumeClaim
	jobs    map[string]batchv1.Job
	pods    []corev1.Pod
	netpols []networkingv1.NetworkPolicy
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
		case "Pod":
			var pod corev1.Pod
			strict(t, doc, &pod)
			r.pods = append(r.pods, pod)
		case "NetworkPolicy":
			var np networkingv1.NetworkPolicy
			strict(t, doc, &np)
			r.netpols = append(r.netpols, np)
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
	if len(r.jobs) != 3 {
		t.Fatalf("jobs %v; want the seed, the workers and the coordinator", slices.Sorted(maps.Keys(r.jobs)))
	}
	for name, job := range r.jobs {
		if job.Namespace != "load" {
			t.Errorf("job %s namespace = %q; want load", name, job.Namespace)
		}
		assertResultsMounted(t, name, job.Spec.Template.Spec, pvc.Name)
		if got := job.Spec.TTLSecondsAfterFinished; got == nil || *got != 7200 {
			t.Errorf("job %s ttlSecondsAfterFinished = %v; want 7200 (TTL 2h)", name, got)
		}
		assertNetworkPolicy(t, r.netpols, job.Namespace, job.Spec.Template.Labels)
	}

	seed, ok := r.jobs["nightly-seed"]
	if !ok {
		t.Fatal("no job nightly-seed")
	}
	sc := seed.Spec.Template.Spec.Containers[0]
	if want := []string{"k8s", "seed", "-scenario", "load", "-mongo-uri", "$(MONGODB_URI)", "-out", kube.SeedDir}; !slices.Equal(sc.Args, want) {
		t.Errorf("seed args = %q; want %q", sc.Args, want)
	}
	if len(sc.Env) != 1 || sc.Env[0].Name != "MONGODB_URI" || sc.Env[0].ValueFrom == nil || sc.Env[0].ValueFrom.SecretKeyRef == nil ||
		sc.Env[0].ValueFrom.SecretKeyRef.Name != "taskapi" || sc.Env[0].ValueFrom.SecretKeyRef.Key != "MONGODB_URI" {
		t.Errorf("seed env %+v; want MONGODB_URI from secret taskapi", sc.Env)
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
	// Timeout bounds the workers: one still running after the wait adds
	// load nobody measures.
	if got := spec.ActiveDeadlineSeconds; got == nil || *got != 1800 {
		t.Errorf("workers activeDeadlineSeconds = %v; want 1800 (the 30m timeout)", got)
	}
	if ic := spec.Template.Spec.InitContainers; len(ic) != 1 || !slices.Equal(ic[0].Args, []string{"k8s", "wait", "-timeout", "30m0s", kube.SeedDir}) {
		t.Errorf("worker init containers %+v; want one waiting for %s", ic, kube.SeedDir)
	} else {
		assertIdle(t, ic[0])
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
	assertIdle(t, pod.InitContainers[0])
	if len(pod.Containers) != 1 {
		t.Fatalf("%d coordinator containers; want the merge", len(pod.Containers))
	}
	// The pod holds max(init, sum of containers) for the whole wait: the
	// merge must not request a worker's CPU.
	if merge := pod.Containers[0].Resources; merge.Requests.Cpu().Cmp(resource.MustParse("100m")) > 0 || merge.Limits.Cpu().String() != "2" {
		t.Errorf("merge CPU request %s, limit %s; want at most 100m and the worker's 2", merge.Requests.Cpu(), merge.Limits.Cpu())
	}
	if got := coord.Spec.ActiveDeadlineSeconds; got == nil || *got != int64((30*time.Minute+kube.MergeMargin)/time.Second) {
		t.Errorf("coordinator activeDeadlineSeconds = %v; want the timeout plus the merge margin", got)
	}
	if got, want := pod.Containers[0].Args, append([]string{"merge", "-out", "/results/merged"}, dirs...); !slices.Equal(got, want) {
		t.Errorf("merge args = %q; want %q", got, want)
	}
	if coord.Spec.BackoffLimit == nil || *coord.Spec.BackoffLimit != 0 {
		t.Errorf("coordinator backoffLimit = %v; want 0: a failed gate is a verdict", coord.Spec.BackoffLimit)
	}

	if len(r.pods) != 1 || r.pods[0].Name != "nightly-fetch" {
		t.Fatalf("pods %+v; want nightly-fetch", r.pods)
	}
	fetch := r.pods[0]
	fc := fetch.Spec.Containers[0]
	if fc.Image != o.FetchImage || !slices.Equal(fc.Command, []string{"sleep", strconv.Itoa(int((30*time.Minute + kube.MergeMargin + 2*time.Hour) / time.Second))}) {
		t.Errorf("fetch container %s %q; want %s sleeping until the Jobs' TTL ends", fc.Image, fc.Command, o.FetchImage)
	}
	if !slices.ContainsFunc(fc.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == kube.ResultsDir && m.ReadOnly }) {
		t.Errorf("fetch mounts %+v; want the results read-only", fc.VolumeMounts)
	}
	assertNetworkPolicy(t, r.netpols, fetch.Namespace, fetch.Labels)
}

// assertIdle checks that a container that only waits reserves next to
// nothing: the pod's reservation is its largest init container's.
func assertIdle(t *testing.T, c corev1.Container) {
	t.Helper()
	if c.Resources.Requests.Cpu().Cmp(resource.MustParse("10m")) > 0 || c.Resources.Limits.Memory().Cmp(resource.MustParse("128Mi")) > 0 {
		t.Errorf("%s requests %v, limits %v; want at most 10m CPU and 128Mi", c.Name, c.Resources.Requests, c.Resources.Limits)
	}
}

// assertNetworkPolicy checks that one policy of the namespace selects the
// pod and governs both directions.
func assertNetworkPolicy(t *testing.T, netpols []networkingv1.NetworkPolicy, namespace string, podLabels map[string]string) {
	t.Helper()
	for _, np := range netpols {
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil {
			t.Fatal(err)
		}
		if np.Namespace == namespace && !sel.Empty() && sel.Matches(labels.Set(podLabels)) {
			if len(np.Spec.PolicyTypes) != 2 || len(np.Spec.Ingress) != 0 {
				t.Errorf("policy %s: types %v, ingress %+v; want Ingress and Egress, and nothing let in", np.Name, np.Spec.PolicyTypes, np.Spec.Ingress)
			}
			return
		}
	}
	t.Errorf("no NetworkPolicy in %q selects pods %v", namespace, podLabels)
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

// TestRenderKubeScore runs kube-score over a render with every option and
// one with the defaults: neither may have a critical finding.
func TestRenderKubeScore(t *testing.T) {
	kubescore.AssertNoCritical(t, "four workers", render(t, fourWorkers()))
	kubescore.AssertNoCritical(t, "defaults", render(t, kube.Options{Workers: 1, Image: "harness:v1", Scenario: "/scenarios/mine.yaml", Target: "https://api.example.com"}))
}

func TestRenderTimeoutFromDuration(t *testing.T) {
	tests := []struct {
		name              string
		duration, timeout time.Duration
		want              time.Duration
	}{
		{"unknown length", 0, 0, kube.DefaultTimeout},
		{"known length", 2 * time.Hour, 0, 2*time.Hour + 12*time.Minute + kube.StartMargin},
		{"timeout given", 2 * time.Hour, time.Hour, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := fourWorkers()
			o.Duration, o.Timeout = tt.duration, tt.timeout
			r := decode(t, render(t, o))
			if got := r.jobs["nightly-workers"].Spec.ActiveDeadlineSeconds; got == nil || *got != int64(tt.want/time.Second) {
				t.Errorf("workers activeDeadlineSeconds = %v; want %d", got, int64(tt.want/time.Second))
			}
			if wait := r.jobs["nightly-coordinator"].Spec.Template.Spec.InitContainers[0]; !slices.Contains(wait.Args, tt.want.String()) {
				t.Errorf("wait args %q; want -timeout %s", wait.Args, tt.want)
			}
		})
	}
}

func TestRenderDefaults(t *testing.T) {
	r := decode(t, render(t, kube.Options{Workers: 1, Image: "harness", Scenario: "/scenarios/mine.yaml", Target: "https://api.example.com"}))
	if _, ok := r.jobs[kube.DefaultName+"-seed"]; ok {
		t.Error("a seed Job without SeedSecret; want none (seeded beforehand)")
	}
	if ic := r.jobs[kube.DefaultName+"-workers"].Spec.Template.Spec.InitContainers; len(ic) != 0 {
		t.Errorf("workers wait for a seed nobody writes: %+v", ic)
	}
	if len(r.pods) != 1 || r.pods[0].Spec.Containers[0].Image != kube.DefaultFetchImage {
		t.Errorf("fetch pods %+v; want one of %s", r.pods, kube.DefaultFetchImage)
	}
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
		{"negative duration", func(o *kube.Options) { o.Duration = -time.Second }, "Duration"},
		{"negative ttl", func(o *kube.Options) { o.TTL = -time.Second }, "TTL"},
		{"seed secret invalid", func(o *kube.Options) { o.SeedSecret = "Task API" }, "SeedSecret"},
		{"fetch image blank", func(o *kube.Options) { o.FetchImage = " " }, "FetchImage"},
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
		if !strings.Contains(progress.String(), "2 of 3 directories") {
			t.Errorf("progress %q; want 2 of 3 directories", progress.String())
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
		if !strings.Contains(progress.String(), "3 of 3 directories") {
			t.Errorf("progress %q; want 3 of 3", progress.String())
		}
	})
}
