package deploy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/taskready/taskready/embedded"
	"github.com/taskready/taskready/internal/exporter"
	"github.com/taskready/taskready/internal/pki"
)

// scrapeConfig is the part of a Prometheus scrape job the exporters'
// tests read.
type scrapeConfig struct {
	JobName       string              `yaml:"job_name"`
	MetricsPath   string              `yaml:"metrics_path"`
	Params        map[string][]string `yaml:"params"`
	StaticConfigs []struct {
		Targets []string `yaml:"targets"`
	} `yaml:"static_configs"`
	RelabelConfigs []struct {
		SourceLabels []string `yaml:"source_labels"`
		TargetLabel  string   `yaml:"target_label"`
		Replacement  *string  `yaml:"replacement"`
	} `yaml:"relabel_configs"`
}

// targets are the job's static targets.
func (c scrapeConfig) targets() []string {
	var out []string
	for _, st := range c.StaticConfigs {
		out = append(out, st.Targets...)
	}
	return out
}

// multiTarget checks the relabeling of an exporter's multi-target
// pattern: each target becomes the target parameter and the instance
// label, and the exporter is what is scraped. It returns the address
// scraped, or "" with what is wrong.
func (c scrapeConfig) multiTarget() (string, string) {
	var param, instance bool
	addr := ""
	for _, r := range c.RelabelConfigs {
		switch {
		case r.TargetLabel == "__param_target" && slices.Equal(r.SourceLabels, []string{"__address__"}):
			param = true
		case r.TargetLabel == "instance" && slices.Equal(r.SourceLabels, []string{"__param_target"}) && param:
			instance = true
		case r.TargetLabel == "__address__" && len(r.SourceLabels) == 0 && r.Replacement != nil && param:
			addr = *r.Replacement
		}
	}
	if !param || !instance || addr == "" {
		return "", "its relabeling does not move __address__ to __param_target, then to instance, then scrape the exporter"
	}
	return addr, ""
}

// exportersRequired is whether a missing exporter fails a test rather
// than skips it: in CI, which installs them, or with REQUIRE_EXPORTERS.
func exportersRequired() bool {
	return os.Getenv("CI") != "" || os.Getenv("REQUIRE_EXPORTERS") != ""
}

// scrapeJobs are the jobs of deploy/prometheus/prometheus.yml by name.
func scrapeJobs(t *testing.T) map[string]scrapeConfig {
	t.Helper()
	var prom struct {
		ScrapeConfigs []scrapeConfig `yaml:"scrape_configs"`
	}
	parse(t, "prometheus/prometheus.yml", &prom)
	jobs := map[string]scrapeConfig{}
	for _, sc := range prom.ScrapeConfigs {
		jobs[sc.JobName] = sc
	}
	return jobs
}

// listensOn is the port of a service's --web.listen-address flag, or def.
func listensOn(s types.ServiceConfig, def string) string {
	for _, arg := range s.Command {
		if v, ok := strings.CutPrefix(arg, "--web.listen-address="); ok {
			_, port, _ := net.SplitHostPort(v)
			return port
		}
	}
	return def
}

// The blackbox exporter probes the API's health routes through nginx's
// HTTPS address, as a client would: Prometheus's job names each URL, the
// module it asks for verifies the certificate against the stack's
// authority, which the exporter reads from the tls volume.
func TestComposeBlackboxProbesThePublicAddress(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, nil)
	job, ok := scrapeJobs(t)["blackbox"]
	if !ok {
		t.Fatal("prometheus.yml has no job blackbox")
	}
	if job.MetricsPath != "/probe" {
		t.Errorf("job blackbox metrics_path = %q; want /probe", job.MetricsPath)
	}
	addr, problem := job.multiTarget()
	if problem != "" {
		t.Fatalf("job blackbox: %s", problem)
	}
	host, port, err := net.SplitHostPort(addr)
	bb := service(t, p, "blackbox-exporter")
	if err != nil || host != bb.Name || port != listensOn(bb, "9115") {
		t.Errorf("job blackbox scrapes %q; want the blackbox-exporter service on :9115", addr)
	}

	// The URLs: nginx's ssl port, a host its certificate names, and the
	// API's two health routes.
	tlsPort := regexp.MustCompile(`(?m)^\s*listen\s+(\d+)\s+ssl;`).FindStringSubmatch(read(t, "nginx/nginx.conf"))
	if tlsPort == nil {
		t.Fatal("nginx.conf has no ssl listen port")
	}
	hosts := strings.Split(flagValue(service(t, p, "certs").Command, "-hosts"), ",")
	var paths []string
	for _, target := range job.targets() {
		u, err := url.Parse(target)
		switch {
		case err != nil:
			t.Errorf("job blackbox target %q: %v", target, err)
			continue
		case u.Scheme != "https" || u.Port() != tlsPort[1]:
			t.Errorf("job blackbox probes %s; want https on nginx's ssl port %s", target, tlsPort[1])
		case !slices.Contains(hosts, u.Hostname()):
			t.Errorf("job blackbox probes %s, a host the certificate (certs -hosts %v) does not name", target, hosts)
		}
		if _, err := p.GetService(u.Hostname()); err != nil || u.Hostname() != "nginx" {
			t.Errorf("job blackbox probes %s; want nginx, the public address (%v)", target, err)
		}
		paths = append(paths, u.Path)
	}
	if slices.Sort(paths); !slices.Equal(paths, []string{"/healthz", "/readyz"}) {
		t.Errorf("job blackbox probes the paths %v; want /healthz and /readyz", paths)
	}

	// The module: mounted where the exporter reads it, verifying against
	// ca.pem of the volume nginx's certificate is in, never skipping.
	conf := mountAt(t, bb, "/etc/blackbox_exporter/blackbox.yml")
	if conf.Source != filepath.Join(root(t), "deploy/blackbox/blackbox.yml") || !conf.ReadOnly {
		t.Errorf("blackbox-exporter mounts %+v; want deploy/blackbox/blackbox.yml read-only", conf)
	}
	if !slices.Contains(bb.Command, "--config.file="+conf.Target) {
		t.Errorf("blackbox-exporter command %v does not read %s", bb.Command, conf.Target)
	}
	var bbConf struct {
		Modules map[string]struct {
			Prober string `yaml:"prober"`
			HTTP   struct {
				FailIfNotSSL bool `yaml:"fail_if_not_ssl"`
				TLSConfig    struct {
					CAFile             string `yaml:"ca_file"`
					InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
				} `yaml:"tls_config"`
			} `yaml:"http"`
		} `yaml:"modules"`
	}
	parse(t, "blackbox/blackbox.yml", &bbConf)
	modules := job.Params["module"]
	if len(modules) != 1 {
		t.Fatalf("job blackbox params module = %v; want one", modules)
	}
	m, ok := bbConf.Modules[modules[0]]
	if !ok {
		t.Fatalf("blackbox.yml has no module %q, which job blackbox asks for", modules[0])
	}
	tlsCfg := m.HTTP.TLSConfig
	if m.Prober != "http" || !m.HTTP.FailIfNotSSL || tlsCfg.InsecureSkipVerify {
		t.Errorf("module %s = %+v; want an http prober that requires TLS and verifies it", modules[0], m)
	}
	if path.Base(tlsCfg.CAFile) != pki.CAFile {
		t.Errorf("module %s trusts %q; want the %s certs writes", modules[0], tlsCfg.CAFile, pki.CAFile)
	}
	nginxTLS := mountAt(t, service(t, p, "nginx"), nginxTLSDir)
	caDir := mountAt(t, bb, path.Dir(tlsCfg.CAFile))
	if caDir.Source != nginxTLS.Source || !caDir.ReadOnly {
		t.Errorf("blackbox-exporter mounts %+v at %s; want nginx's certificate volume %s, read-only", caDir, path.Dir(tlsCfg.CAFile), nginxTLS.Source)
	}
}

// redis_exporter reads every Redis node (not the Sentinels), with the
// host's memory, which the memory alert needs while maxmemory is 0; the
// MongoDB exporter reads the replica set the APIs use, in the metric
// names the dashboard and alerts read.
func TestComposeStoreExporters(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, nil)
	jobs := scrapeJobs(t)

	redis, ok := jobs["redis"]
	if !ok {
		t.Fatal("prometheus.yml has no job redis")
	}
	addr, problem := redis.multiTarget()
	re := service(t, p, "redis-exporter")
	switch {
	case problem != "":
		t.Errorf("job redis: %s", problem)
	case addr != re.Name+":9121" || redis.MetricsPath != "/scrape":
		t.Errorf("job redis scrapes %s%s; want redis-exporter:9121/scrape", addr, redis.MetricsPath)
	}
	var nodes []string
	for name, s := range p.Services {
		if strings.HasPrefix(name, "redis-") && slices.Contains(s.Command, "redis-server") && !slices.Contains(s.Command, "--sentinel") {
			nodes = append(nodes, "redis://"+name+":6379")
		}
	}
	slices.Sort(nodes)
	if got := slices.Sorted(slices.Values(redis.targets())); len(nodes) < 2 || !slices.Equal(got, nodes) {
		t.Errorf("job redis reads %v; want every Redis node: %v", got, nodes)
	}
	if envOf(re, "REDIS_EXPORTER_INCL_SYSTEM_METRICS") != "true" {
		t.Error("redis-exporter does not export the host's memory (REDIS_EXPORTER_INCL_SYSTEM_METRICS=true): the memory alert needs it while maxmemory is 0")
	}

	mongo, ok := jobs["mongodb"]
	if !ok {
		t.Fatal("prometheus.yml has no job mongodb")
	}
	me := service(t, p, "mongodb-exporter")
	if want := []string{me.Name + ":" + listensOn(me, "9216")}; !slices.Equal(mongo.targets(), want) {
		t.Errorf("job mongodb scrapes %v; want %v", mongo.targets(), want)
	}
	uri := ""
	for _, arg := range me.Command {
		if v, ok := strings.CutPrefix(arg, "--mongodb.uri="); ok {
			uri = v
		}
	}
	if !mongoHostsAreServices(p, uri) || !strings.Contains(uri, "replicaSet=rs0") {
		t.Errorf("mongodb-exporter --mongodb.uri = %q; want the replica set of the mongo services", uri)
	}
	for _, flag := range []string{"--compatible-mode", "--collector.replicasetstatus", "--collector.diagnosticdata", "--mongodb.direct-connect=false"} {
		if !slices.Contains(me.Command, flag) {
			t.Errorf("mongodb-exporter lacks %s (command %v)", flag, me.Command)
		}
	}
}

// The blackbox exporter itself accepts deploy/blackbox/blackbox.yml:
// Debian's, the version before the image's, so nothing newer is used.
func TestBlackboxConfigLoads(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("prometheus-blackbox-exporter")
	if err != nil {
		if exportersRequired() {
			t.Fatal("prometheus-blackbox-exporter not on PATH, and this run requires it: apt-get install prometheus-blackbox-exporter")
		}
		t.Skip("prometheus-blackbox-exporter not installed: apt-get install prometheus-blackbox-exporter")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--config.check", "--config.file=blackbox/blackbox.yml").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Config file is ok") {
		t.Errorf("blackbox exporter --config.check: %v\n%s", err, out)
	}
}

// probeThroughNginx is the compose stack's probe of the API's health
// routes, against nginx serving nginx.conf with the certs service's
// certificate in dir/tls: Debian's blackbox exporter, with the committed
// blackbox.yml's module and only its ca_file moved to that directory,
// must pass both probes at nginx's HTTPS port.
func probeThroughNginx(ctx context.Context, t *testing.T, dir, tlsPort string) {
	t.Helper()
	var job struct {
		Modules map[string]struct {
			HTTP struct {
				TLSConfig struct {
					CAFile string `yaml:"ca_file"`
				} `yaml:"tls_config"`
			} `yaml:"http"`
		} `yaml:"modules"`
	}
	parse(t, "blackbox/blackbox.yml", &job)
	module := scrapeJobs(t)["blackbox"].Params["module"][0]
	conf := strings.ReplaceAll(read(t, "blackbox/blackbox.yml"), job.Modules[module].HTTP.TLSConfig.CAFile, filepath.Join(dir, "tls", pki.CAFile))
	file := filepath.Join(dir, "blackbox.yml")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	bb, err := exporter.BlackboxWithConfig(ctx, file)
	if errors.Is(err, exporter.ErrNotInstalled) && !exportersRequired() {
		t.Logf("the probes through nginx are not tried: %v", err)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bb.Close() })
	for _, path := range []string{"/healthz", "/readyz"} {
		target := "https://127.0.0.1:" + tlsPort + path
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+bb.Addr+"/probe?"+url.Values{"module": {module}, "target": {target}}.Encode(), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !regexp.MustCompile(`(?m)^probe_success 1$`).Match(body) {
			samples := regexp.MustCompile(`(?m)^probe_\S+ \S+$`).FindAllString(string(body), -1)
			t.Errorf("the blackbox module %s probing %s through nginx failed:\n%s\n%s", module, target, strings.Join(samples, "\n"), bb.Log())
		}
	}
}

// redis_exporter, configured by the environment the compose file gives
// it, reads a Redis node through the path and target parameter
// Prometheus's job redis uses, the host's memory included (what the
// memory alert needs while maxmemory is 0); its own /metrics reads no
// Redis, so no node is scraped twice.
func TestRedisExporterAsComposeRunsIt(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	environ := map[string]string{}
	for k, v := range service(t, mustLoad(t, nil), "redis-exporter").Environment {
		if v != nil {
			environ[k] = *v
		}
	}
	r, err := embedded.StartRedis(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if r.Kind() != embedded.RedisServer && os.Getenv("REQUIRE_REDIS_SERVER") == "" {
		t.Skip("no redis-server: apt-get install redis-server")
	}
	ex, err := exporter.RedisFromEnv(ctx, environ)
	if errors.Is(err, exporter.ErrNotInstalled) && !exportersRequired() {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close() })
	get := func(u string) string {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	job := scrapeJobs(t)["redis"]
	scraped := get("http://" + ex.Addr + job.MetricsPath + "?" + url.Values{"target": {r.URL()}}.Encode())
	for _, series := range []string{`redis_up 1`, `redis_memory_used_bytes \S+`, `redis_memory_max_bytes \S+`, `redis_total_system_memory_bytes [1-9]\S*`} {
		if !regexp.MustCompile(`(?m)^` + series + `$`).MatchString(scraped) {
			t.Errorf("%s%s?target=%s lacks %s:\n%.2000s", ex.Addr, job.MetricsPath, r.URL(), series, scraped)
		}
	}
	if own := get("http://" + ex.Addr + "/metrics"); strings.Contains(own, "\nredis_up ") {
		t.Errorf("redis-exporter's own /metrics reads a Redis too (REDIS_ADDR %q)", environ["REDIS_ADDR"])
	}
}
