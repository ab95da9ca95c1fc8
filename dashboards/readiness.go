package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
)

// Readiness is the dashboard of the last `harness check` run, from the
// readiness.prom it writes (served by node_exporter's textfile collector
// or any scrape of the file): the score, the gates, the checks by status,
// the age of the run, and the checks that need attention.
func Readiness() *dashboard.DashboardBuilder {
	return board("taskready-readiness", "Production readiness", "The last `harness check` run: score, gates, and the checks that need attention (readiness.prom).").
		Tags([]string{"taskready", "readiness"}).
		Refresh("1m").
		Time("now-7d", "now").
		WithVariable(datasourceVariable()).
		WithPanel(readinessScore()).
		WithPanel(readinessGates()).
		WithPanel(readinessFailures()).
		WithPanel(readinessAge()).
		WithPanel(readinessNeedsAttention()).
		WithPanel(readinessByStatus()).
		WithPanel(readinessScoreTrend())
}

func readinessScore() *statPanel {
	return single("Score", "0 to 100 (the score formula's version is a label); trends only: the gates decide.", "none").
		Min(0).Max(100).
		Thresholds(steps("red", 70.0, "orange", 90.0, "green")).
		WithTarget(query(`max(taskready_readiness_score)`, "{{grade}}"))
}

func readinessGates() *statPanel {
	return single("Gates", "FAIL when any gate failed (a critical check, or the minimum score): the run exited 1.", "none").
		Mappings([]dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
			Type: dashboard.MappingTypeValueToText,
			Options: map[string]dashboard.ValueMappingResult{
				"0": {Text: cog.ToPtr("FAIL"), Color: cog.ToPtr("red")},
				"1": {Text: cog.ToPtr("PASS"), Color: cog.ToPtr("green")},
			},
		}}}).
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeNone).
		WithTarget(query(`min(taskready_readiness_gates_passed)`, "gates"))
}

func readinessFailures() *statPanel {
	return single("Failed or errored checks", "Checks whose effective status is fail or error, after the policy.", "none").
		Thresholds(steps("green", 1.0, "red")).
		WithTarget(query(`sum(taskready_readiness_checks{status=~"fail|error"})`, "failed"))
}

func readinessAge() *statPanel {
	return single("Since the last run", "A readiness report is evidence only while it is fresh.", "s").
		Thresholds(steps("green", 86400.0, "orange", 7*86400.0, "red")).
		WithTarget(query(`time() - max(taskready_readiness_last_run_timestamp_seconds)`, "age"))
}

// statPanel is the stat panel the readiness functions return.
type statPanel = stat.PanelBuilder

func readinessNeedsAttention() *table.PanelBuilder {
	return table.NewPanelBuilder().
		Title("Checks that need attention").
		Description("Every check of the last run that did not pass: failures and errors first. The run's readiness.html has the evidence and the remediation.").
		Datasource(datasource).
		Span(24).
		Height(10).
		WithTarget(query(`taskready_readiness_check_status{status!~"pass|not_applicable|ignored"} == 1`, "").Format("table").Instant()).
		WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
			"excludeByName": map[string]bool{"Time": true, "Value": true, "__name__": true, "instance": true, "job": true},
			"indexByName":   map[string]int{"status": 0, "severity": 1, "id": 2, "category": 3},
		}}).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"count"})).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName("status")})
}

func readinessByStatus() *dashboardPanel {
	return graph("Checks by status", "How many checks each run found passing, failing, warning, not applicable, in error or ignored.", "short").
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
		WithTarget(query(`sum by (status) (taskready_readiness_checks)`, "{{status}}"))
}

func readinessScoreTrend() *dashboardPanel {
	return graph("Score over time", "One point per scrape of the last run's file: the trend across runs.", "none").
		Min(0).Max(100).
		WithTarget(query(`max(taskready_readiness_score)`, "score"))
}
