package deploy

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/headers"
	"github.com/taskready/taskready/checks/https"
	"github.com/taskready/taskready/checks/readiness"
	checkreport "github.com/taskready/taskready/checks/report"
	"github.com/taskready/taskready/env"
	"github.com/taskready/taskready/internal/pki"
	"github.com/taskready/taskready/internal/testbin"
	"github.com/taskready/taskready/loadtest/bench"
)

// nginxTLSDir is where nginx reads its certificate and key.
const nginxTLSDir = "/etc/nginx/tls"

// mountAt is the volume of s mounted at target.
func mountAt(t *testing.T, s types.ServiceConfig, target string) types.ServiceVolumeConfig {
	t.Helper()
	i := slices.IndexFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == target })
	if i < 0 {
		t.Fatalf("%s mounts nothing at %s (volumes %+v)", s.Name, target, s.Volumes)
	}
	return s.Volumes[i]
}

// The certificate's way from the certs service to nginx and the harness:
// one volume (or the directory TLS_DIR names), written by certs, read
// only by the others, holding the files nginx.conf names; the harness
// trusts its ca.pem, and the certificate names the host it targets.
func TestComposeTLS(t *testing.T) {
	t.Parallel()
	conf := read(t, "nginx/nginx.conf")
	for _, directive := range []string{"ssl_certificate " + path.Join(nginxTLSDir, pki.CertFile), "ssl_certificate_key " + path.Join(nginxTLSDir, pki.KeyFile), "ssl_protocols TLSv1.2 TLSv1.3;"} {
		if !regexp.MustCompile(`(?m)^\s*` + strings.ReplaceAll(regexp.QuoteMeta(directive), " ", `\s+`)).MatchString(conf) {
			t.Errorf("nginx.conf lacks %q", directive)
		}
	}
	for _, tt := range []struct {
		name   string
		env    map[string]string
		source string
		kind   string
	}{
		{"the tls volume", nil, "tls", types.VolumeTypeVolume},
		{"a directory of one's own", map[string]string{"TLS_DIR": "./my-certs"}, filepath.Join(root(t), "my-certs"), types.VolumeTypeBind},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mustLoad(t, tt.env)
			certs, nginx, harness := service(t, p, "certs"), service(t, p, "nginx"), service(t, p, "harness")
			if certs.Build == nil || certs.Build.Target != "harness" || !slices.Equal(certs.Entrypoint, []string{"/harness"}) || len(certs.Command) == 0 || certs.Command[0] != "certs" {
				t.Errorf("certs runs %v %v from %+v; want harness certs from the harness image", certs.Entrypoint, certs.Command, certs.Build)
			}
			caFile := envOf(harness, "SSL_CERT_FILE")
			mounts := []struct {
				of       types.ServiceConfig
				at       string
				readOnly bool
			}{
				{certs, flagValue(certs.Command, "-dir"), false},
				{nginx, nginxTLSDir, true},
				{harness, path.Dir(caFile), true},
			}
			for _, m := range mounts {
				v := mountAt(t, m.of, m.at)
				if v.Source != tt.source || v.Type != tt.kind || v.ReadOnly != m.readOnly {
					t.Errorf("%s mounts %+v at %s; want %s %s, read-only %v", m.of.Name, v, m.at, tt.kind, tt.source, m.readOnly)
				}
			}
			if path.Base(caFile) != pki.CAFile {
				t.Errorf("harness SSL_CERT_FILE = %q; want the %s certs writes", caFile, pki.CAFile)
			}
			if _, ok := p.Volumes["tls"]; !ok && tt.kind == types.VolumeTypeVolume {
				t.Error("the tls volume is not declared")
			}
			u := flagValue(harness.Command, "-target")
			hosts := strings.Split(flagValue(certs.Command, "-hosts"), ",")
			for _, h := range []string{"localhost", "127.0.0.1", strings.Split(strings.TrimPrefix(u, "https://"), ":")[0]} {
				if !slices.Contains(hosts, h) {
					t.Errorf("certs -hosts %v lacks %s (the harness targets %s)", hosts, h, u)
				}
			}
		})
	}
}

// Plain HTTP redirects to the port HTTPS is published on, which nginx
// learns from API_TLS_PORT through the template the image's entrypoint
// renders.
func TestComposeRedirectPort(t *testing.T) {
	t.Parallel()
	conf := read(t, "nginx/nginx.conf")
	if !regexp.MustCompile(`(?m)^\s*return\s+30[18]\s+https://\$host:\$https_port\$request_uri;`).MatchString(conf) {
		t.Error("nginx.conf's plain-HTTP server does not redirect to https://$host:$https_port$request_uri")
	}
	tmpl := read(t, "nginx/templates/https-port.conf.template")
	if !regexp.MustCompile(`map\s+\$host\s+\$https_port\s*\{\s*default\s+\$\{API_TLS_PORT\};`).MatchString(tmpl) {
		t.Errorf("the template does not map $https_port to ${API_TLS_PORT}:\n%s", tmpl)
	}
	if !strings.Contains(conf, "include /etc/nginx/conf.d/https-port.conf;") {
		t.Error("nginx.conf does not include the rendered template")
	}
	for _, port := range []string{"", "18443"} {
		env := map[string]string{}
		if port != "" {
			env["API_TLS_PORT"] = port
		}
		n := service(t, mustLoad(t, env), "nginx")
		published := ""
		for _, p := range n.Ports {
			if p.Target == 8443 {
				published = p.Published
			}
		}
		if got := envOf(n, "API_TLS_PORT"); got != published || published == "" {
			t.Errorf("API_TLS_PORT=%q: nginx's API_TLS_PORT is %q, HTTPS published on %q; want the same", port, got, published)
		}
		if v := mountAt(t, n, "/etc/nginx/templates"); v.Source != filepath.Join(root(t), "deploy/nginx/templates") || !v.ReadOnly {
			t.Errorf("nginx mounts %+v at /etc/nginx/templates; want deploy/nginx/templates read-only", v)
		}
		if f := envOf(n, "NGINX_ENVSUBST_FILTER"); !regexp.MustCompile(f).MatchString("API_TLS_PORT") || regexp.MustCompile(f).MatchString("HOSTNAME") {
			t.Errorf("NGINX_ENVSUBST_FILTER %q: want it to pass API_TLS_PORT alone", f)
		}
	}
}

// The compose stack's nginx.conf, run by a real nginx on loopback with
// the certificate the certs service makes (harness certs, as compose
// runs it) in front of the real API: the HTTPS checks and HSTS pass,
// and nginx's own 413 carries HSTS too. What is not compose's (the
// addresses, the files' paths) is rewritten; the TLS settings, the
// redirect and the proxying are the file's.
func TestNginxConfServesHTTPS(t *testing.T) {
	t.Parallel()
	nginxBin, err := bench.FindNginx()
	if err != nil {
		if os.Getenv("REQUIRE_NGINX") == "1" {
			t.Fatal(err)
		}
		t.Skip(err.Error() + "; REQUIRE_NGINX=1 makes this a failure")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	certsSvc := service(t, mustLoad(t, nil), "certs")

	// The certificate, as the certs service makes it.
	args := slices.Clone(certsSvc.Command)
	args[slices.Index(args, "-dir")+1] = filepath.Join(dir, "tls")
	if out, err := exec.CommandContext(ctx, testbin.Path(t, "github.com/taskready/taskready/cmd/harness"), args...).CombinedOutput(); err != nil {
		t.Fatalf("harness %v: %v\n%s", args, err, out)
	}

	// The API, trusting nginx's X-Forwarded-Proto as the compose stack's do.
	api, err := env.StartAPI(ctx, "api", testbin.Path(t, "github.com/taskready/taskready/cmd/taskapi"),
		[]string{"TRUSTED_PROXIES=127.0.0.1", "DATA_DIR=" + filepath.Join(dir, "data"), "BCRYPT_COST=4", "LOG_LEVEL=error"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = api.Close() })

	plainPort, tlsPort := freePort(t), freePort(t)
	conf := renderNginx(t, dir, strings.TrimPrefix(api.URL(), "http://"), plainPort, tlsPort)
	run := func(extra ...string) *exec.Cmd {
		return exec.CommandContext(ctx, nginxBin, append([]string{"-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"),
			"-g", "daemon off; master_process off; pid " + filepath.Join(dir, "nginx.pid") + ";"}, extra...)...)
	}
	if out, err := run("-t").CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	var stderr bytes.Buffer
	srv := run()
	srv.Stderr = &stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	waitListening(t, ctx, "127.0.0.1:"+tlsPort, &stderr)

	ca, err := os.ReadFile(filepath.Join(dir, "tls", pki.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	target := &check.Target{BaseURL: "https://127.0.0.1:" + tlsPort, PlainURL: "http://127.0.0.1:" + plainPort, RootCAs: roots, Client: client}
	var hsts check.Check
	for _, c := range headers.Checks() {
		if c.Meta().ID == "headers.hsts" {
			hsts = c
		}
	}
	rep := readiness.Run(ctx, append(https.Checks(), hsts), target)
	for _, r := range rep.Results {
		if r.Status != check.Pass {
			var out bytes.Buffer
			_ = checkreport.Text(&out, rep)
			t.Fatalf("%s = %s against nginx.conf: %s\n%s\nnginx: %s", r.ID, r.Status, r.Message, out.String(), stderr.String())
		}
	}

	// nginx's own refusal of a body over the limit is HTTPS too.
	res, err := client.Post(target.BaseURL+"/api/tasks", "application/json", bytes.NewReader(make([]byte, 200<<10)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.HasPrefix(res.Header.Get("Strict-Transport-Security"), "max-age=31536000") {
		t.Errorf("a 200 KiB body: %s, Strict-Transport-Security %q; want nginx's 413 with HSTS", res.Status, res.Header.Get("Strict-Transport-Security"))
	}

	// The blackbox exporter's probes of the health routes pass through it.
	probeThroughNginx(ctx, t, dir, tlsPort)
}

// renderNginx writes nginx.conf into dir as compose's nginx would run it,
// with loopback addresses and dir's paths: the listen ports, the three
// instances (all the one API at apiAddr), the certificate directory, the
// rendered template and temp paths a non-root nginx may write. Every
// rewrite must apply, so a change of the file that the test would miss
// fails it instead.
func renderNginx(t *testing.T, dir, apiAddr, plainPort, tlsPort string) string {
	t.Helper()
	tmpl := strings.ReplaceAll(read(t, "nginx/templates/https-port.conf.template"), "${API_TLS_PORT}", tlsPort)
	rendered := filepath.Join(dir, "https-port.conf")
	if err := os.WriteFile(rendered, []byte(tmpl), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := read(t, "nginx/nginx.conf")
	for _, r := range []struct {
		pattern, replacement string
		count                int
	}{
		{`(?m)^(\s*)listen\s+8080;`, "${1}listen 127.0.0.1:" + plainPort + ";", 1},
		{`(?m)^(\s*)listen\s+8443\s+ssl;`, "${1}listen 127.0.0.1:" + tlsPort + " ssl;", 1},
		{`(?m)^(\s*)server\s+api\d:5000\b`, "${1}server " + apiAddr, 3},
		{regexp.QuoteMeta(nginxTLSDir + "/"), filepath.Join(dir, "tls") + "/", 2},
		{`include /etc/nginx/conf\.d/https-port\.conf;`, "include " + rendered + ";", 1},
		{`access_log /dev/stdout main;`, "access_log " + filepath.Join(dir, "access.log") + " main;", 1},
		{`(?m)^http \{`, "http {\n    client_body_temp_path " + dir + "/body;\n    proxy_temp_path " + dir + "/proxy;\n" +
			"    fastcgi_temp_path " + dir + "/fastcgi;\n    uwsgi_temp_path " + dir + "/uwsgi;\n    scgi_temp_path " + dir + "/scgi;", 1},
	} {
		re := regexp.MustCompile(r.pattern)
		if n := len(re.FindAllStringIndex(conf, -1)); n != r.count {
			t.Fatalf("nginx.conf: %d matches of %s; the test rewrites %d", n, r.pattern, r.count)
		}
		conf = re.ReplaceAllString(conf, r.replacement)
	}
	file := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// freePort is a loopback port nothing listened on a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// waitListening waits until addr accepts connections, or fails t with
// what nginx printed.
func waitListening(t *testing.T, ctx context.Context, addr string, stderr fmt.Stringer) {
	t.Helper()
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("nginx did not listen on %s: %s", addr, stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
