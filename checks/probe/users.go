package probe

import (
	"context"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
)

// Users are the two fixture users every check package of a run shares:
// A owns data, B is the other user who must not reach it.
type Users struct {
	A, B *fixture.User
	// At is when A was registered (to the second): when its token was
	// issued, for a token without iat.
	At time.Time
}

var pair Memo[*Users]

// Pair returns the run's two fixture users (kept in t.Shared),
// registering them on first use. One pair for the whole run, not one per
// package: a deployment's auth limit (5 per 15 minutes per address by
// default) affords two registrations, and every other auth request a
// check spends is one it means to make.
func Pair(ctx context.Context, t *check.Target) (*Users, error) {
	return pair.Get(ctx, t, func(ctx context.Context) (*Users, error) {
		at := time.Now().Truncate(time.Second)
		a, err := fixture.NewUser(ctx, t)
		if err != nil {
			return nil, err
		}
		b, err := fixture.NewUser(ctx, t)
		if err != nil {
			return nil, err
		}
		return &Users{A: a, B: b, At: at}, nil
	})
}

// NeedPair is Pair for a check that cannot run without the users: when
// they cannot be registered, it returns the Error result that says so.
func NeedPair(ctx context.Context, t *check.Target) (*Users, *check.Result) {
	u, err := Pair(ctx, t)
	if err != nil {
		r := ErrorResult("could not register the fixture users", err, nil)
		return nil, &r
	}
	return u, nil
}
