package access_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// flaws switch on one deliberate mistake each in the fake API.
type flaws struct {
	idorRead, idorUpdate, idorDelete bool // the method ignores the owner
	silentUpdate, silentDelete       bool // another user's attempt answers 404 but is applied
	listAll                          bool // the list ignores the owner
	sharedCache                      bool // lists are cached by query only, refreshed with the writer's list
	ownerFilter                      bool // ?user= picks whose tasks are listed
	massRegister                     bool // register stores every field of the body
	massCreate, massUpdate           bool // the task takes its owner from the body
	leakHash                         bool // user answers carry the password hash
	populateOwner                    bool // task answers carry the owner, hash included
	limitEverything                  bool // every request gets 429
}

// bcryptLike is what a stored hash looks like (of nothing in particular).
const bcryptLike = "$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"

type fakeUser struct {
	fields   map[string]any // as stored: id, name, email, createdAt, and with massRegister anything
	password string
	token    string
}

// fakeAPI implements just enough of the contract for the access checks.
type fakeAPI struct {
	f     flaws
	mu    sync.Mutex
	users map[string]*fakeUser // by id
	tasks map[string]map[string]any
	order []string // task ids, oldest first
	cache map[string][]byte
}

func newFake(f flaws) *fakeAPI {
	return &fakeAPI{f: f, users: map[string]*fakeUser{}, tasks: map[string]map[string]any{}, cache: map[string][]byte{}}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func msg(s string) map[string]string { return map[string]string{"message": s} }

func now() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

// userView is the user as register, login and profile show it.
func (a *fakeAPI) userView(u *fakeUser) map[string]any {
	v := map[string]any{}
	for k, val := range u.fields {
		v[k] = val
	}
	if a.f.leakHash {
		v["password"] = bcryptLike
	}
	return v
}

// taskView is the task as answers show it.
func (a *fakeAPI) taskView(t map[string]any) map[string]any {
	v := map[string]any{}
	for k, val := range t {
		v[k] = val
	}
	if a.f.populateOwner {
		if u := a.users[t["user"].(string)]; u != nil {
			v["user"] = map[string]any{"_id": u.fields["id"], "email": u.fields["email"], "password": bcryptLike}
		}
	}
	return v
}

func (a *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.f.limitEverything {
		answer(w, http.StatusTooManyRequests, msg("Too many requests"))
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var body map[string]any
	if r.Body != nil {
		_ = json.NewDecoder(r.Body).Decode(&body)
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/auth/register":
		id := randomHex(12)
		fields := map[string]any{"id": id, "name": body["name"], "email": body["email"], "createdAt": now()}
		if a.f.massRegister {
			for k, v := range body {
				if k != "password" && k != "_id" {
					fields[k] = v
				}
			}
		}
		u := &fakeUser{fields: fields, password: body["password"].(string), token: "tok-" + randomHex(16)}
		a.users[fields["id"].(string)] = u
		answer(w, http.StatusCreated, map[string]any{"message": "User registered successfully", "token": u.token, "user": a.userView(u)})
		return
	case r.Method == http.MethodPost && r.URL.Path == "/api/auth/login":
		for _, u := range a.users {
			if u.fields["email"] == body["email"] && u.password == body["password"] {
				answer(w, http.StatusOK, map[string]any{"message": "Login successful", "token": u.token, "user": a.userView(u)})
				return
			}
		}
		answer(w, http.StatusUnauthorized, msg("Invalid email or password"))
		return
	}
	var me *fakeUser
	for _, u := range a.users {
		if "Bearer "+u.token == r.Header.Get("Authorization") {
			me = u
		}
	}
	if me == nil {
		answer(w, http.StatusUnauthorized, msg("Not authorized, invalid token"))
		return
	}
	a.serveAuthed(w, r, me, body)
}

func (a *fakeAPI) serveAuthed(w http.ResponseWriter, r *http.Request, me *fakeUser, body map[string]any) {
	uid := me.fields["id"].(string)
	path := r.URL.Path
	switch {
	case path == "/api/auth/profile":
		answer(w, http.StatusOK, map[string]any{"user": a.userView(me)})
	case path == "/api/tasks" && r.Method == http.MethodGet:
		key := r.URL.RawQuery
		if c, ok := a.cache[key]; ok && a.f.sharedCache {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(c)
			return
		}
		b, _ := json.Marshal(a.list(uid, r.URL.Query().Get("user")))
		if a.f.sharedCache {
			a.cache[key] = b
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	case path == "/api/tasks" && r.Method == http.MethodPost:
		id := randomHex(12)
		t := map[string]any{"_id": id, "title": body["title"], "description": "", "status": "pending", "user": uid, "createdAt": now(), "updatedAt": now()}
		if d, ok := body["description"].(string); ok {
			t["description"] = d
		}
		if o, ok := body["user"].(string); ok && a.f.massCreate {
			t["user"] = o
		}
		a.tasks[id] = t
		a.order = append(a.order, id)
		a.refreshCache(uid)
		answer(w, http.StatusCreated, map[string]any{"message": "Task created successfully", "task": a.taskView(t)})
	case strings.HasPrefix(path, "/api/tasks/"):
		a.serveTask(w, r, uid, strings.TrimPrefix(path, "/api/tasks/"), body)
	default:
		answer(w, http.StatusNotFound, msg("Route not found"))
	}
}

// refreshCache is the shared cache's write path: it stores the writer's
// list under the plain key, for everyone.
func (a *fakeAPI) refreshCache(uid string) {
	if a.f.sharedCache {
		b, _ := json.Marshal(a.list(uid, ""))
		a.cache[""] = b
	}
}

func (a *fakeAPI) list(uid, filter string) map[string]any {
	owner := uid
	if a.f.ownerFilter && filter != "" {
		owner = filter
	}
	out := []map[string]any{}
	for i := len(a.order) - 1; i >= 0; i-- {
		t, ok := a.tasks[a.order[i]]
		if ok && (a.f.listAll || t["user"] == owner) {
			out = append(out, a.taskView(t))
		}
	}
	return map[string]any{"count": len(out), "tasks": out}
}

func (a *fakeAPI) serveTask(w http.ResponseWriter, r *http.Request, uid, id string, body map[string]any) {
	t, found := a.tasks[id]
	mine := found && t["user"] == uid
	switch r.Method {
	case http.MethodGet:
		if mine || (found && a.f.idorRead) {
			answer(w, http.StatusOK, map[string]any{"task": a.taskView(t)})
			return
		}
	case http.MethodPut:
		if mine || (found && (a.f.idorUpdate || a.f.silentUpdate)) {
			for _, k := range []string{"title", "description", "status"} {
				if v, ok := body[k].(string); ok {
					t[k] = v
				}
			}
			if o, ok := body["user"].(string); ok && a.f.massUpdate {
				t["user"] = o
			}
			t["updatedAt"] = now()
			if mine || a.f.idorUpdate {
				answer(w, http.StatusOK, map[string]any{"message": "Task updated successfully", "task": a.taskView(t)})
				return
			}
		}
	case http.MethodDelete:
		if mine || (found && (a.f.idorDelete || a.f.silentDelete)) {
			delete(a.tasks, id)
			if mine || a.f.idorDelete {
				answer(w, http.StatusOK, msg("Task deleted successfully"))
				return
			}
		}
	}
	answer(w, http.StatusNotFound, msg("Task not found"))
}
