package health

import (
	"context"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/probe"
	"github.com/taskready/taskready/internal/buildinfo"
)

// buildInfoName is service/metrics.BuildInfoName: the harness treats the
// API as a black box and repeats the name rather than import it.
const buildInfoName = "taskapi_build_info"

// ReadBuild reads the API's build from the taskapi_build_info gauge at
// t.MetricsURL. It never fails: a target that does not tell (no metrics
// URL, a scrape that fails, an API without the gauge) has version and
// revision "unknown", and Source says why.
func ReadBuild(ctx context.Context, t *check.Target) check.Build {
	unknown := func(why string) check.Build {
		return check.Build{Version: buildinfo.Unknown, Revision: buildinfo.Unknown, Source: why}
	}
	if t == nil || t.MetricsURL == "" {
		return unknown("no metrics URL (-metrics-url): the API's build is read from " + buildInfoName + " on its metrics listener")
	}
	x, fams, err := scrape(ctx, t)
	switch {
	case x.Status == 0 && x.Err != nil:
		return unknown("GET " + t.MetricsURL + ": " + probe.ErrString(x.Err))
	case err != nil:
		return unknown("GET " + t.MetricsURL + ": " + err.Error())
	}
	f, ok := fams[buildInfoName]
	if !ok || len(f.GetMetric()) == 0 {
		return unknown(t.MetricsURL + " has no " + buildInfoName)
	}
	b := check.Build{Version: buildinfo.Unknown, Revision: buildinfo.Unknown, Source: buildInfoName + " at " + t.MetricsURL}
	for _, l := range f.GetMetric()[0].GetLabel() {
		if l.GetValue() == "" {
			continue
		}
		switch l.GetName() {
		case "version":
			b.Version = l.GetValue()
		case "revision":
			b.Revision = l.GetValue()
		}
	}
	return b
}
