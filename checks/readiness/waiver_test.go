package readiness_test

import (
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/readiness"
)

// waiverPolicy waives three failing high checks until 2027-03-01, each
// in its own way.
const waiverPolicy = `overrides:
  - {id: ign, action: ignore, reason: r1, owner: alice, expires: 2027-03-01}
  - {id: wrn, action: warn, reason: r2, owner: bob, expires: 2027-03-01}
  - {id: dwn, action: downgrade, severity: low, reason: r3, owner: carol, expires: 2027-03-01}
`

func at(s string) func() time.Time {
	return func() time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}
}

// TestWaiversExpire evaluates the same failures under the same policy
// on different days: the clock alone decides whether the waivers hold.
func TestWaiversExpire(t *testing.T) {
	t.Parallel()
	rs := []readiness.Result{
		res("ign", check.Auth, check.High, check.Fail),
		res("wrn", check.Auth, check.High, check.Fail),
		res("dwn", check.Auth, check.High, check.Fail),
	}
	for _, tc := range []struct {
		name, now string
		exit      int
		state     string // of every waiver notice, "" for none
		days      int
		message   string
	}{
		{"a month before", "2027-01-30T12:00:00Z", 0, "", 0, ""},
		{"15 days before", "2027-02-14T00:00:00Z", 0, "", 0, ""},
		{"14 days before", "2027-02-15T00:00:00Z", 0, readiness.WaiverExpiring, 14, "waiver for wrn expires on 2027-03-01 (bob), in 14 days: renew it or fix the check"},
		{"the last second", "2027-02-28T23:59:59Z", 0, readiness.WaiverExpiring, 0, "waiver for wrn expires on 2027-03-01 (bob), in less than a day"},
		{"the expiry day", "2027-03-01T00:00:00Z", 1, readiness.WaiverExpired, 0, "waiver for wrn expired on 2027-03-01 (bob): the check counts as it found"},
		{"a year after", "2028-03-01T08:00:00Z", 1, readiness.WaiverExpired, 366, "waiver for dwn expired on 2027-03-01 (carol)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := evaluate(t, rs, readiness.WithPolicy(policy(t, waiverPolicy)), readiness.WithClock(at(tc.now)))
			if rep.ExitCode != tc.exit {
				t.Errorf("exit %d; want %d (%s)", rep.ExitCode, tc.exit, rep.Verdict())
			}
			if tc.state == "" {
				if len(rep.Waivers) != 0 {
					t.Errorf("waivers %+v; want none", rep.Waivers)
				}
			} else if len(rep.Waivers) != 3 {
				t.Fatalf("waivers %+v; want all three", rep.Waivers)
			}
			msgs := ""
			for _, w := range rep.Waivers {
				if w.State != tc.state || w.Days != tc.days || w.Expires != "2027-03-01" || w.Source == "" {
					t.Errorf("waiver %+v; want %s, %d days", w, tc.state, tc.days)
				}
				msgs += w.Message + "\n"
			}
			if !strings.Contains(msgs, tc.message) {
				t.Errorf("messages:\n%swant one containing %q", msgs, tc.message)
			}
			expired := tc.state == readiness.WaiverExpired
			for _, r := range rep.Results {
				if r.Override == nil || r.WaiverExpired != expired || r.Waived() == expired {
					t.Errorf("%s: override %v, expired %v; want the override kept, expired %v", r.ID, r.Override, r.WaiverExpired, expired)
				}
				// An expired waiver changes nothing: the check counts
				// as it found, and gates.
				if expired && (r.Ignored || r.EffectiveStatus != check.Fail || r.EffectiveSeverity != check.High || !r.Gating) {
					t.Errorf("%s under an expired waiver: %+v", r.ID, r)
				}
				if !expired && r.Gating {
					t.Errorf("%s gates under a valid waiver", r.ID)
				}
			}
		})
	}
}

// TestWaiversExpireAgainstTheRunsStart: re-evaluating stored results
// later gives the verdict the run had.
func TestWaiversExpireAgainstTheRunsStart(t *testing.T) {
	t.Parallel()
	info := readiness.RunInfo{ID: "t", Start: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	rep, err := readiness.Evaluate(info, []readiness.Result{res("ign", check.Auth, check.High, check.Fail)},
		readiness.WithPolicy(policy(t, waiverPolicy)), readiness.WithKnownIDs("wrn", "dwn"), readiness.WithClock(at("2030-01-01T00:00:00Z")))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed || len(rep.Waivers) != 0 || rep.Results[0].WaiverExpired {
		t.Errorf("passed %v, waivers %+v; want the run's own verdict", rep.Passed, rep.Waivers)
	}
}
