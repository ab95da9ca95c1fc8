package readiness_test

import (
	"context"
	"fmt"

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
`), "readiness.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	rep = readiness.Run(context.Background(), checks, target, readiness.WithPolicy(pol))
	fmt.Println(rep.Score, rep.Verdict())
	// Output:
	// 66/100 (B-) FAILED: gate high (exit 1)
	// 76/100 (B) PASSED (exit 0)
}
