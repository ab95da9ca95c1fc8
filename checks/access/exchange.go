package access

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/probe"
)

// These checks only send JSON with a fixture user's token, through
// checks/probe, which turns each call into redacted evidence; what they
// create they create through checks/fixture.

// do sends one call as u (nil for no token); as says in evidence whose
// call it is ("as B (not the owner)"). A 429 is a Problem of the
// exchange: the call learned nothing about what it tests.
func do(ctx context.Context, t *check.Target, method, path string, u *fixture.User, as string, body any) *probe.Exchange {
	r := probe.Request{Method: method, Path: path, Label: as}
	if u != nil && u.Token != "" {
		r.Header = probe.Bearer(u.Token)
	}
	if body != nil {
		r.Body, _ = json.Marshal(body) // only called with plain maps
	}
	x := probe.Send(ctx, t, r)
	return &x
}

// unexpected is the Result when a call the check relies on (reading the
// fixture's own task) did not answer as the contract says.
func unexpected(what string, x *probe.Exchange, want int) check.Result {
	if err := x.Problem(); err != nil {
		return probe.ErrorResult(what, err, x)
	}
	if x.Status == want {
		return check.Errorf(fmt.Sprintf("%s: got %d but not the JSON the contract describes", what, x.Status), x.Evidence(fmt.Sprint(want), "an unexpected body"))
	}
	return check.Errorf(fmt.Sprintf("%s: got %d, want %d", what, x.Status, want), x.Evidence(fmt.Sprint(want), fmt.Sprint(x.Status)))
}
