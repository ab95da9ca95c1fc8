package env_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/taskready/taskready/env"
)

// closedPort returns a loopback URL where nothing listens: a port the
// kernel gave out a moment ago, closed again.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

func TestReach(t *testing.T) {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "broken", http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	redirect := httptest.NewServer(http.RedirectHandler(closedPort(t), http.StatusFound))
	t.Cleanup(redirect.Close)

	for _, tc := range []struct {
		name, target string
		want         error // nil: reachable
		says         string
	}{
		{"an answer, even a 500, is reachable", failing.URL, nil, ""},
		{"a redirect is an answer, not followed", redirect.URL + "/base", nil, ""},
		{"nothing listening", closedPort(t), env.ErrUnreachable, "connection refused"},
		{"no scheme", "127.0.0.1:8080", env.ErrBadTarget, ""},
		{"another scheme", "ftp://127.0.0.1:21", env.ErrBadTarget, ""},
		{"no host", "http://", env.ErrBadTarget, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := env.Reach(ctx, tc.target)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Reach(%s) = %v; want nil", tc.target, err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Reach(%s) = %v; want %v", tc.target, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("Reach(%s) = %q; want it to say %q", tc.target, err, tc.says)
			}
			if tc.want == env.ErrUnreachable && !strings.Contains(err.Error(), "check that the API is running") {
				t.Errorf("Reach(%s) = %q; want what to check", tc.target, err)
			}
		})
	}

	t.Run("the caller giving up is not the target's fault", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := env.Reach(ctx, failing.URL)
		if !errors.Is(err, context.Canceled) || errors.Is(err, env.ErrUnreachable) {
			t.Fatalf("Reach with a canceled context = %v; want context.Canceled, not ErrUnreachable", err)
		}
	})

	t.Run("Up refuses a target that does not answer", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		e, err := env.Up(ctx, env.NewExternal(env.ExternalOptions{}), env.Options{Target: closedPort(t)})
		if !errors.Is(err, env.ErrUnreachable) {
			if e != nil {
				_ = e.Close()
			}
			t.Fatalf("Up = %v; want ErrUnreachable", err)
		}
	})
}
