package env_test

import (
	"context"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/taskready/taskready/env"
	"github.com/taskready/taskready/env/envtest"
	"github.com/taskready/taskready/internal/testserver"
)

// A port taken between its pick and the API's listen (a free port is only
// known to have been free a moment ago) is picked again: the API comes up
// on another, where before the environment failed with "address already
// in use".
func TestAPIStartsOnAnotherPortWhenItsPortIsTaken(t *testing.T) {
	taken, handedOut := testserver.HoldPort(t, env.PickPort)
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
	if !handedOut() {
		t.Error("the held port was never handed out")
	}
}
