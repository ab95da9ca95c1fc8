package probe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
)

// cleanupTimeout bounds deleting a check's task after its context ended.
const cleanupTimeout = 10 * time.Second

// DeleteTask removes a task a check created, as each of owners in turn
// until one succeeds (a flawed target may have handed it to another
// user), even when ctx is done. Failures are ignored: the run's
// fixture.Cleanup removes what is left.
func DeleteTask(ctx context.Context, t *check.Target, id string, owners ...*fixture.User) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	for _, u := range owners {
		if u == nil {
			continue
		}
		if st, _, err := fixture.Do(ctx, t, http.MethodDelete, "/api/tasks/"+url.PathEscape(id), u.Token, nil, nil); err == nil && st == http.StatusOK {
			return
		}
	}
}

// DeleteCreated removes the task a 2xx answer says it created (its
// task._id), for a probe a flawed target should have refused, as
// DeleteTask does: as each of owners in turn.
func DeleteCreated(ctx context.Context, t *check.Target, x Exchange, owners ...*fixture.User) {
	var v struct {
		Task struct {
			ID string `json:"_id"`
		} `json:"task"`
	}
	if x.Status/100 == 2 && x.Decode(&v) && v.Task.ID != "" {
		DeleteTask(ctx, t, v.Task.ID, owners...)
	}
}

// Title is the title of a task a check creates: the target's prefix,
// what it is for, and a random tag, so that it cannot be mistaken for any
// other task in a list or an answer. It holds no regular-expression
// metacharacter, so a plain-text search for one cannot match it.
func Title(t *check.Target, what string) string {
	p := t.Prefix
	if p == "" {
		p = "readiness"
	}
	return p + " " + what + " " + RandomHex(4)
}

// RandomHex is n random bytes in hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// MustJSON is v as JSON, for the request bodies checks build from plain
// maps, which always encode (nil for a value that does not).
func MustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
