package readiness_test

import (
	"context"
	"fmt"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/readiness"
)

// A high-severity failure fails the run unless the policy downgrades it,
// with a reason; the downgraded failure still costs score.
func Example() {
	checks := []check.Check{
		check.Func{
			M: check.Meta{ID: "auth.no-token", Title: "Requests without a token are refused", Category: check.Auth, Severity: check.Critical},
			F: func(context.Context, *check.Target) check.Result { return check.Passf("401 without a token") },
		},
		check.Func{
			M: check.Meta{ID: "headers.hsts", Title: "HSTS is set", Category: check.Transport, Severity: check.High},
			F: func(context.Context, *check.Target) check.Result {
				return check.Failf("no Strict-Transport-Security header")
			},
		},
	}
	target := &check.Target{BaseURL: "http://127.0.0.1:5000"}

	rep := readiness.Run(context.Background(), checks, target)
	fmt.Println(rep.Score, rep.Verdict())

	pol, err := readiness.ParsePolicy([]byte(`
overrides:
  - id: headers.hsts
    action: downgrade
    severity: medium
    reason: TLS ends at the load balancer, which sets HSTS.
    owner: platform-team
    expires: 2027-06-30
`), "readiness.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	// The waiver holds until its expiry day, with a warning in the last
	// 14 days; from then on the failure gates again, and the report says
	// why.
	for _, day := range []time.Time{time.Date(2027, 6, 20, 9, 0, 0, 0, time.UTC), time.Date(2027, 6, 30, 9, 0, 0, 0, time.UTC)} {
		rep = readiness.Run(context.Background(), checks, target, readiness.WithPolicy(pol), readiness.WithClock(func() time.Time { return day }))
		fmt.Println(rep.Score, rep.Verdict())
		for _, w := range rep.Waivers {
			fmt.Println(w.Message)
		}
	}
	// Output:
	// 66/100 (B-) FAILED: gate high (exit 1)
	// 76/100 (B) PASSED (exit 0)
	// waiver for headers.hsts expires on 2027-06-30 (platform-team), in 9 days: renew it or fix the check
	// 66/100 (B-) FAILED: gate high (exit 1)
	// waiver for headers.hsts expired on 2027-06-30 (platform-team): the check counts as it found
}
