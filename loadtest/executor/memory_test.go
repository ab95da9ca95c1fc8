package executor_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/taskready/taskready/loadtest/executor"
	"github.com/taskready/taskready/loadtest/memory"
	"github.com/taskready/taskready/loadtest/scenario"
)

func TestCheckMemory(t *testing.T) {
	// 1 GiB holds 8192 VUs at 128 KiB.
	gib := memory.Available{Bytes: 1 << 30, Source: "a test's word"}
	const journeys = `
journeys:
  j:
    - name: s
      request: {method: GET, path: /}
`
	for _, tc := range []struct {
		name, scenarios string
		says            []string // nil: it fits
	}{
		{"fits", `
  a: {executor: constant-arrival-rate, rate: 10, duration: 1s, preAllocatedVUs: 10, maxVUs: 8000, journeys: [j]}`, nil},
		{"the issue's preAllocatedVUs", `
  burst: {executor: constant-arrival-rate, rate: 10, duration: 1s, preAllocatedVUs: 50000000, journeys: [j]}`,
			[]string{"test.yaml:3: scenarios.burst.preAllocatedVUs: 50000000 VUs need about 6.0 TiB at 128 KiB per VU", "1 GiB available (a test's word)", "at most 8192 fit"}},
		{"maxVUs", `
  burst: {executor: ramping-arrival-rate, stages: [{duration: 1s, target: 10}], preAllocatedVUs: 10, maxVUs: 100000, journeys: [j]}`,
			[]string{"scenarios.burst.maxVUs: 100000 VUs need about 12 GiB"}},
		{"vus of the closed model", `
  steady: {executor: constant-vus, vus: 9000, duration: 1s, journeys: [j]}`,
			[]string{"scenarios.steady.vus: 9000 VUs"}},
		{"per-vu-iterations", `
  each: {executor: per-vu-iterations, vus: 10000, iterations: 1, journeys: [j]}`,
			[]string{"scenarios.each.vus: 10000 VUs"}},
		{"a ramp's peak", `
  ramp: {executor: ramping-vus, startVUs: 1, stages: [{duration: 1s, target: 20000}, {duration: 1s, target: 0}], journeys: [j]}`,
			[]string{"scenarios.ramp.stages: 20000 VUs"}},
		{"together, not alone", `
  a: {executor: constant-vus, vus: 5000, duration: 1s, journeys: [j]}
  b: {executor: constant-arrival-rate, rate: 1, duration: 1s, preAllocatedVUs: 5000, journeys: [j]}`,
			[]string{"test.yaml: scenarios: the scenarios' VUs (a 5000, b 5000: 10000 in all, counted as running at once)"}},
		{"a count no memory holds", `
  huge: {executor: constant-vus, vus: 9223372036854775807, duration: 1s, journeys: [j]}`,
			[]string{"need about more than 16 EiB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := scenario.Parse("test.yaml", []byte("name: t\nscenarios:"+tc.scenarios+journeys))
			if err != nil {
				t.Fatal(err)
			}
			err = executor.CheckMemory(f, gib)
			if tc.says == nil {
				if err != nil {
					t.Fatalf("CheckMemory = %v; want nil", err)
				}
				return
			}
			if !errors.Is(err, scenario.ErrInvalid) {
				t.Fatalf("CheckMemory = %v; want an error wrapping scenario.ErrInvalid", err)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("CheckMemory = %q; want it to say %q", err, s)
				}
			}
		})
	}
}
