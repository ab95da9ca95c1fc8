package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/readiness"
	"github.com/taskready/taskready/internal/render"
)

// SARIFSchema is the $schema readiness.sarif names (the 2.1.0 schema as
// published on SchemaStore, which GitHub code scanning documents).
const SARIFSchema = "https://json.schemastore.org/sarif-2.1.0.json"

// SARIF writes r as a SARIF 2.1.0 log (readiness.sarif) for code-scanning
// tools. Every check is a rule (tool.driver.rules: title, remediation as
// help, the first linkable reference as helpUri, category and references
// as tags, GitHub's security-severity). Every result names its rule and
// has a kind and level:
//
//   - fail: kind "fail"; level "error" for critical and high, "warning"
//     for medium, "note" for low and info (effective severity);
//   - warn: kind "fail", one level lower ("warning" for critical and high,
//     else "note"), since it passed with a caveat;
//   - pass and not applicable: kind "pass" and "notApplicable", level
//     "none" (SARIF requires "none" for any kind but "fail");
//   - error: kind "open" (the tool could not decide), level "none", and
//     a tool execution notification that says why;
//   - ignored: what it found, with an accepted external suppression that
//     carries the policy's reason, so viewers hide it but keep the why.
//
// Evidence, statuses, severities and the override are in the result's
// properties. Code scanning accepts only repository-relative locations
// and matches alerts across runs by them, so a result's location is
// stable whatever the target's host and port: the path of the route its
// first evidence requested ("api/tasks"), else its check id, with the
// route ("GET /api/tasks") as a logical location and a partial
// fingerprint of check and route. The target is in the run's properties.
func SARIF(w io.Writer, r *readiness.Report) error {
	if r == nil {
		return ErrNilReport
	}
	driver := sarifDriver{Name: "taskready readiness", Version: r.Run.ToolVersion, SemanticVersion: semanticVersion(r.Run.ToolVersion), Rules: []sarifRule{}}
	if r.Run.ToolRevision != "" {
		driver.Properties = map[string]any{"revision": r.Run.ToolRevision}
	}
	// Rules by id, for a stable order whatever the results' order.
	byID := append([]readiness.Result(nil), r.Results...)
	sort.Slice(byID, func(i, j int) bool { return byID[i].ID < byID[j].ID })
	index := map[string]int{}
	for _, res := range byID {
		if _, dup := index[res.ID]; dup {
			continue
		}
		index[res.ID] = len(driver.Rules)
		driver.Rules = append(driver.Rules, sarifRuleOf(res.Meta()))
	}
	inv := sarifInvocation{ExecutionSuccessful: r.Run.Error == "", ExitCode: r.ExitCode,
		ToolExecutionNotifications: []sarifNotification{}, ToolConfigurationNotifications: []sarifNotification{}}
	if !r.Run.Start.IsZero() {
		inv.StartTimeUTC = r.Run.Start.UTC().Format(time.RFC3339Nano)
		inv.EndTimeUTC = r.Run.Start.Add(r.Run.Duration).UTC().Format(time.RFC3339Nano)
	}
	if r.Run.Error != "" {
		inv.ToolConfigurationNotifications = append(inv.ToolConfigurationNotifications,
			sarifNotification{Level: "error", Message: sarifMessage{Text: r.Run.Error}})
	}
	results := []sarifResult{}
	for _, res := range r.Results {
		sr := sarifResultOf(res, index[res.ID])
		results = append(results, sr)
		if res.EffectiveStatus == check.Error && !res.Ignored {
			level := "warning"
			if res.EffectiveSeverity == check.Critical {
				level = "error"
			}
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{Level: level,
				Message:        sarifMessage{Text: res.ID + " could not reach a verdict: " + res.Message},
				AssociatedRule: &sarifRuleRef{ID: res.ID, Index: index[res.ID]}})
		}
	}
	gates := map[string]any{}
	for _, g := range r.Gates {
		gates[g.Name] = map[string]any{"passed": g.Passed, "rule": g.Rule, "detail": g.Detail}
	}
	inv.Properties = map[string]any{"gates": gates}
	runProps := map[string]any{
		"format": readiness.Format, "runId": r.Run.ID, "target": r.Run.Target, "passed": r.Passed,
		"scoreVersion": r.Run.ScoreVersion, "grade": r.Score.Grade,
	}
	if r.Score.Defined() {
		runProps["score"] = r.Score.Value
	}
	if r.Run.Environment != nil {
		runProps["environment"] = r.Run.Environment
	}
	if r.Run.API != nil {
		runProps["apiBuild"] = r.Run.API
	}
	if len(r.Waivers) > 0 {
		runProps["waivers"] = r.Waivers
	}
	if c := r.Previous; c != nil {
		prev := map[string]any{"runId": c.Run, "newlyFailing": changeIDs(c.NewlyFailing), "newlyPassing": changeIDs(c.NewlyPassing)}
		if c.ScoreDelta != nil {
			prev["scoreDelta"] = *c.ScoreDelta
		}
		runProps["previous"] = prev
	}
	log := sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{{
		Tool:        sarifTool{Driver: driver},
		Invocations: []sarifInvocation{inv},
		Results:     results,
		Properties:  runProps,
	}}}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(log); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// securitySeverity is GitHub's 0.0-10.0 "security-severity" for a
// severity: above 9 critical, 7-8.9 high, 4-6.9 medium, below 4 low.
func securitySeverity(s check.Severity) string {
	switch s {
	case check.Critical:
		return "9.5"
	case check.High:
		return "8.0"
	case check.Medium:
		return "5.5"
	case check.Low:
		return "3.0"
	}
	return "0.0"
}

// failLevel is the SARIF level of a failure at severity s.
func failLevel(s check.Severity) string {
	switch s {
	case check.Critical, check.High:
		return "error"
	case check.Medium:
		return "warning"
	}
	return "note"
}

func sarifRuleOf(m check.Meta) sarifRule {
	rule := sarifRule{ID: m.ID, ShortDescription: sarifText{Text: m.Title}, DefaultConfiguration: &sarifConfig{Level: failLevel(m.Severity)}}
	if rule.ShortDescription.Text == "" {
		rule.ShortDescription.Text = m.ID
	}
	tags := []string{"readiness", string(m.Category)}
	if m.Category.Security() {
		tags = append(tags, "security")
	}
	seen := map[string]bool{}
	for _, t := range tags {
		seen[t] = true
	}
	var links []string
	for _, ref := range m.References {
		if !seen[ref] {
			seen[ref] = true
			tags = append(tags, ref)
		}
		if u := ReferenceURL(ref); u != "" {
			links = append(links, u)
		}
	}
	if len(links) > 0 {
		rule.HelpURI = links[0]
	}
	help := m.Remediation
	md := render.MarkdownText(m.Remediation)
	if len(m.References) > 0 {
		help = strings.TrimSpace(help + "\n\nReferences: " + strings.Join(m.References, ", "))
		md = strings.TrimSpace(md + "\n\nReferences: " + mdRefs(m.References))
	}
	if help != "" {
		rule.Help = &sarifText{Text: help, Markdown: md}
	}
	rule.Properties = map[string]any{"tags": tags, "category": string(m.Category), "severity": string(m.Severity),
		"security-severity": securitySeverity(m.Severity)}
	return rule
}

func sarifResultOf(res readiness.Result, ruleIndex int) sarifResult {
	sr := sarifResult{RuleID: res.ID, RuleIndex: ruleIndex, Message: sarifMessage{Text: res.Message}}
	if sr.Message.Text == "" {
		sr.Message.Text = string(res.EffectiveStatus)
	}
	switch res.EffectiveStatus {
	case check.Fail:
		sr.Kind, sr.Level = "fail", failLevel(res.EffectiveSeverity)
	case check.Warn:
		sr.Kind, sr.Level = "fail", "note"
		if res.EffectiveSeverity == check.Critical || res.EffectiveSeverity == check.High {
			sr.Level = "warning"
		}
	case check.Pass:
		sr.Kind, sr.Level = "pass", "none"
	case check.NotApplicable:
		sr.Kind, sr.Level = "notApplicable", "none"
	default:
		sr.Kind, sr.Level = "open", "none"
	}
	sr.Locations, sr.PartialFingerprints = resultLocation(res)
	if res.Ignored {
		sr.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: res.Override.Reason}}
	}
	props := map[string]any{
		"category": string(res.Category), "severity": string(res.Severity), "effectiveSeverity": string(res.EffectiveSeverity),
		"status": string(res.Status), "effectiveStatus": string(res.EffectiveStatus), "tookMs": res.Took.Milliseconds(),
		"gating": res.Gating, "title": res.Title,
	}
	if res.Remediation != "" {
		props["remediation"] = res.Remediation
	}
	if len(res.Evidence) > 0 {
		props["evidence"] = res.Evidence
	}
	if res.Override != nil {
		props["override"] = res.Override
		if res.WaiverExpired {
			props["waiverExpired"] = true
		}
	}
	sr.Properties = props
	return sr
}

// resultLocation is where code scanning files the result, the same on
// every run: the route of its first request as a repository-relative
// path and a logical location, else its check id; and a fingerprint of
// the two.
func resultLocation(res readiness.Result) ([]sarifLocation, map[string]string) {
	uri, logical := res.ID, sarifLogical{Name: res.ID, FullyQualifiedName: res.ID, Kind: "resource"}
	if method, path := resultRoute(res); path != "" {
		route := method + " " + path
		uri = strings.TrimPrefix(path, "/")
		logical = sarifLogical{Name: route, FullyQualifiedName: res.ID + " " + route, Kind: "resource"}
	}
	sum := sha256.Sum256([]byte(logical.FullyQualifiedName))
	return []sarifLocation{{
			PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: uri}},
			LogicalLocations: []sarifLogical{logical},
		}},
		map[string]string{"taskreadyRoute/v1": hex.EncodeToString(sum[:16])}
}

// resultRoute is the method and path of the result's first request that
// has both ("GET /api/tasks" against any host and port; a query is left
// out), or "" for a result whose evidence is not HTTP ("PING with no
// AUTH").
func resultRoute(res readiness.Result) (method, path string) {
	for _, ev := range res.Evidence {
		first, _, _ := strings.Cut(strings.TrimSpace(ev.Request), "\n")
		f := strings.Fields(first)
		if len(f) < 2 || !isMethod(f[0]) {
			continue
		}
		u, err := url.Parse(f[1])
		if err != nil || !strings.HasPrefix(u.Path, "/") {
			continue
		}
		return f[0], u.Path
	}
	return "", ""
}

// isMethod is whether s is written as an HTTP method is: upper-case
// letters only.
func isMethod(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return r < 'A' || r > 'Z' }) < 0
}

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
	Properties  map[string]any    `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name            string         `json:"name"`
	Version         string         `json:"version,omitempty"`
	SemanticVersion string         `json:"semanticVersion,omitempty"`
	Rules           []sarifRule    `json:"rules"`
	Properties      map[string]any `json:"properties,omitempty"`
}

// reSemver is a Semantic Versioning 2.0 version after Go's "v": a
// release, or a pseudo-version (a pre-release by its form).
var reSemver = regexp.MustCompile(`^v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$`)

// semanticVersion is the tool version as SARIF's semanticVersion wants
// it ("1.2.0" of "v1.2.0 1a2b3c4d5e6f"), "" when it is not one ("(devel)").
func semanticVersion(v string) string {
	first, _, _ := strings.Cut(v, " ")
	if m := reSemver.FindStringSubmatch(first); m != nil {
		return m[1]
	}
	return ""
}

// changeIDs are the check ids of cs.
func changeIDs(cs []readiness.StatusChange) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

type sarifRule struct {
	ID                   string         `json:"id"`
	ShortDescription     sarifText      `json:"shortDescription"`
	Help                 *sarifText     `json:"help,omitempty"`
	HelpURI              string         `json:"helpUri,omitempty"`
	DefaultConfiguration *sarifConfig   `json:"defaultConfiguration,omitempty"`
	Properties           map[string]any `json:"properties,omitempty"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifInvocation struct {
	ExecutionSuccessful            bool                `json:"executionSuccessful"`
	ExitCode                       int                 `json:"exitCode"`
	StartTimeUTC                   string              `json:"startTimeUtc,omitempty"`
	EndTimeUTC                     string              `json:"endTimeUtc,omitempty"`
	ToolExecutionNotifications     []sarifNotification `json:"toolExecutionNotifications"`
	ToolConfigurationNotifications []sarifNotification `json:"toolConfigurationNotifications"`
	Properties                     map[string]any      `json:"properties,omitempty"`
}

type sarifNotification struct {
	Level          string        `json:"level"`
	Message        sarifMessage  `json:"message"`
	AssociatedRule *sarifRuleRef `json:"associatedRule,omitempty"`
}

type sarifRuleRef struct {
	ID    string `json:"id"`
	Index int    `json:"index"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Kind                string             `json:"kind"`
	Level               string             `json:"level"`
	Message             sarifMessage       `json:"message"`
	Locations           []sarifLocation    `json:"locations,omitempty"`
	PartialFingerprints map[string]string  `json:"partialFingerprints,omitempty"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status,omitempty"`
	Justification string `json:"justification,omitempty"`
}
