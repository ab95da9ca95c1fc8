package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// DatasourceUID is the uid the "datasource" variable selects by default:
// the compose stack provisions its Prometheus under it.
const DatasourceUID = "prometheus"

// datasource is what every panel and query reads: the variable, so a user
// whose Prometheus has another uid picks it once per dashboard.
var datasource = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}

// datasourceVariable is the "datasource" variable over Prometheus sources.
func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder("datasource").
		Label("Data source").
		Type("prometheus").
		Current(dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr(DatasourceUID)},
			Value: dashboard.StringOrArrayOfString{String: cog.ToPtr(DatasourceUID)},
		})
}

// all is the "All" selection every multi-value variable here starts at.
var all = dashboard.VariableOption{
	Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr("All")},
	Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")},
}

// query is one PromQL target drawn with legend.
func query(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(datasource).
		Expr(expr).
		LegendFormat(legend).
		Range()
}

// graph is a time series panel with the defaults every graph here shares:
// a table legend with the last and max values, a shared tooltip.
func graph(title, description, unit string) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasource).
		Unit(unit).
		Span(12).
		Height(8).
		LineWidth(1).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true).
			Calcs([]string{"lastNotNull", "max"})).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
}

// single is a stat panel showing one reduced number.
func single(title, description, unit string) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasource).
		Unit(unit).
		Span(6).
		Height(5).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		GraphMode(common.BigValueGraphModeArea).
		ColorMode(common.BigValueColorModeValue)
}

// steps are threshold steps: a base color, then each bound and its color.
func steps(base string, bounds ...any) *dashboard.ThresholdsConfigBuilder {
	out := []dashboard.Threshold{{Color: base}}
	for i := 0; i+1 < len(bounds); i += 2 {
		v := bounds[i].(float64)
		out = append(out, dashboard.Threshold{Value: &v, Color: bounds[i+1].(string)})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(out)
}

// row starts a titled section.
func row(title string) *dashboard.RowBuilder { return dashboard.NewRowBuilder(title) }

// dashboardPanel is the time series panel most functions here return.
type dashboardPanel = timeseries.PanelBuilder

// dashedThresholds draws a graph's thresholds as dashed lines.
func dashedThresholds() *common.GraphThresholdsStyleConfigBuilder {
	return common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed)
}
