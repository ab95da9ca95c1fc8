// Package kubescore runs kube-score (github.com/zegl/kube-score, MIT) over
// Kubernetes manifests in tests. It is built from the module proxy as an
// external program (package gotool): importing it would pull its
// Kubernetes dependency tree into this module's go.mod.
package kubescore

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/internal/gotool"
)

// Module is the kube-score command this package builds: the newest release
// that builds with this module's Go.
const Module = "github.com/zegl/kube-score/cmd/kube-score@v1.20.0"

// KubernetesVersion is the oldest Kubernetes the manifests support (the
// preStop sleep action needs 1.30); kube-score checks API versions
// against it.
const KubernetesVersion = "v1.30"

// Findings are kube-score's CRITICAL and WARNING lines, as it prints them
// in its ci format ("[CRITICAL] taskapi apps/v1/Deployment: ...").
type Findings struct {
	Critical []string
	Warning  []string
}

// Binary returns the kube-score to run: $KUBE_SCORE when set, else the
// one gotool builds from Module.
func Binary(t testing.TB) string {
	t.Helper()
	return gotool.Binary(t, Module, "KUBE_SCORE")
}

// Score runs kube-score over manifests (a multi-document YAML stream) with
// every check's ignore annotation disabled, so that nothing hides a
// finding from it.
func Score(t testing.TB, manifests []byte) Findings {
	t.Helper()
	bin := Binary(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "score", "--output-format", "ci", "--color", "never",
		"--kubernetes-version", KubernetesVersion, "--disable-ignore-checks-annotations", "-")
	cmd.Stdin = bytes.NewReader(manifests)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	// kube-score exits 1 when it finds something critical: that is a
	// result, told by its output; anything else is a failure to score.
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("kube-score: %v\n%s", err, stderr.Bytes())
	}
	f := Parse(out)
	if len(out) == 0 || (err != nil && len(f.Critical) == 0) {
		t.Fatalf("kube-score printed no findings (exit %v)\n%s", err, stderr.Bytes())
	}
	return f
}

// Parse picks the CRITICAL and WARNING lines out of kube-score's ci output.
func Parse(out []byte) Findings {
	var f Findings
	for line := range strings.Lines(string(out)) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "[CRITICAL]"):
			f.Critical = append(f.Critical, line)
		case strings.HasPrefix(line, "[WARNING]"):
			f.Warning = append(f.Warning, line)
		}
	}
	return f
}

// AssertNoCritical runs Score and fails t for every CRITICAL line; the
// warnings are logged, for the reader to weigh.
func AssertNoCritical(t testing.TB, what string, manifests []byte) {
	t.Helper()
	f := Score(t, manifests)
	for _, w := range f.Warning {
		t.Logf("%s: %s", what, w)
	}
	for _, c := range f.Critical {
		t.Errorf("%s: %s", what, c)
	}
}
