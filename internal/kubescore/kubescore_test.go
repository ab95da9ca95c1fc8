package kubescore_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/taskready/taskready/internal/kubescore"
)

func TestParse(t *testing.T) {
	out := []byte(`[OK] taskapi apps/v1/Deployment
[CRITICAL] taskapi apps/v1/Deployment: (taskapi) Image with latest tag
[SKIPPED] taskapi apps/v1/Deployment: Skipped because container-ports-check is ignored
[WARNING] taskapi apps/v1/Deployment: Deployment does not have a host podAntiAffinity set
`)
	f := kubescore.Parse(out)
	if want := []string{"[CRITICAL] taskapi apps/v1/Deployment: (taskapi) Image with latest tag"}; !slices.Equal(f.Critical, want) {
		t.Errorf("Critical = %q; want %q", f.Critical, want)
	}
	if len(f.Warning) != 1 || !strings.Contains(f.Warning[0], "podAntiAffinity") {
		t.Errorf("Warning = %q; want the podAntiAffinity line", f.Warning)
	}
}

// TestScoreFindsCritical proves the check is not vacuous: a pod with none
// of the hardening the shipped manifests have is critical.
func TestScoreFindsCritical(t *testing.T) {
	bare := []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: bare}
spec:
  selector: {matchLabels: {app: bare}}
  template:
    metadata: {labels: {app: bare}}
    spec:
      containers:
        - name: bare
          image: nginx:latest
`)
	f := kubescore.Score(t, bare)
	for _, want := range []string{"Image with latest tag", "does not have a matching NetworkPolicy", "Ephemeral Storage limit is not set"} {
		if !slices.ContainsFunc(f.Critical, func(c string) bool { return strings.Contains(c, want) }) {
			t.Errorf("critical findings %q lack %q", f.Critical, want)
		}
	}
}
