package store

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
)

// probeTimeout bounds the unauthenticated PING when ctx has no earlier
// deadline.
const probeTimeout = 5 * time.Second

// profileKeyPrefix is the API's profile cache key prefix (service/cache),
// used only to add evidence that the second profile read was cached.
const profileKeyPrefix = "taskapi:profile:"

// redisEndpoint returns where Redis listens, credentials dropped, from
// Target.RedisURL or else Target.Redis.
func redisEndpoint(t *check.Target) (network, addr string, useTLS bool, err error) {
	var o *goredis.Options
	switch {
	case t.RedisURL != "":
		o, err = goredis.ParseURL(t.RedisURL)
		if err != nil {
			// The URL may hold a password: say what failed, not the URL.
			return "", "", false, errors.New("Target.RedisURL does not parse as a redis:// or rediss:// URL")
		}
	case t.Redis != nil:
		o = t.Redis.Options()
	default:
		return "", "", false, nil
	}
	network = o.Network
	if network == "" {
		network = "tcp"
	}
	return network, o.Addr, o.TLSConfig != nil, nil
}

func redisAuth(ctx context.Context, t *check.Target) check.Result {
	network, addr, useTLS, err := redisEndpoint(t)
	if err != nil {
		return check.Errorf(err.Error())
	}
	if addr == "" {
		return check.NotApplicablef("no Redis address (Target.RedisURL or Target.Redis): unauthenticated access cannot be tried")
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	scheme := "redis"
	if useTLS {
		scheme = "rediss"
	}
	ev := check.Evidence{
		Request:  fmt.Sprintf("PING with no AUTH to %s://%s (credentials stripped)", scheme, addr),
		Expected: "connection refused by this network position, or -NOAUTH / -DENIED",
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		ev.Observed = "dial: " + err.Error()
		return check.Warnf(fmt.Sprintf("could not connect to %s from here (%v): unauthenticated access was not tested; run the check from where clients sit", addr, err), ev)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if useTLS {
		host, _, _ := net.SplitHostPort(addr)
		// The probe asks whether Redis demands credentials, not whether
		// its certificate is valid, so the certificate is not verified;
		// nothing secret is sent.
		tc := tls.Client(conn, &tls.Config{ServerName: host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}) //nolint:gosec // see above
		if err := tc.HandshakeContext(ctx); err != nil {
			ev.Observed = "TLS handshake: " + err.Error()
			if strings.Contains(err.Error(), "certificate required") {
				return check.Passf("Redis requires a TLS client certificate before any command", ev)
			}
			return check.Warnf("TLS handshake with "+addr+" failed, so unauthenticated access was not tested: "+err.Error(), ev)
		}
		conn = tc
	}
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		ev.Observed = "write: " + err.Error()
		return check.Warnf("could not send PING to "+addr+": "+err.Error(), ev)
	}
	line, err := bufio.NewReaderSize(conn, 512).ReadString('\n')
	line = strings.TrimSpace(line)
	if line == "" && err != nil {
		ev.Observed = "no answer: " + err.Error()
		return check.Warnf("Redis at "+addr+" closed the connection without answering an unauthenticated PING: access not established either way", ev)
	}
	ev.Response, ev.Observed = line, line
	switch {
	case line == "+PONG":
		return check.Failf(fmt.Sprintf("Redis at %s answers PONG without credentials: anyone who can reach it can read and change the cache and rate-limit counters", addr), ev)
	case strings.HasPrefix(line, "-NOAUTH"), strings.HasPrefix(line, "-WRONGPASS"), strings.HasPrefix(line, "-NOPERM"):
		return check.Passf("Redis at "+addr+" refuses unauthenticated commands ("+firstWord(line)+")", ev)
	case strings.HasPrefix(line, "-DENIED"):
		return check.Passf("Redis at "+addr+" refuses this client in protected mode (no password set, non-loopback client): set a password anyway", ev)
	}
	return check.Warnf("unexpected answer to an unauthenticated PING from "+addr+": "+line, ev)
}

func firstWord(s string) string {
	s = strings.TrimPrefix(s, "-")
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}

// apiTask is a task as the API shows it.
type apiTask struct {
	ID     string `json:"_id"`
	Title  string `json:"title"`
	Status string `json:"status"`
}

type listAnswer struct {
	Tasks []apiTask `json:"tasks"`
}

type taskAnswer struct {
	Task apiTask `json:"task"`
}

// withBase returns a copy of t that talks to base.
func withBase(t *check.Target, base string) *check.Target {
	c := *t
	c.BaseURL = base
	return &c
}

// cacheInvalidation checks RDS-02 as far as this API allows. The API
// caches only user profiles (service/cache) and drops one only when the
// user is deleted, which has no HTTP route; profiles cannot change
// through the API at all. So the check confirms the profile is served
// (and, with Target.Redis, cached), and then checks what a client would
// see if a cache were wrongly put in front of tasks: every read right
// after a create, an update and a delete reflects the write. With
// several API instances (Target.Env), writes go to one and reads to
// another, where a per-instance cache would show.
func cacheInvalidation(ctx context.Context, t *check.Target) (res check.Result) {
	if t.BaseURL == "" {
		return check.NotApplicablef("no API target (Target.BaseURL): cache coherence is checked through the API")
	}
	writer, reader := t, t
	instances := 1
	if t.Env != nil {
		if apis := t.Env.APITargets(); len(apis) >= 2 {
			writer, reader, instances = withBase(t, apis[0]), withBase(t, apis[1]), len(apis)
		}
	}
	u, err := fixture.NewUser(ctx, writer)
	if err != nil {
		return check.Errorf("register a fixture user: " + err.Error())
	}
	var ev []check.Evidence
	var taskID string
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if taskID != "" {
			_, _, _ = fixture.Do(cctx, writer, http.MethodDelete, "/api/tasks/"+taskID, u.Token, nil, nil)
		}
		if t.Mongo != nil {
			// Only this check's user: fixture.Cleanup would remove every
			// user of the run's prefix, including other checks' in flight.
			if err := removeUser(cctx, t, u.ID); err != nil {
				res.Evidence = append(res.Evidence, check.Evidence{Note: "cleanup: " + err.Error()})
			}
		} else {
			res.Evidence = append(res.Evidence, check.Evidence{Note: "fixture user " + u.Email + " remains: the API cannot delete users and no MongoDB connection was given"})
		}
	}()

	// The profile: read twice; the second read is the one a cache serves.
	for i := range 2 {
		status, raw, err := fixture.Do(ctx, reader, http.MethodGet, "/api/auth/profile", u.Token, nil, nil)
		if err != nil {
			return check.Errorf("GET /api/auth/profile: "+err.Error(), ev...)
		}
		if status != http.StatusOK || !strings.Contains(string(raw), u.Email) {
			return check.Failf(fmt.Sprintf("profile read %d: %d, without the user's email", i+1, status),
				append(ev, check.Evidence{Request: "GET /api/auth/profile", Response: fmt.Sprintf("%d %s", status, excerpt(raw))})...)
		}
	}
	cached := "not checked (no Target.Redis)"
	if t.Redis != nil {
		if n, err := t.Redis.Exists(ctx, profileKeyPrefix+u.ID).Result(); err == nil {
			cached = fmt.Sprintf("key %s%s exists: %t", profileKeyPrefix, u.ID, n == 1)
		} else {
			cached = "EXISTS failed: " + err.Error()
		}
	}
	ev = append(ev, check.Evidence{Request: "GET /api/auth/profile twice", Response: "200 both, with the user's email; cache: " + cached,
		Note: "the API caches profiles and invalidates them on user deletion only, which has no HTTP route: profile invalidation cannot be exercised through the API"})

	step := func(name string, ok bool, req, resp string) *check.Result {
		e := check.Evidence{Request: req, Response: resp, Expected: name}
		if ok {
			e.Observed = "fresh"
			ev = append(ev, e)
			return nil
		}
		e.Observed = "stale"
		ev = append(ev, e)
		r := check.Failf("stale read: "+name, ev...)
		return &r
	}
	list := func(query string) ([]apiTask, string, error) {
		var out listAnswer
		status, raw, err := fixture.Do(ctx, reader, http.MethodGet, "/api/tasks"+query, u.Token, nil, &out)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("%w: GET /api/tasks%s: %d %s", fixture.ErrUnexpected, query, status, excerpt(raw))
		}
		return out.Tasks, fmt.Sprintf("%d, %d task(s)", status, len(out.Tasks)), err
	}
	get := func() (apiTask, int, error) {
		var out taskAnswer
		status, _, err := fixture.Do(ctx, reader, http.MethodGet, "/api/tasks/"+taskID, u.Token, nil, &out)
		return out.Task, status, err
	}
	find := func(ts []apiTask) (apiTask, bool) {
		for _, x := range ts {
			if x.ID == taskID {
				return x, true
			}
		}
		return apiTask{}, false
	}

	// Create, then read the list and the task at once.
	title := "cache check " + u.ID
	created, err := fixture.NewTask(ctx, writer, u, title)
	if err != nil {
		return check.Errorf("create a task: "+err.Error(), ev...)
	}
	taskID = created.ID
	ts, resp, err := list("")
	if err != nil {
		return check.Errorf(err.Error(), ev...)
	}
	_, there := find(ts)
	if r := step("a new task is in the list read right after creating it", there, "POST /api/tasks then GET /api/tasks", resp); r != nil {
		return *r
	}

	// Update, then read the task and the filtered list at once.
	newTitle := title + " (updated)"
	status, raw, err := fixture.Do(ctx, writer, http.MethodPut, "/api/tasks/"+taskID, u.Token, map[string]string{"title": newTitle, "status": "completed"}, nil)
	if err != nil || status != http.StatusOK {
		return check.Errorf(fmt.Sprintf("PUT /api/tasks/%s: %d %v %s", taskID, status, err, excerpt(raw)), ev...)
	}
	got, code, err := get()
	if err != nil {
		return check.Errorf(err.Error(), ev...)
	}
	if r := step("the task read right after an update shows the update", code == http.StatusOK && got.Title == newTitle && got.Status == "completed",
		"PUT /api/tasks/{id} then GET /api/tasks/{id}", fmt.Sprintf("%d title %q status %q", code, got.Title, got.Status)); r != nil {
		return *r
	}
	ts, resp, err = list("?status=completed")
	if err != nil {
		return check.Errorf(err.Error(), ev...)
	}
	inList, there := find(ts)
	if r := step("the list filtered by the new status, read right after the update, shows the update", there && inList.Title == newTitle,
		"GET /api/tasks?status=completed", resp); r != nil {
		return *r
	}

	// Delete, then read both at once.
	status, raw, err = fixture.Do(ctx, writer, http.MethodDelete, "/api/tasks/"+taskID, u.Token, nil, nil)
	if err != nil || status != http.StatusOK {
		return check.Errorf(fmt.Sprintf("DELETE /api/tasks/%s: %d %v %s", taskID, status, err, excerpt(raw)), ev...)
	}
	deleted := taskID
	_, code, err = get()
	if err != nil {
		return check.Errorf(err.Error(), ev...)
	}
	ts, resp, err = list("")
	if err != nil {
		return check.Errorf(err.Error(), ev...)
	}
	_, there = find(ts)
	taskID = "" // gone
	if r := step("a deleted task is gone from the task read and the list read right after deleting it", code == http.StatusNotFound && !there,
		"DELETE /api/tasks/"+deleted+" then GET /api/tasks/{id} and GET /api/tasks", fmt.Sprintf("GET by id %d; list %s", code, resp)); r != nil {
		return *r
	}
	where := "one API instance"
	if instances > 1 {
		where = fmt.Sprintf("writes on %s, reads on %s (%d instances)", writer.BaseURL, reader.BaseURL, instances)
	}
	return check.Passf("reads right after a create, an update and a delete were fresh ("+where+"); profile invalidation has no API route to exercise", ev...)
}

// removeUser deletes the fixture user and its tasks from MongoDB, and its
// cached profile, which the API would otherwise keep serving (and so
// keep the user's token valid) until the cache entry expires.
func removeUser(ctx context.Context, t *check.Target, id string) error {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return fmt.Errorf("fixture user id %q: %w", id, err)
	}
	db := t.Mongo.Database(t.DatabaseName())
	if _, err := db.Collection("tasks").DeleteMany(ctx, bson.D{{Key: "user", Value: oid}}); err != nil {
		return fmt.Errorf("delete fixture tasks: %w", err)
	}
	if _, err := db.Collection("users").DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}}); err != nil {
		return fmt.Errorf("delete fixture user: %w", err)
	}
	if t.Redis != nil {
		if err := t.Redis.Del(ctx, profileKeyPrefix+id).Err(); err != nil {
			return fmt.Errorf("drop the fixture user's cached profile: %w", err)
		}
	}
	return nil
}

// excerpt is the start of a body, for evidence.
func excerpt(b []byte) string {
	const max = 200
	s := string(b)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
