package probe

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/taskready/taskready/checks/check"
)

// Components returns the environment's components whose names start
// with prefix ("mongo", "redis-primary", "sentinel").
func Components(env check.Environment, prefix string) []string {
	var out []string
	for _, c := range env.Components() {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// Instances are the base URLs of every API instance the environment
// names, else the target's alone.
func Instances(t *check.Target) []string {
	if t.Env != nil {
		if apis := t.Env.APITargets(); len(apis) > 0 {
			return apis
		}
	}
	return []string{t.BaseURL}
}

// Stop stops the named components and returns what starts them again,
// newest first, on a context of its own, so that the environment is
// restored even when the check's context is done; calling it twice
// starts nothing twice.
func Stop(ctx context.Context, env check.Environment, names []string) (restore func() error, err error) {
	var stopped []string
	restore = func() error {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		var errs []error
		for i := len(stopped) - 1; i >= 0; i-- {
			if err := env.Apply(ctx, stopped[i], "start"); err != nil {
				errs = append(errs, fmt.Errorf("start %s: %w", stopped[i], err))
			}
		}
		stopped = nil
		return errors.Join(errs...)
	}
	for _, n := range names {
		if err := env.Apply(ctx, n, "stop"); err != nil {
			return restore, fmt.Errorf("stop %s: %w", n, err)
		}
		stopped = append(stopped, n)
	}
	return restore, nil
}
