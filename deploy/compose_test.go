package deploy

import (
	"context"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"

	"github.com/taskready/taskready/service/config"
)

// projectName is the compose file's own name, which the loader must agree
// with.
const projectName = "taskready"

// secret stands in for `openssl rand -base64 48`.
const secret = "q3Vt8-Zk1pR7wLx0mN4bY6cH2sJ9dF5gT1aE8uK3oQ7iW0zX"

// root is the repository root, where docker-compose.yml sits.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatalf("repository root: %v", err)
	}
	return dir
}

// load loads the compose file as `docker compose` would with env as the
// whole environment (nothing leaks in from the test's own) and profiles
// enabled.
func load(t *testing.T, env map[string]string, profiles ...string) (*types.Project, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	dir := root(t)
	return loader.LoadWithContext(ctx, types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "docker-compose.yml")}},
		Environment: env,
	}, func(o *loader.Options) {
		o.SetProjectName(projectName, true)
		o.Profiles = profiles
	})
}

// mustLoad loads with JWT_SECRET set and every profile enabled, merging
// extra into the environment.
func mustLoad(t *testing.T, extra map[string]string) *types.Project {
	t.Helper()
	env := map[string]string{"JWT_SECRET": secret}
	for k, v := range extra {
		env[k] = v
	}
	p, err := load(t, env, "*")
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("service %s: %v", name, err)
	}
	return s
}

// apiServices are the services built from the Dockerfile's api target.
func apiServices(p *types.Project) []string {
	var names []string
	for name, s := range p.Services {
		if s.Build != nil && s.Build.Target == "api" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// envOf returns the value of key in s's environment, or "".
func envOf(s types.ServiceConfig, key string) string {
	if v := s.Environment[key]; v != nil {
		return *v
	}
	return ""
}

func TestComposeServices(t *testing.T) {
	t.Parallel()
	p, err := load(t, map[string]string{"JWT_SECRET": secret})
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	if p.Name != projectName {
		t.Errorf("project name = %q; want %q", p.Name, projectName)
	}
	want := []string{
		"api1", "api2", "api3", "blackbox-exporter", "certs", "grafana", "mongo-init", "mongo1", "mongo2", "mongo3", "mongodb-exporter", "nginx", "prometheus",
		"redis-exporter", "redis-primary", "redis-replica", "redis-sentinel1", "redis-sentinel2", "redis-sentinel3",
	}
	if got := p.ServiceNames(); !slices.Equal(got, want) {
		t.Errorf("services without a profile = %v; want %v", got, want)
	}
	if got, want := p.DisabledServiceNames(), []string{"harness"}; !slices.Equal(got, want) {
		t.Errorf("services behind a profile = %v; want %v", got, want)
	}
	if got, want := apiServices(p), []string{"api1", "api2", "api3"}; !slices.Equal(got, want) {
		t.Errorf("services built from the api target = %v; want %v", got, want)
	}

	all := mustLoad(t, nil)
	for name, s := range all.Services {
		if _, ok := s.Networks["taskready"]; !ok {
			t.Errorf("%s is not on the taskready network (networks %v)", name, s.Networks)
		}
	}
}

func TestComposeHarnessOnlyInLoadtestProfile(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		profiles []string
		enabled  bool
	}{
		{nil, false},
		{[]string{"monitoring"}, false},
		{[]string{"loadtest"}, true},
	} {
		p, err := load(t, map[string]string{"JWT_SECRET": secret}, tt.profiles...)
		if err != nil {
			t.Fatalf("load with profiles %v: %v", tt.profiles, err)
		}
		if _, err := p.GetService("harness"); (err == nil) != tt.enabled {
			t.Errorf("profiles %v: harness enabled = %v; want %v", tt.profiles, err == nil, tt.enabled)
		}
	}
	p := mustLoad(t, nil)
	for name, s := range p.Services {
		want := []string(nil)
		if name == "harness" {
			want = []string{"loadtest"}
		}
		if !slices.Equal(s.Profiles, want) {
			t.Errorf("%s profiles = %v; want %v", name, s.Profiles, want)
		}
	}
	h := service(t, p, "harness")
	if h.Build == nil || h.Build.Target != "harness" {
		t.Errorf("harness build = %+v; want the Dockerfile's harness target", h.Build)
	}
	if got, want := []string(h.Entrypoint), []string{"/harness"}; !slices.Equal(got, want) {
		t.Errorf("harness entrypoint = %v; want %v", got, want)
	}
}

// oneShot reports the services others wait on to complete: they exit, so
// a health check means nothing for them.
func oneShot(p *types.Project) map[string]bool {
	done := map[string]bool{}
	for _, s := range p.Services {
		for dep, d := range s.DependsOn {
			if d.Condition == types.ServiceConditionCompletedSuccessfully {
				done[dep] = true
			}
		}
	}
	return done
}

// noHealthCheck are the long-running services without a health check,
// and why none can be: nothing may wait on them.
var noHealthCheck = map[string]string{
	"mongodb-exporter": "its image is FROM scratch, with no program to check with; Prometheus's up{job=\"mongodb\"} is its health",
}

func TestComposeHealthChecks(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, nil)
	once := oneShot(p)
	if !once["mongo-init"] {
		t.Errorf("mongo-init is not waited on to complete; one-shot services: %v", once)
	}
	for name, s := range p.Services {
		// The harness is a run, not a server: it ends when the run does.
		if once[name] || name == "harness" {
			continue
		}
		if why, ok := noHealthCheck[name]; ok {
			if s.HealthCheck != nil && !s.HealthCheck.Disable {
				t.Errorf("%s has a health check; drop it from noHealthCheck (%s)", name, why)
			}
			for other, o := range p.Services {
				if _, waits := o.DependsOn[name]; waits {
					t.Errorf("%s depends on %s, which has no health check (%s)", other, name, why)
				}
			}
			continue
		}
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0 {
			t.Errorf("%s has no health check; every long-running service needs one for depends_on to mean anything", name)
		}
	}
}

func TestComposeDependsOn(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, nil)
	const healthy, completed = types.ServiceConditionHealthy, types.ServiceConditionCompletedSuccessfully
	type dependency struct{ service, dependency, condition string }
	tests := []dependency{
		{"mongo-init", "mongo1", healthy},
		{"mongo-init", "mongo2", healthy},
		{"mongo-init", "mongo3", healthy},
		{"redis-replica", "redis-primary", healthy},
		{"redis-sentinel1", "redis-primary", healthy},
		{"nginx", "api1", healthy},
		{"nginx", "api2", healthy},
		{"nginx", "api3", healthy},
		{"nginx", "certs", completed},
		{"grafana", "prometheus", healthy},
		{"harness", "nginx", healthy},
		{"blackbox-exporter", "certs", completed},
		{"mongodb-exporter", "mongo-init", completed},
	}
	for _, api := range apiServices(p) {
		tests = append(tests,
			dependency{api, "mongo-init", completed},
			dependency{api, "redis-sentinel1", healthy},
			dependency{api, "redis-sentinel2", healthy},
			dependency{api, "redis-sentinel3", healthy},
		)
	}
	for _, tt := range tests {
		s := service(t, p, tt.service)
		d, ok := s.DependsOn[tt.dependency]
		switch {
		case !ok:
			t.Errorf("%s does not depend on %s (depends_on %v)", tt.service, tt.dependency, s.DependsOn)
		case d.Condition != tt.condition:
			t.Errorf("%s depends on %s with condition %q; want %q", tt.service, tt.dependency, d.Condition, tt.condition)
		}
	}
}

func TestComposePorts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       map[string]string
		service   string
		published string
		target    uint32
	}{
		{"nginx", nil, "nginx", "8080", 8080},
		{"nginx on API_PORT", map[string]string{"API_PORT": "18080"}, "nginx", "18080", 8080},
		{"nginx over TLS", nil, "nginx", "8443", 8443},
		{"nginx over TLS on API_TLS_PORT", map[string]string{"API_TLS_PORT": "18443"}, "nginx", "18443", 8443},
		{"prometheus", nil, "prometheus", "9090", 9090},
		{"grafana", nil, "grafana", "3000", 3000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := service(t, mustLoad(t, tt.env), tt.service)
			for _, port := range s.Ports {
				if port.Published == tt.published && port.Target == tt.target {
					return
				}
			}
			t.Errorf("%s ports = %+v; want %s:%d published", tt.service, s.Ports, tt.published, tt.target)
		})
	}
	// Nothing else is published: the stores and the APIs are reached only
	// through the network.
	p := mustLoad(t, nil)
	for name, s := range p.Services {
		if len(s.Ports) > 0 && !slices.Contains([]string{"nginx", "prometheus", "grafana"}, name) {
			t.Errorf("%s publishes %+v; only nginx, prometheus and grafana should", name, s.Ports)
		}
	}
}

func TestComposeAPIEnvironment(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, nil)
	sentinelConf := read(t, "redis/sentinel.conf")
	nginxIP := service(t, p, "nginx").Networks["taskready"].Ipv4Address
	_, subnet, err := net.ParseCIDR(p.Networks["taskready"].Ipam.Config[0].Subnet)
	if err != nil {
		t.Fatalf("taskready network subnet: %v", err)
	}
	if ip := net.ParseIP(nginxIP); ip == nil || !subnet.Contains(ip) {
		t.Fatalf("nginx address %q is not in the network's subnet %v", nginxIP, subnet)
	}
	if r := p.Networks["taskready"].Ipam.Config[0].IPRange; r != "" {
		if _, dynamic, err := net.ParseCIDR(r); err != nil || dynamic.Contains(net.ParseIP(nginxIP)) {
			t.Errorf("nginx address %s is inside the dynamic range %s (%v): another container may take it first", nginxIP, r, err)
		}
	}

	for _, name := range apiServices(p) {
		s := service(t, p, name)
		get := func(key string) string { return envOf(s, key) }
		checks := []struct {
			key, got string
			ok       bool
			want     string
		}{
			{"APP_ENV", get("APP_ENV"), get("APP_ENV") == config.Production, "production"},
			{"JWT_SECRET", get("JWT_SECRET"), get("JWT_SECRET") == secret, "the exported JWT_SECRET"},
			{"MONGODB_URI", get("MONGODB_URI"), strings.Contains(get("MONGODB_URI"), "replicaSet=rs0"), "a replicaSet=rs0 URI"},
			{"MONGODB_URI", get("MONGODB_URI"), mongoHostsAreServices(p, get("MONGODB_URI")), "every host a mongo service on :27017"},
			{"REDIS_SENTINELS", get("REDIS_SENTINELS"), sentinelsAreServices(p, get("REDIS_SENTINELS")), "three sentinel services on :26379"},
			{"REDIS_SENTINEL_MASTER", get("REDIS_SENTINEL_MASTER"), strings.Contains(sentinelConf, "sentinel monitor "+get("REDIS_SENTINEL_MASTER")+" redis-primary 6379 "), "the master sentinel.conf monitors"},
			{"TRUSTED_PROXIES", get("TRUSTED_PROXIES"), get("TRUSTED_PROXIES") == nginxIP, "nginx's address " + nginxIP},
		}
		for _, c := range checks {
			if !c.ok {
				t.Errorf("%s %s = %q; want %s", name, c.key, c.got, c.want)
			}
		}

		// The API itself accepts this environment as a production one.
		cfg, err := config.Load(func(k string) string { return get(k) })
		if err != nil {
			t.Errorf("%s: config.Load(its environment): %v", name, err)
			continue
		}
		if cfg.MongoDB != config.DefaultDatabase {
			t.Errorf("%s uses database %q; the harness seeds %q", name, cfg.MongoDB, config.DefaultDatabase)
		}
		if got, want := cfg.BodyLimit, nginxBodyLimit(t); got != want {
			t.Errorf("%s BODY_LIMIT = %d bytes; nginx's client_max_body_size is %d", name, got, want)
		}
	}
}

func mongoHostsAreServices(p *types.Project, uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "mongodb" {
		return false
	}
	hosts := strings.Split(u.Host, ",")
	for _, h := range hosts {
		name, port, err := net.SplitHostPort(h)
		if err != nil || port != "27017" || !strings.HasPrefix(name, "mongo") {
			return false
		}
		if _, err := p.GetService(name); err != nil {
			return false
		}
	}
	return len(hosts) == 3
}

func sentinelsAreServices(p *types.Project, list string) bool {
	addrs := strings.Split(list, ",")
	for _, a := range addrs {
		name, port, err := net.SplitHostPort(a)
		if err != nil || port != "26379" {
			return false
		}
		s, err := p.GetService(name)
		if err != nil || !slices.ContainsFunc(s.Command, func(arg string) bool { return strings.Contains(arg, "--sentinel") }) {
			return false
		}
	}
	return len(addrs) == 3
}

// nginxBodyLimit is client_max_body_size in bytes.
func nginxBodyLimit(t *testing.T) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*client_max_body_size\s+(\d+)([km]?);`).FindStringSubmatch(read(t, "nginx/nginx.conf"))
	if m == nil {
		t.Fatal("nginx.conf sets no client_max_body_size")
	}
	n, _ := strconv.Atoi(m[1])
	return n << map[string]int{"": 0, "k": 10, "m": 20}[m[2]]
}

func TestComposeNginx(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, nil)
	conf := read(t, "nginx/nginx.conf")
	for _, api := range apiServices(p) {
		if !regexp.MustCompile(`(?m)^\s*server\s+` + api + `:5000\b`).MatchString(conf) {
			t.Errorf("nginx.conf's upstream does not list %s:5000", api)
		}
	}
	if !strings.Contains(conf, "location = /nginx-health") {
		t.Error("nginx.conf has no /nginx-health location")
	}
	if !regexp.MustCompile(`proxy_set_header\s+X-Forwarded-For\s`).MatchString(conf) {
		t.Error("nginx.conf does not set X-Forwarded-For: the APIs would see nginx as every client")
	}
	// The harness's target and the published ports meet nginx where it
	// listens: HTTPS for the harness, and both for clients.
	plain := regexp.MustCompile(`(?m)^\s*listen\s+(\d+);`).FindStringSubmatch(conf)
	tls := regexp.MustCompile(`(?m)^\s*listen\s+(\d+)\s+ssl;`).FindStringSubmatch(conf)
	if plain == nil || tls == nil {
		t.Fatal("nginx.conf lacks a plain-HTTP or an ssl listen port")
	}
	target := flagValue(service(t, p, "harness").Command, "-target")
	if want := "https://nginx:" + tls[1]; target != want {
		t.Errorf("harness -target = %q; want %q (where nginx serves HTTPS)", target, want)
	}
	var published []string
	for _, port := range service(t, p, "nginx").Ports {
		published = append(published, strconv.Itoa(int(port.Target)))
	}
	if slices.Sort(published); !slices.Equal(published, []string{plain[1], tls[1]}) {
		t.Errorf("nginx publishes %v; want the ports nginx listens on, %s and %s", published, plain[1], tls[1])
	}
}

func TestComposeGrafana(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, nil)
	g := service(t, p, "grafana")
	dir := root(t)

	provider := struct {
		Providers []struct {
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}{}
	parse(t, "grafana/provisioning/dashboards/dashboards.yml", &provider)
	if len(provider.Providers) != 1 || provider.Providers[0].Type != "file" {
		t.Fatalf("dashboards.yml providers = %+v; want one file provider", provider.Providers)
	}
	dashboards := provider.Providers[0].Options.Path

	mounts := []struct {
		source, target string
	}{
		{filepath.Join(dir, "dashboards"), dashboards},
		{filepath.Join(dir, "deploy/grafana/provisioning/datasources"), "/etc/grafana/provisioning/datasources"},
		{filepath.Join(dir, "deploy/grafana/provisioning/dashboards"), "/etc/grafana/provisioning/dashboards"},
	}
	for _, m := range mounts {
		i := slices.IndexFunc(g.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == m.target })
		switch {
		case i < 0:
			t.Errorf("grafana mounts nothing at %s (volumes %+v)", m.target, g.Volumes)
		case g.Volumes[i].Source != m.source || g.Volumes[i].Type != types.VolumeTypeBind || !g.Volumes[i].ReadOnly:
			t.Errorf("grafana mounts %+v at %s; want %s bound read-only", g.Volumes[i], m.target, m.source)
		}
		if fi, err := os.Stat(m.source); err != nil || !fi.IsDir() {
			t.Errorf("grafana's mount source %s is not a directory: %v", m.source, err)
		}
	}

	ds := struct {
		Datasources []struct {
			UID       string `yaml:"uid"`
			Type      string `yaml:"type"`
			URL       string `yaml:"url"`
			IsDefault bool   `yaml:"isDefault"`
		} `yaml:"datasources"`
	}{}
	parse(t, "grafana/provisioning/datasources/prometheus.yml", &ds)
	if len(ds.Datasources) != 1 {
		t.Fatalf("datasources = %+v; want one", ds.Datasources)
	}
	// The dashboards name their data source by this uid and type.
	d := ds.Datasources[0]
	if d.UID != "prometheus" || d.Type != "prometheus" || !d.IsDefault {
		t.Errorf("data source = %+v; want uid prometheus, type prometheus, the default", d)
	}
	if u, err := url.Parse(d.URL); err != nil || u.Port() != "9090" {
		t.Errorf("data source url %q: want prometheus on :9090 (%v)", d.URL, err)
	} else if _, err := p.GetService(u.Hostname()); err != nil {
		t.Errorf("data source url %q names no service: %v", d.URL, err)
	}

	for _, kv := range [][2]string{{"GF_AUTH_ANONYMOUS_ENABLED", "true"}, {"GF_AUTH_ANONYMOUS_ORG_ROLE", "Viewer"}, {"GF_SECURITY_ADMIN_PASSWORD", "admin"}} {
		if got := envOf(g, kv[0]); got != kv[1] {
			t.Errorf("grafana %s = %q; want %q", kv[0], got, kv[1])
		}
	}
	if got := envOf(service(t, mustLoad(t, map[string]string{"GRAFANA_ADMIN_PASSWORD": "s3cret"}), "grafana"), "GF_SECURITY_ADMIN_PASSWORD"); got != "s3cret" {
		t.Errorf("grafana admin password with GRAFANA_ADMIN_PASSWORD=s3cret = %q", got)
	}
}

func TestComposeImageVariables(t *testing.T) {
	t.Parallel()
	tests := []struct {
		variable string
		services []string
		build    bool // a build argument rather than the image
	}{
		{"MONGO_IMAGE", []string{"mongo1", "mongo2", "mongo3", "mongo-init"}, false},
		{"REDIS_IMAGE", []string{"redis-primary", "redis-replica", "redis-sentinel1", "redis-sentinel2", "redis-sentinel3"}, false},
		{"NGINX_IMAGE", []string{"nginx"}, false},
		{"PROMETHEUS_IMAGE", []string{"prometheus"}, false},
		{"GRAFANA_IMAGE", []string{"grafana"}, false},
		{"BLACKBOX_EXPORTER_IMAGE", []string{"blackbox-exporter"}, false},
		{"REDIS_EXPORTER_IMAGE", []string{"redis-exporter"}, false},
		{"MONGODB_EXPORTER_IMAGE", []string{"mongodb-exporter"}, false},
		{"GO_IMAGE", []string{"api1", "api2", "api3", "harness", "certs"}, true},
		{"RUNTIME_IMAGE", []string{"api1", "api2", "api3", "harness", "certs"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.variable, func(t *testing.T) {
			t.Parallel()
			value := "registry.local/" + strings.ToLower(tt.variable) + ":test"
			p := mustLoad(t, map[string]string{tt.variable: value})
			for _, name := range tt.services {
				s := service(t, p, name)
				got := s.Image
				if tt.build {
					got = ""
					if s.Build != nil && s.Build.Args[tt.variable] != nil {
						got = *s.Build.Args[tt.variable]
					}
				}
				if got != value {
					t.Errorf("%s with %s=%s: got %q", name, tt.variable, value, got)
				}
			}
		})
	}
	// The defaults are the official images, as the Dockerfile's are.
	p := mustLoad(t, nil)
	for name, want := range map[string]string{"prometheus": "prom/prometheus:v2.53.0", "grafana": "grafana/grafana:11.3.0", "mongo1": "mongo:7",
		"blackbox-exporter": "prom/blackbox-exporter:v0.25.0", "redis-exporter": "oliver006/redis_exporter:v1.62.0-alpine", "mongodb-exporter": "percona/mongodb_exporter:0.40"} {
		if got := service(t, p, name).Image; got != want {
			t.Errorf("%s image = %q; want %q", name, got, want)
		}
	}
}

func TestComposeRequiresJWTSecret(t *testing.T) {
	t.Parallel()
	for _, env := range []map[string]string{{}, {"JWT_SECRET": ""}} {
		_, err := load(t, env)
		if err == nil {
			t.Errorf("load with %v: no error; want one asking for JWT_SECRET", env)
			continue
		}
		if !strings.Contains(err.Error(), "JWT_SECRET") {
			t.Errorf("load with %v: error %q does not name JWT_SECRET", env, err)
		}
	}
}

func TestPrometheusScrapesTheStack(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, nil)
	var prom struct {
		Global struct {
			ScrapeInterval string `yaml:"scrape_interval"`
		} `yaml:"global"`
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	parse(t, "prometheus/prometheus.yml", &prom)
	if got, want := prom.Global.ScrapeInterval, "5s"; got != want {
		t.Errorf("scrape_interval = %q; want %q", got, want)
	}
	targets := map[string][]string{}
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			targets[sc.JobName] = append(targets[sc.JobName], st.Targets...)
		}
	}

	// Each API's metrics listener: METRICS_ADDR must listen beyond
	// loopback for the prometheus container, and its port is scraped.
	var apis []string
	for _, name := range apiServices(p) {
		addr := service(t, p, name).Environment["METRICS_ADDR"]
		if addr == nil {
			t.Fatalf("%s has no METRICS_ADDR: /metrics would listen on its loopback, out of Prometheus's reach", name)
		}
		host, port, err := net.SplitHostPort(*addr)
		if err != nil || (host != "0.0.0.0" && host != "") {
			t.Errorf("%s METRICS_ADDR = %q; want 0.0.0.0:PORT", name, *addr)
		}
		apis = append(apis, name+":"+port)
	}
	got := slices.Sorted(slices.Values(targets["taskapi"]))
	if !slices.Equal(got, apis) {
		t.Errorf("job taskapi scrapes %v; want every api service's metrics listener: %v", got, apis)
	}

	_, port, err := net.SplitHostPort(flagValue(service(t, p, "harness").Command, "-metrics-addr"))
	if err != nil {
		t.Fatalf("harness -metrics-addr: %v", err)
	}
	if want := []string{"harness:" + port}; !slices.Equal(targets["harness"], want) {
		t.Errorf("job harness scrapes %v; want %v (the harness's -metrics-addr)", targets["harness"], want)
	}

	// Prometheus reads the file mounted from here.
	s := service(t, p, "prometheus")
	if !slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Source == filepath.Join(root(t), "deploy/prometheus/prometheus.yml") && v.Target == "/etc/prometheus/prometheus.yml"
	}) {
		t.Errorf("prometheus volumes %+v do not mount deploy/prometheus/prometheus.yml", s.Volumes)
	}
	// It loads the generated alerting rules: each rule file it names
	// (relative to its own) is mounted from the committed one beside it.
	if !slices.Contains(prom.RuleFiles, "alerts.yml") {
		t.Errorf("rule_files = %v; want alerts.yml, the generated rules", prom.RuleFiles)
	}
	for _, f := range prom.RuleFiles {
		src, dst := filepath.Join(root(t), "deploy/prometheus", f), path.Join("/etc/prometheus", f)
		if _, err := os.Stat(src); err != nil {
			t.Errorf("rule file %s: %v", f, err)
		}
		if !slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Source == src && v.Target == dst }) {
			t.Errorf("prometheus volumes %+v do not mount %s at %s", s.Volumes, src, dst)
		}
	}
}

// flagValue returns the argument after name in args, or "".
func flagValue(args []string, name string) string {
	if i := slices.Index(args, name); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

// read returns a file of this directory.
func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

// parse decodes a YAML file of this directory into v; fields v does not
// name are ignored.
func parse(t *testing.T, name string, v any) {
	t.Helper()
	if err := yaml.Unmarshal([]byte(read(t, name)), v); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
}
