package kube

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// Name suffixes of the run's objects.
const (
	workersSuffix     = "-workers"
	coordinatorSuffix = "-coordinator"
	resultsSuffix     = "-results"
	seedSuffix        = "-seed"
	fetchSuffix       = "-fetch"
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

// SeedDir is where the seed Job writes its SummaryFile once the scenario's
// users exist; the workers wait for it.
const SeedDir = ResultsDir + "/seed"

// tmpSize bounds the /tmp volume of every pod: the root filesystem is
// read-only, and nothing the harness does needs more.
const tmpSize = "64Mi"

// seconds is d as a Job's or pod's whole seconds, rounded up.
func seconds(d time.Duration) *int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return &s
}

// resources builds requests and limits; ephemeral storage is the
// container's log and /tmp, as the root filesystem is read-only.
func resources(reqCPU, reqMem, limCPU, limMem string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{
			corev1.ResourceCPU:              resource.MustParse(reqCPU),
			corev1.ResourceMemory:           resource.MustParse(reqMem),
			corev1.ResourceEphemeralStorage: resource.MustParse("64Mi"),
		},
		Limits: corev1.ResourceList{
			corev1.ResourceCPU:              resource.MustParse(limCPU),
			corev1.ResourceMemory:           resource.MustParse(limMem),
			corev1.ResourceEphemeralStorage: resource.MustParse("256Mi"),
		},
	}
}

// idle is what a container that only polls the volume or sleeps needs:
// a pod's reservation is the larger of its init containers' and the sum
// of its containers', so a wait sized like a worker would hold a worker's
// CPU and memory for the whole run.
func idle() corev1.ResourceRequirements { return resources("10m", "64Mi", "100m", "128Mi") }

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
	c := container(o, "worker", args, resources(o.Resources.CPU, o.Resources.Memory, o.Resources.CPU, o.Resources.Memory))
	c.Env = []corev1.EnvVar{{
		Name: IndexEnv,
		ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
			FieldPath: "metadata.annotations['" + indexAnnotation + "']",
		}},
	}}
	pod := podSpec(o, "worker")
	pod.Containers = []corev1.Container{c}
	if o.SeedSecret != "" {
		// N workers racing to seed would collide; one Job seeds, and every
		// worker starts its slice once the users exist.
		pod.InitContainers = []corev1.Container{container(o, "wait-seed", []string{"k8s", "wait", "-timeout", o.Timeout.String(), SeedDir}, idle())}
	}
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
			// A worker still running when the coordinator stops waiting
			// adds load nobody measures.
			ActiveDeadlineSeconds:   seconds(o.Timeout),
			TTLSecondsAfterFinished: ttl(o),
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
	wait := container(o, "wait", append([]string{"k8s", "wait", "-timeout", o.Timeout.String()}, dirs...), idle())
	// The merge may use what one worker has, but requests little CPU:
	// the pod holds its requests while the wait runs, for the whole load,
	// and a merge that gets less CPU only takes longer. Memory stays
	// guaranteed: a merge killed for it would lose the verdict.
	merge := container(o, "merge", append([]string{"merge", "-out", mergedDir}, dirs...),
		resources("100m", o.Resources.Memory, o.Resources.CPU, o.Resources.Memory))
	pod := podSpec(o, "coordinator")
	pod.InitContainers = []corev1.Container{wait}
	pod.Containers = []corev1.Container{merge}
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: objectMeta(o, o.Name+coordinatorSuffix, "coordinator"),
		Spec: batchv1.JobSpec{
			// A failed gate is a verdict, not a flake: never retried.
			BackoffLimit: new(int32(0)),
			// The wait gives up at Timeout; the merge has the margin.
			ActiveDeadlineSeconds:   seconds(o.Timeout + MergeMargin),
			TTLSecondsAfterFinished: ttl(o),
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

// ttl is how long a finished Job stays: its pods' logs go with it.
func ttl(o Options) *int32 {
	s := int32(min(*seconds(o.TTL), int64(^uint32(0)>>1)))
	return &s
}

// seeder writes the users the scenario logs in as, once, before any
// worker starts; `harness k8s seed` first removes what an earlier run or
// attempt seeded with the same prefix, so a retry is safe.
func seeder(o Options) *batchv1.Job {
	c := container(o, "seed", []string{"k8s", "seed", "-scenario", o.Scenario, "-mongo-uri", "$(MONGODB_URI)", "-out", SeedDir},
		resources("100m", "128Mi", "1", "256Mi"))
	c.Env = []corev1.EnvVar{{
		Name: "MONGODB_URI",
		ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: o.SeedSecret},
			Key:                  "MONGODB_URI",
		}},
	}}
	pod := podSpec(o, "seed")
	pod.Containers = []corev1.Container{c}
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: objectMeta(o, o.Name+seedSuffix, "seed"),
		Spec: batchv1.JobSpec{
			BackoffLimit: new(int32(2)),
			// The workers wait for the seed no longer than this either.
			ActiveDeadlineSeconds:   seconds(o.Timeout),
			TTLSecondsAfterFinished: ttl(o),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels(o, "seed")},
				Spec:       pod,
			},
		},
	}
}

// fetcher is a pod that keeps the results volume mounted, read-only,
// after the Jobs' pods have ended, so that kubectl cp can copy merged/
// out; it sleeps as long as the Jobs stay, then ends by itself.
func fetcher(o Options) *corev1.Pod {
	c := container(o, "fetch", []string{"sleep", strconv.FormatInt(*seconds(o.Timeout + MergeMargin + o.TTL), 10)}, idle())
	c.Image = o.FetchImage
	c.Command, c.Args = c.Args, nil
	c.VolumeMounts[0].ReadOnly = true
	pod := podSpec(o, "fetch")
	pod.Containers = []corev1.Container{c}
	// SIGTERM does not stop sleep as pid 1; nothing is lost by killing it.
	pod.TerminationGracePeriodSeconds = new(int64(0))
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: objectMeta(o, o.Name+fetchSuffix, "fetch"),
		Spec:       pod,
	}
}

// networkPolicy lets nothing connect to the run's pods and lets them
// reach DNS and any TCP port: the target may be outside the cluster, and
// a Service's port is translated to its pods' before a policy sees it, so
// the target URL's port is not the one to allow.
func networkPolicy(o Options) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: objectMeta(o, o.Name, "network"),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{
				"app.kubernetes.io/name":     "taskready-harness",
				"app.kubernetes.io/instance": o.Name,
			}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{
				{Ports: []networkingv1.NetworkPolicyPort{{Protocol: new(corev1.ProtocolUDP), Port: new(intstr.FromInt32(53))}}},
				{Ports: []networkingv1.NetworkPolicyPort{{Protocol: new(corev1.ProtocolTCP)}}},
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
			{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: new(resource.MustParse(tmpSize))}}},
		},
	}
}

func container(o Options, name string, args []string, res corev1.ResourceRequirements) corev1.Container {
	return corev1.Container{
		Name:  name,
		Image: o.Image,
		Args:  args,
		// Always: the registry is asked whether the tag still names the
		// same image, and the pod's pull credentials are checked on every
		// node; layers the node has are not downloaded again.
		ImagePullPolicy: corev1.PullAlways,
		Resources:       res,
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
