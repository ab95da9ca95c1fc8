package env

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// The embedded stores say before a run which faults they cannot undergo:
// only the in-process Redis refuses, and only pause.
func TestEmbeddedStoresSayWhatTheyCannotDo(t *testing.T) {
	nop := func(context.Context) error { return nil }
	mini := storeComponent{name: "redis-primary", stop: nop, start: nop, pause: nop, unpause: nop}
	server := storeComponent{name: "redis-primary", stop: nop, start: nop, pause: nop, unpause: nop, frozen: true}
	for _, action := range []string{"stop", "kill", "start"} {
		if err := mini.Can(action); err != nil {
			t.Errorf("in-process Redis Can(%s) = %v; want nil", action, err)
		}
	}
	err := mini.Can("pause")
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "install redis-server") {
		t.Errorf("in-process Redis Can(pause) = %v; want ErrUnsupported saying what to install", err)
	}
	if err := server.Can("pause"); err != nil {
		t.Errorf("redis-server Can(pause) = %v; want nil", err)
	}
}
