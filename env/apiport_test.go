package env_test

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskready/taskready/env"
	"github.com/taskready/taskready/env/envtest"
)

// A port taken between its pick and the API's listen (a free port is only
// known to have been free a moment ago) is picked again: the API comes up
// on another, where before the environment failed with "address already
// in use".
func TestAPIStartsOnAnotherPortWhenItsPortIsTaken(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	taken := held.Addr().(*net.TCPAddr).Port
	pick := *env.PickPort
	var calls atomic.Int32
	*env.PickPort = func() (int, error) {
		if calls.Add(1) == 1 {
			return taken, nil
		}
		return pick()
	}
	t.Cleanup(func() { *env.PickPort = pick })

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, err := env.Up(ctx, env.NewEmbedded(env.EmbeddedOptions{}), env.Options{
		APIBinary: envtest.APIBinary(t), Instances: 1, APIEnv: []string{"BCRYPT_COST=4"},
	})
	if err != nil {
		t.Fatalf("Up with the API's first port taken: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	u, err := url.Parse(e.APIs[0].URL())
	if err != nil {
		t.Fatal(err)
	}
	if u.Port() == strconv.Itoa(taken) {
		t.Errorf("the API's URL %s is on the port that was taken", u)
	}
	if n := calls.Load(); n < 4 {
		t.Errorf("ports picked: %d; want the two of the failed start and two more", n)
	}
}
