package kube

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Name suffixes of the run's objects.
const (
	workersSuffix     = "-workers"
	coordinatorSuffix = "-coordinator"
	resultsSuffix     = "-results"
)

// IndexEnv is the variable that holds a worker's completion index. The
// Job controller injects it too, but kubelet expands $(VAR) in args only
// for variables the container declares, so the render declares it.
const IndexEnv = "JOB_COMPLETION_INDEX"

// indexAnnotation is where an indexed Job's pod finds its index.
const indexAnnotation = "batch.kubernetes.io/job-completion-index"

// nonRoot is the uid and gid of the harness image's user (distroless's
// nonroot), also the volume's group so that it can write the results.
// Volumes that ignore fsGroup (most NFS exports) must let uid 65532 write.
const nonRoot = 65532

// workerDir is the results directory of the worker with that index (or
// of "$(JOB_COMPLETION_INDEX)", in a worker's own arguments).
func workerDir(index string) string { return ResultsDir + "/worker-" + index }

// mergedDir is where the coordinator writes the merged results.
const mergedDir = ResultsDir + "/merged"

func labels(o Options, component string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":      "taskready-harness",
		"app.kubernetes.io/instance":  o.Name,
		"app.kubernetes.io/component": component,
	}
}

func objectMeta(o Options, name, component string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: o.Namespace, Labels: labels(o, component)}
}

// results is the volume every pod of the run shares: workers on several
// nodes write it at once, hence ReadWriteMany.
func results(o Options) *corev1.PersistentVolumeClaim {
	pvc := &corev1.PersistentVolumeClaim{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: objectMeta(o, o.Name+resultsSuffix, "results"),
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(o.Storage)},
			},
		},
	}
	if o.StorageClass != "" {
		pvc.Spec.StorageClassName = new(o.StorageClass)
	}
	return pvc
}

// workers is the indexed Job: pod I runs segment I/N of the scenario.
// Nothing retries a worker (backoffLimit 0): a second attempt would replay
// its slice of the load on top of the others' and skew the merged run.
func workers(o Options) *batchv1.Job {
	n := strconv.Itoa(o.Workers)
	index := "$(" + IndexEnv + ")"
	args := []string{
		"run", "-provider", "external", "-target", o.Target, "-scenario", o.Scenario,
		"-segment", index + "/" + n, "-out", workerDir(index),
		// One contract smoke and one seeding belong before a run, not
		// N of them racing each other inside it.
		"-contract=false", "-seed-users", "0",
	}
	args = append(args, o.ExtraArgs...)
	c := container(o, "worker", args)
	c.Env = []corev1.EnvVar{{
		Name: IndexEnv,
		ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
			FieldPath: "metadata.annotations['" + indexAnnotation + "']",
		}},
	}}
	pod := podSpec(o, "worker")
	pod.Containers = []corev1.Container{c}
	// Workers on one node share its CPU and network: spread them, but
	// still run when the cluster has fewer nodes than workers.
	pod.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
		MaxSkew:           1,
		TopologyKey:       "kubernetes.io/hostname",
		WhenUnsatisfiable: corev1.ScheduleAnyway,
		LabelSelector:     &metav1.LabelSelector{MatchLabels: labels(o, "worker")},
	}}
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: objectMeta(o, o.Name+workersSuffix, "worker"),
		Spec: batchv1.JobSpec{
			CompletionMode: new(batchv1.IndexedCompletion),
			Completions:    new(int32(o.Workers)),
			Parallelism:    new(int32(o.Workers)),
			// Per index, not per Job: a worker is never retried (it
			// would replay its slice of the load), but one that exits
			// 101 or 1 must not kill the others, so the coordinator can
			// still merge every summary and report why (Kubernetes 1.29+).
			BackoffLimitPerIndex: new(int32(0)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels(o, "worker")},
				Spec:       pod,
			},
		},
	}
}

// coordinator waits for every worker's summary, then merges and gates:
// its Job succeeds exactly when the merged run passes.
func coordinator(o Options) *batchv1.Job {
	dirs := make([]string, o.Workers)
	for i := range dirs {
		dirs[i] = workerDir(strconv.Itoa(i))
	}
	wait := container(o, "wait", append([]string{"k8s", "wait", "-timeout", o.Timeout.String()}, dirs...))
	merge := container(o, "merge", append([]string{"merge", "-out", mergedDir}, dirs...))
	pod := podSpec(o, "coordinator")
	pod.InitContainers = []corev1.Container{wait}
	pod.Containers = []corev1.Container{merge}
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: objectMeta(o, o.Name+coordinatorSuffix, "coordinator"),
		Spec: batchv1.JobSpec{
			// A failed gate is a verdict, not a flake: never retried.
			BackoffLimit: new(int32(0)),
			// An evicted coordinator is retried: waiting and merging again
			// read the same files and reach the same verdict.
			PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
				Action:          batchv1.PodFailurePolicyActionIgnore,
				OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}},
			}}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels(o, "coordinator")},
				Spec:       pod,
			},
		},
	}
}

func podSpec(o Options, component string) corev1.PodSpec {
	return corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		// The harness talks to the API over HTTP only, never to Kubernetes.
		AutomountServiceAccountToken: new(false),
		EnableServiceLinks:           new(false),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   new(true),
			RunAsUser:      new(int64(nonRoot)),
			RunAsGroup:     new(int64(nonRoot)),
			FSGroup:        new(int64(nonRoot)),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Volumes: []corev1.Volume{
			{Name: "results", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: o.Name + resultsSuffix}}},
			// The root filesystem is read-only; anything that wants a
			// temporary file gets this.
			{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		},
	}
}

func container(o Options, name string, args []string) corev1.Container {
	limits := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(o.Resources.CPU),
		corev1.ResourceMemory: resource.MustParse(o.Resources.Memory),
	}
	return corev1.Container{
		Name:  name,
		Image: o.Image,
		Args:  args,
		Resources: corev1.ResourceRequirements{
			Requests: limits,
			Limits:   limits,
		},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: new(false),
			ReadOnlyRootFilesystem:   new(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
		VolumeMounts: []corev1.VolumeMount{
			{Name: "results", MountPath: ResultsDir},
			{Name: "tmp", MountPath: "/tmp"},
		},
	}
}

// marshal writes obj as YAML without its status: the typed objects'
// status structs are not omitted by omitempty, and a rendered manifest
// has no status to declare.
func marshal(obj any) ([]byte, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers go back out exactly as they came
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	delete(m, "status")
	if data, err = json.Marshal(m); err != nil {
		return nil, err
	}
	out, err := yaml.JSONToYAML(data)
	if err != nil {
		return nil, fmt.Errorf("%T: %w", obj, err)
	}
	return out, nil
}
