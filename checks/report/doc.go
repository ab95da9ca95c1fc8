// Package report renders a readiness report (package readiness) for
// people and for CI, in the forms the best scanners use. Each says what
// was checked (target, environment, the harness's and the API's builds),
// which policy waivers expired or expire soon, and, when the run was
// compared with a previous one, what changed since:
//
//   - Text, for the terminal: what needs attention first (failures and
//     errors by severity, then warnings), each with its evidence as
//     curl-style "> request" and "< response" lines, expected against
//     observed, the fix and the references; then compact tables of the
//     passed, not-applicable and ignored checks; the categories, the score
//     and grade, the gates, and a last line with the verdict and exit code
//     a CI log can grep. Colour is off unless asked for.
//   - JSON (readiness.json), the report itself, versioned, for tools and
//     for re-rendering later (readiness.ReadReport reads it back).
//   - Markdown (readiness.md), for a pull-request comment: verdict and
//     score in the title, the gates under it, then the findings; bounded
//     to fit GitHub's comment limit.
//   - JUnit (junit.xml): a test case per check named by its stable id, a
//     failure per failed or errored check, skipped for not-applicable and
//     ignored ones, and a suite of the gates.
//   - SARIF 2.1.0 (readiness.sarif), for code-scanning dashboards: a rule
//     per check, a result per check with kind and level, ignored results
//     as suppressions with the policy's reason; the harness's version in
//     tool.driver (semanticVersion, revision) and the API's build in the
//     run's properties.
//   - HTML (readiness.html), one self-contained page for a CI artifact:
//     a grade gauge, the gates, a status bar and category bars drawn as
//     inline SVG, findings as cards with evidence, fix and reference
//     links, and the rest in collapsed tables. Nothing is fetched when it
//     is opened.
//
// Every writer reads only the *readiness.Report it is given and never
// changes it, so writers may run concurrently on one report, and a report
// read back from readiness.json renders exactly as the one the run made.
// Each writer builds its output in memory and writes it once.
package report
