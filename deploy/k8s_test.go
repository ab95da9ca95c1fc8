package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/taskready/taskready/internal/kubescore"
	"github.com/taskready/taskready/service/config"
	"github.com/taskready/taskready/service/httpapi"
)

const (
	manifestDir   = "k8s"
	secretExample = "secret.example.yaml"
	kustomization = "kustomization.yaml"
)

// kustomizationFile is the part of kustomize's Kustomization these
// manifests use; strict decoding fails on any other field, so adding one
// means extending this.
type kustomizationFile struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
}

// manifests is deploy/k8s decoded strictly into the typed objects: a
// misspelt field would otherwise be dropped silently by the API server.
type manifests struct {
	files       []string // every manifest but the kustomization and the example
	deployments []appsv1.Deployment
	services    []corev1.Service
	hpas        []autoscalingv2.HorizontalPodAutoscaler
	pdbs        []policyv1.PodDisruptionBudget
	netpols     []networkingv1.NetworkPolicy
	kustomize   kustomizationFile
}

func load(t *testing.T) manifests {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(manifestDir, "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests in %s: %v", manifestDir, err)
	}
	var m manifests
	for _, path := range paths {
		name := filepath.Base(path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		switch name {
		case kustomization:
			strict(t, path, data, &m.kustomize)
			continue
		case secretExample:
			continue // decoded by TestSecretExample
		}
		m.files = append(m.files, name)
		for _, doc := range documents(t, path, data) {
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &tm); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			switch tm.APIVersion + " " + tm.Kind {
			case "apps/v1 Deployment":
				var d appsv1.Deployment
				strict(t, path, doc, &d)
				m.deployments = append(m.deployments, d)
			case "v1 Service":
				var s corev1.Service
				strict(t, path, doc, &s)
				m.services = append(m.services, s)
			case "autoscaling/v2 HorizontalPodAutoscaler":
				var h autoscalingv2.HorizontalPodAutoscaler
				strict(t, path, doc, &h)
				m.hpas = append(m.hpas, h)
			case "policy/v1 PodDisruptionBudget":
				var p policyv1.PodDisruptionBudget
				strict(t, path, doc, &p)
				m.pdbs = append(m.pdbs, p)
			case "networking.k8s.io/v1 NetworkPolicy":
				var n networkingv1.NetworkPolicy
				strict(t, path, doc, &n)
				m.netpols = append(m.netpols, n)
			default:
				t.Fatalf("%s: unexpected %s %s; teach this test about it", path, tm.APIVersion, tm.Kind)
			}
		}
	}
	return m
}

// documents splits a multi-document file, skipping the ones that hold
// only comments.
func documents(t *testing.T, path string, data []byte) [][]byte {
	t.Helper()
	var docs [][]byte
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var v any
		if err := yaml.Unmarshal(doc, &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if v != nil {
			docs = append(docs, doc)
		}
	}
}

func strict(t *testing.T, path string, doc []byte, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(doc, into); err != nil {
		t.Fatalf("%s: strict decode into %T: %v", path, into, err)
	}
}

// the returns the only object of a kind.
func the[T any](t *testing.T, kind string, objs []T) T {
	t.Helper()
	if len(objs) != 1 {
		t.Fatalf("%d %s manifests; want 1", len(objs), kind)
	}
	return objs[0]
}

func apiContainer(t *testing.T, d appsv1.Deployment) corev1.Container {
	t.Helper()
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == "taskapi" {
			return c
		}
	}
	t.Fatalf("deployment %s has no taskapi container", d.Name)
	return corev1.Container{}
}

func envValue(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom == nil {
			return e.Value, true
		}
	}
	return "", false
}

// servedGETs are the paths the API serves, from its OpenAPI document, which
// service/httpapi's tests keep in step with its routes.
func servedGETs(t *testing.T) map[string]bool {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(httpapi.OpenAPIDocument, &doc); err != nil {
		t.Fatalf("the API's OpenAPI document: %v", err)
	}
	gets := map[string]bool{}
	for path, ops := range doc.Paths {
		if _, ok := ops["get"]; ok {
			gets[path] = true
		}
	}
	return gets
}

func TestDeploymentProbes(t *testing.T) {
	m := load(t)
	d := the(t, "Deployment", m.deployments)
	c := apiContainer(t, d)
	served := servedGETs(t)

	port := strconv.Itoa(config.DefaultPort)
	if v, ok := envValue(c, "PORT"); ok {
		port = v
	}
	i := slices.IndexFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "http" })
	if i < 0 {
		t.Fatalf("container ports %+v: none named http", c.Ports)
	}
	if got := strconv.Itoa(int(c.Ports[i].ContainerPort)); got != port {
		t.Errorf("containerPort http = %s; the API listens on %s (PORT)", got, port)
	}

	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		// Liveness and startup must not depend on the stores: /healthz.
		// Readiness must: /readyz turns 503 when MongoDB is unreachable.
		{"startup", c.StartupProbe, "/healthz"},
		{"liveness", c.LivenessProbe, "/healthz"},
		{"readiness", c.ReadinessProbe, "/readyz"},
	} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s probe = %+v; want an HTTP GET", p.name, p.probe)
			continue
		}
		g := p.probe.HTTPGet
		if g.Path != p.path || !served[g.Path] {
			t.Errorf("%s probe path = %q; want %q, which the API serves (it serves %v)", p.name, g.Path, p.path, slices.Sorted(maps.Keys(served)))
		}
		if g.Port.String() != "http" {
			t.Errorf("%s probe port = %s; want the named port http", p.name, g.Port.String())
		}
	}
	if s := c.StartupProbe; s != nil {
		if budget := time.Duration(s.PeriodSeconds*s.FailureThreshold) * time.Second; budget < time.Minute {
			t.Errorf("startup probe allows %s; want at least a minute for the first index build", budget)
		}
	}
}

func TestDeploymentShutdown(t *testing.T) {
	d := the(t, "Deployment", load(t).deployments)
	c := apiContainer(t, d)
	grace := config.DefaultShutdown
	if v, ok := envValue(c, "SHUTDOWN_GRACE"); ok {
		var err error
		if grace, err = time.ParseDuration(v); err != nil {
			t.Fatalf("SHUTDOWN_GRACE %q: %v", v, err)
		}
	}
	var preStop time.Duration
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		t.Errorf("no preStop sleep: endpoints would still route to a stopping pod")
	} else {
		preStop = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	}
	tgps := d.Spec.Template.Spec.TerminationGracePeriodSeconds
	if tgps == nil {
		t.Fatal("terminationGracePeriodSeconds unset")
	}
	// The kubelet's clock starts before preStop; the stores close after
	// the grace, so the pod needs strictly more than the two.
	if got, least := time.Duration(*tgps)*time.Second, preStop+grace; got <= least {
		t.Errorf("terminationGracePeriodSeconds = %s; want more than preStop %s + SHUTDOWN_GRACE %s", got, preStop, grace)
	}
}

func TestDeploymentHardened(t *testing.T) {
	d := the(t, "Deployment", load(t).deployments)
	pod := d.Spec.Template.Spec
	c := apiContainer(t, d)

	for name, r := range map[string]corev1.ResourceList{"requests": c.Resources.Requests, "limits": c.Resources.Limits} {
		if r.Cpu().IsZero() || r.Memory().IsZero() {
			t.Errorf("resources.%s = %v; want cpu and memory", name, r)
		}
	}

	// The container's settings win over the pod's; check what applies.
	sc := c.SecurityContext
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	psc := pod.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	nonRoot := first(sc.RunAsNonRoot, psc.RunAsNonRoot)
	uid := first(sc.RunAsUser, psc.RunAsUser)
	seccomp := sc.SeccompProfile
	if seccomp == nil {
		seccomp = psc.SeccompProfile
	}
	switch {
	case nonRoot == nil || !*nonRoot:
		t.Error("runAsNonRoot is not true")
	case uid == nil || *uid != 65532:
		t.Errorf("runAsUser = %v; want 65532, the image's nonroot user", uid)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem is not true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("capabilities = %+v; want drop [ALL] and nothing added", sc.Capabilities)
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("seccompProfile = %+v; want RuntimeDefault", seccomp)
	}

	if len(pod.TopologySpreadConstraints) == 0 {
		t.Error("no topologySpreadConstraints: every replica could land on one node")
	}
	for _, tsc := range pod.TopologySpreadConstraints {
		if !selects(t, tsc.LabelSelector, d.Spec.Template.Labels) {
			t.Errorf("topology spread on %s does not select the API's pods", tsc.TopologyKey)
		}
	}
	for _, key := range []string{"prometheus.io/scrape", "prometheus.io/port", "prometheus.io/path"} {
		if d.Spec.Template.Annotations[key] == "" {
			t.Errorf("pod annotation %s missing", key)
		}
	}
	// Prometheus scrapes the metrics listener (METRICS_ADDR), which must
	// listen beyond loopback for another pod to reach it; the API port
	// does not serve /metrics.
	if got := d.Spec.Template.Annotations["prometheus.io/path"]; got != "/metrics" {
		t.Errorf("prometheus.io/path = %q; want /metrics", got)
	}
	addr, _ := envValue(c, "METRICS_ADDR")
	host, metricsPort, err := net.SplitHostPort(addr)
	if err != nil || (host != "0.0.0.0" && host != "") {
		t.Errorf("METRICS_ADDR = %q; want 0.0.0.0:PORT, so that Prometheus in another pod can scrape it", addr)
	}
	if got := d.Spec.Template.Annotations["prometheus.io/port"]; got != metricsPort {
		t.Errorf("prometheus.io/port = %q; want METRICS_ADDR's port %q", got, metricsPort)
	}
	if i := slices.IndexFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "metrics" }); i < 0 || strconv.Itoa(int(c.Ports[i].ContainerPort)) != metricsPort {
		t.Errorf("container ports %+v: want one named metrics on METRICS_ADDR's port %q", c.Ports, metricsPort)
	}

	for _, key := range []string{"JWT_SECRET", "MONGODB_URI", "REDIS_URL"} {
		i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == key })
		if i < 0 || c.Env[i].ValueFrom == nil || c.Env[i].ValueFrom.SecretKeyRef == nil || c.Env[i].ValueFrom.SecretKeyRef.Name != "taskapi" {
			t.Errorf("%s does not come from the Secret taskapi", key)
		}
	}
	if v, _ := envValue(c, "APP_ENV"); v != config.Production {
		t.Errorf("APP_ENV = %q; want %q", v, config.Production)
	}
}

func first[T any](ps ...*T) *T {
	for _, p := range ps {
		if p != nil {
			return p
		}
	}
	return nil
}

func selects(t *testing.T, sel *metav1.LabelSelector, podLabels map[string]string) bool {
	t.Helper()
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatalf("selector %+v: %v", sel, err)
	}
	return !s.Empty() && s.Matches(labels.Set(podLabels))
}

func TestServiceHPAAndPDB(t *testing.T) {
	m := load(t)
	d := the(t, "Deployment", m.deployments)
	podLabels := d.Spec.Template.Labels
	if !selects(t, d.Spec.Selector, podLabels) {
		t.Fatal("the Deployment's selector does not match its own pods")
	}
	// The HPA owns the count: a count in the Deployment would be applied
	// again by every kubectl apply, snapping a scaled-out Deployment back.
	if d.Spec.Replicas != nil {
		t.Errorf("Deployment sets replicas %d; leave the count to the HorizontalPodAutoscaler", *d.Spec.Replicas)
	}

	svc := the(t, "Service", m.services)
	if svc.Spec.Selector == nil || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(podLabels)) {
		t.Errorf("Service selector %v does not match the pods' labels %v", svc.Spec.Selector, podLabels)
	}
	for _, p := range svc.Spec.Ports {
		if p.TargetPort.String() != "http" {
			t.Errorf("Service port %s targets %s; want the named port http", p.Name, p.TargetPort.String())
		}
	}
	if len(svc.Spec.Ports) == 0 {
		t.Error("Service has no ports")
	}

	hpa := the(t, "HorizontalPodAutoscaler", m.hpas)
	ref := hpa.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != d.Name {
		t.Errorf("HPA targets %s %s %s; want apps/v1 Deployment %s", ref.APIVersion, ref.Kind, ref.Name, d.Name)
	}
	if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2 || *hpa.Spec.MinReplicas > hpa.Spec.MaxReplicas {
		t.Fatalf("HPA min %v, max %d; want 2 <= min <= max", hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
	}
	replicas := *hpa.Spec.MinReplicas
	cpu := slices.IndexFunc(hpa.Spec.Metrics, func(ms autoscalingv2.MetricSpec) bool {
		return ms.Resource != nil && ms.Resource.Name == corev1.ResourceCPU && ms.Resource.Target.AverageUtilization != nil
	})
	if cpu < 0 {
		t.Errorf("HPA metrics %+v: no CPU utilisation target", hpa.Spec.Metrics)
	}

	pdb := the(t, "PodDisruptionBudget", m.pdbs)
	if !selects(t, pdb.Spec.Selector, podLabels) {
		t.Errorf("PDB selector %+v does not match the pods' labels %v", pdb.Spec.Selector, podLabels)
	}
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() >= int(replicas) {
		t.Errorf("PDB minAvailable %v; want fewer than the %d replicas, or nothing could ever be evicted", pdb.Spec.MinAvailable, replicas)
	}
}

func TestNetworkPolicy(t *testing.T) {
	m := load(t)
	d := the(t, "Deployment", m.deployments)
	np := the(t, "NetworkPolicy", m.netpols)
	if !selects(t, &np.Spec.PodSelector, d.Spec.Template.Labels) {
		t.Fatalf("NetworkPolicy selector %+v does not match the pods' labels %v", np.Spec.PodSelector, d.Spec.Template.Labels)
	}
	if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
		t.Errorf("policyTypes %v; want Ingress and Egress", np.Spec.PolicyTypes)
	}
	// Every port the policy lets in is one the container declares: a
	// misspelt named port would silently admit nothing.
	declared := map[string]bool{}
	for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
		declared[p.Name] = true
	}
	var in []string
	for _, rule := range np.Spec.Ingress {
		if len(rule.From) == 0 {
			t.Errorf("ingress rule %+v admits every source", rule)
		}
		for _, p := range rule.Ports {
			if !declared[p.Port.String()] {
				t.Errorf("ingress port %s is not a port the container declares (%v)", p.Port, declared)
			}
			in = append(in, p.Port.String())
		}
	}
	if !slices.Contains(in, "http") || !slices.Contains(in, "metrics") {
		t.Errorf("ingress ports %v; want http (the ingress) and metrics (Prometheus)", in)
	}
	var out []int
	for _, rule := range np.Spec.Egress {
		for _, p := range rule.Ports {
			out = append(out, p.Port.IntValue())
		}
	}
	for _, port := range []int{53, 27017, 6379, 26379} {
		if !slices.Contains(out, port) {
			t.Errorf("egress ports %v lack %d (DNS, MongoDB, Redis, Redis Sentinel)", out, port)
		}
	}
}

// TestKubeScore runs kube-score over what `kubectl apply -k deploy/k8s`
// applies: the kustomization's resources, concatenated, which is all
// kustomize does with a kustomization that only lists resources (the
// strict decode in load fails on any other field, so adding a patch or an
// images: entry means rendering with kustomize here).
func TestKubeScore(t *testing.T) {
	m := load(t)
	var stream bytes.Buffer
	for _, name := range m.kustomize.Resources {
		data, err := os.ReadFile(filepath.Join(manifestDir, name))
		if err != nil {
			t.Fatal(err)
		}
		stream.WriteString("---\n")
		stream.Write(data)
	}
	kubescore.AssertNoCritical(t, manifestDir, stream.Bytes())
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	m := load(t)
	k := m.kustomize
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("kustomization is %s %s", k.APIVersion, k.Kind)
	}
	if got, want := slices.Sorted(slices.Values(k.Resources)), m.files; !slices.Equal(got, want) {
		t.Errorf("kustomization resources %v; want every manifest but the example: %v", got, want)
	}
	if slices.Contains(k.Resources, secretExample) {
		t.Errorf("the kustomization applies %s: its placeholders would replace the real Secret", secretExample)
	}
}

func TestSecretExample(t *testing.T) {
	path := filepath.Join(manifestDir, secretExample)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s corev1.Secret
	strict(t, path, data, &s)
	if s.Kind != "Secret" || s.Name != "taskapi" {
		t.Fatalf("%s is %s %s; want the Secret taskapi", path, s.Kind, s.Name)
	}
	for _, key := range []string{"JWT_SECRET", "MONGODB_URI", "REDIS_URL"} {
		if s.StringData[key] == "" {
			t.Errorf("%s lacks %s", path, key)
		}
	}
	if !strings.Contains(string(data), "kubectl") {
		t.Errorf("%s does not say how to create the real Secret", path)
	}
	// The placeholder must never pass for a real secret in production.
	_, err = config.Load(func(k string) string {
		if k == "APP_ENV" {
			return config.Production
		}
		return s.StringData[k]
	})
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Errorf("the API accepts the example's JWT_SECRET in production (err %v)", err)
	}
}
