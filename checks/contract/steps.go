package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// step is one entry of the table Run walks.
type step struct {
	name  string
	needs []string // steps that must have passed; otherwise this one is skipped
	run   func(*runner, context.Context) error
}

// Names of the steps others depend on.
const (
	stepRegister = "register"
	stepCreate   = "create-task"
)

// steps is the contract, in the order it is checked. Exactly five requests
// go to the auth-limited routes: register, register-duplicate,
// login-wrong-password, login and, in isolation, register B.
var steps = []step{
	{name: "health", run: (*runner).health},
	{name: "healthz-readyz", run: (*runner).probes},
	{name: stepRegister, run: (*runner).register},
	{name: "register-duplicate", needs: []string{stepRegister}, run: (*runner).registerDuplicate},
	{name: "login-wrong-password", needs: []string{stepRegister}, run: (*runner).loginWrong},
	{name: "login", needs: []string{stepRegister}, run: (*runner).login},
	{name: "profile", needs: []string{stepRegister}, run: (*runner).profile},
	{name: stepCreate, needs: []string{stepRegister}, run: (*runner).createTask},
	{name: "list-tasks", needs: []string{stepCreate}, run: (*runner).listTasks},
	{name: "get-task", needs: []string{stepCreate}, run: (*runner).getTask},
	{name: "security-headers", needs: []string{stepCreate}, run: (*runner).securityHeaders},
	{name: "isolation", needs: []string{stepCreate}, run: (*runner).isolation},
	{name: "update-task", needs: []string{stepCreate}, run: (*runner).updateTask},
	{name: "delete-task", needs: []string{stepCreate}, run: (*runner).deleteTask},
	{name: "logout", run: (*runner).logout},
}

// The messages of the contract (service/httpapi, service/task, service/user).
const (
	msgRegistered    = "User registered successfully"
	msgEmailTaken    = "User already exists with this email"
	msgBadLogin      = "Invalid email or password"
	msgLoggedIn      = "Login successful"
	msgNoToken       = "Not authorized, no token provided"
	msgBadToken      = "Not authorized, invalid token"
	msgTitleRequired = "Title is required"
	msgBadStatus     = "Invalid status. Must be: pending, in-progress, or completed"
	msgCreated       = "Task created successfully"
	msgUpdated       = "Task updated successfully"
	msgDeleted       = "Task deleted successfully"
	msgTaskNotFound  = "Task not found"
	msgLoggedOut     = "Logged out"
)

const (
	taskTitle = "Smoke task"
	taskRoute = "/api/tasks/{id}"
)

type userJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	CreatedAt string `json:"createdAt"`
}

type authJSON struct {
	Message string    `json:"message"`
	Token   string    `json:"token"`
	User    *userJSON `json:"user"`
}

type taskJSON struct {
	ID          string `json:"_id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Status      string `json:"status"`
	User        string `json:"user"`
	CreatedAt   string `json:"createdAt"`
	UpdatedAt   string `json:"updatedAt"`
}

type taskAnswer struct {
	Message string    `json:"message"`
	Task    *taskJSON `json:"task"`
}

type listJSON struct {
	Count      *int        `json:"count"`
	Tasks      *[]taskJSON `json:"tasks"`
	Pagination *struct {
		Page  int `json:"page"`
		Limit int `json:"limit"`
		Total int `json:"total"`
		Pages int `json:"pages"`
	} `json:"pagination"`
}

func (r *runner) get(ctx context.Context, path string) (*reply, error) {
	return r.do(ctx, request{method: http.MethodGet, path: path})
}

func (r *runner) taskPath() string { return "/api/tasks/" + url.PathEscape(r.task.ID) }

// 1. GET /api/health answers as the original API did.
func (r *runner) health(ctx context.Context) error {
	p, err := r.get(ctx, "/api/health")
	if err != nil {
		return err
	}
	var v struct{ Status, Message string }
	if err := p.decode(http.StatusOK, "", &v); err != nil {
		return err
	}
	if v.Status != "OK" || v.Message != "Server is running" {
		return p.mismatch(`{"status":"OK","message":"Server is running"}`)
	}
	return nil
}

// 2. The liveness and readiness probes.
func (r *runner) probes(ctx context.Context) error {
	p, err := r.get(ctx, "/healthz")
	if err != nil {
		return err
	}
	if err := p.expect(http.StatusOK, ""); err != nil {
		return err
	}
	if p, err = r.get(ctx, "/readyz"); err != nil {
		return err
	}
	var v struct{ Status string }
	if err := p.decode(http.StatusOK, "", &v); err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(p.header.Get("Content-Type")); mt != "application/health+json" {
		return fmt.Errorf("%s: got Content-Type %q; want application/health+json", p.call, p.header.Get("Content-Type"))
	}
	if v.Status != "pass" && v.Status != "warn" {
		return p.mismatch(`status "pass" or "warn"`)
	}
	return nil
}

// registerAs registers acct and checks the whole answer, cookie included.
func (r *runner) registerAs(ctx context.Context, acct *account) error {
	p, err := r.do(ctx, request{method: http.MethodPost, path: "/api/auth/register", as: "(user " + acct.label + ")",
		body: map[string]string{"name": acct.name, "email": acct.email, "password": acct.password}})
	if err != nil {
		return err
	}
	var v authJSON
	if err := p.decode(http.StatusCreated, msgRegistered, &v); err != nil {
		return err
	}
	switch {
	case v.Token == "":
		return p.mismatch("a token")
	case v.User == nil || v.User.ID == "" || v.User.Name != acct.name || v.User.Email != acct.email:
		return p.mismatch("user {id, name %q, email %q}", acct.name, acct.email)
	case bytes.Contains(bytes.ToLower(p.body), []byte("password")):
		return fmt.Errorf("%s: got a body that mentions a password; want none", p.call)
	}
	if err := authCookie(p); err != nil {
		return err
	}
	acct.id, acct.token = v.User.ID, v.Token
	return nil
}

// authCookie checks that p set the token cookie HttpOnly and SameSite=Strict.
// It never quotes the cookie, whose value is the token.
func authCookie(p *reply) error {
	for _, c := range p.cookie {
		if c.Name != "token" {
			continue
		}
		var bad []string
		if c.Value == "" {
			bad = append(bad, "an empty value")
		}
		if !c.HttpOnly {
			bad = append(bad, "no HttpOnly")
		}
		if c.SameSite != http.SameSiteStrictMode {
			bad = append(bad, "no SameSite=Strict")
		}
		if len(bad) > 0 {
			return fmt.Errorf("%s: got a token cookie with %s; want HttpOnly, SameSite=Strict", p.call, strings.Join(bad, ", "))
		}
		return nil
	}
	return fmt.Errorf("%s: got no Set-Cookie token; want the token cookie, HttpOnly, SameSite=Strict", p.call)
}

// 3. Register user A.
func (r *runner) register(ctx context.Context) error { return r.registerAs(ctx, &r.a) }

// 4. The same email, upper-cased, is the same user.
func (r *runner) registerDuplicate(ctx context.Context) error {
	p, err := r.do(ctx, request{method: http.MethodPost, path: "/api/auth/register", as: "(A's email in upper case)",
		body: map[string]string{"name": r.a.name, "email": strings.ToUpper(r.a.email), "password": r.a.password}})
	if err != nil {
		return err
	}
	return p.expect(http.StatusBadRequest, msgEmailTaken)
}

// 5. A wrong password is refused.
func (r *runner) loginWrong(ctx context.Context) error {
	p, err := r.do(ctx, request{method: http.MethodPost, path: "/api/auth/login", as: "(wrong password)",
		body: map[string]string{"email": r.a.email, "password": r.a.password + "-wrong"}})
	if err != nil {
		return err
	}
	return p.expect(http.StatusUnauthorized, msgBadLogin)
}

// 6. The right password logs A in.
func (r *runner) login(ctx context.Context) error {
	p, err := r.do(ctx, request{method: http.MethodPost, path: "/api/auth/login", as: "(user A)",
		body: map[string]string{"email": r.a.email, "password": r.a.password}})
	if err != nil {
		return err
	}
	var v authJSON
	if err := p.decode(http.StatusOK, msgLoggedIn, &v); err != nil {
		return err
	}
	if v.Token == "" {
		return p.mismatch("a token")
	}
	if v.User == nil || v.User.ID != r.a.id {
		return p.mismatch("user.id %q (A's)", r.a.id)
	}
	return nil
}

// 7. The profile needs a valid token.
func (r *runner) profile(ctx context.Context) error {
	const path = "/api/auth/profile"
	p, err := r.do(ctx, request{method: http.MethodGet, path: path, as: "without token"})
	if err != nil {
		return err
	}
	if err := p.expect(http.StatusUnauthorized, msgNoToken); err != nil {
		return err
	}
	p, err = r.do(ctx, request{method: http.MethodGet, path: path, as: "with Bearer garbage", token: "garbage"})
	if err != nil {
		return err
	}
	if err := p.expect(http.StatusUnauthorized, msgBadToken); err != nil {
		return err
	}
	p, err = r.do(ctx, request{method: http.MethodGet, path: path, as: "as A", token: r.a.token})
	if err != nil {
		return err
	}
	var v struct{ User *userJSON }
	if err := p.decode(http.StatusOK, "", &v); err != nil {
		return err
	}
	if u := v.User; u == nil || u.ID != r.a.id || u.Name != r.a.name || u.Email != r.a.email || !isJSTime(u.CreatedAt) {
		return p.mismatch("user {id %q, name %q, email %q, createdAt ISO-8601 UTC with milliseconds}", r.a.id, r.a.name, r.a.email)
	}
	return nil
}

// postTask creates a task as A, remembering any task the target created,
// even one it should have refused, so that the cleanup deletes it.
func (r *runner) postTask(ctx context.Context, as string, body any) (*reply, error) {
	p, err := r.do(ctx, request{method: http.MethodPost, path: "/api/tasks", as: as, token: r.a.token, body: body})
	if err == nil && p.status == http.StatusCreated {
		var v taskAnswer
		if json.Unmarshal(p.body, &v) == nil && v.Task != nil && v.Task.ID != "" {
			r.created = append(r.created, v.Task.ID)
		}
	}
	return p, err
}

// 8. Task validation and creation.
func (r *runner) createTask(ctx context.Context) error {
	p, err := r.postTask(ctx, "{}", map[string]string{})
	if err != nil {
		return err
	}
	if err := p.expect(http.StatusBadRequest, msgTitleRequired); err != nil {
		return err
	}
	p, err = r.postTask(ctx, `{status:"done"}`, map[string]string{"title": "x", "status": "done"})
	if err != nil {
		return err
	}
	if err := p.expect(http.StatusBadRequest, msgBadStatus); err != nil {
		return err
	}
	p, err = r.postTask(ctx, "", map[string]string{"title": taskTitle, "description": "d"})
	if err != nil {
		return err
	}
	var v taskAnswer
	if err := p.decode(http.StatusCreated, msgCreated, &v); err != nil {
		return err
	}
	t := v.Task
	switch {
	case t == nil || t.ID == "":
		return p.mismatch("a task with an _id")
	case t.Title != taskTitle || t.Description != "d" || t.Status != "pending":
		return p.mismatch(`title %q, description "d", status "pending"`, taskTitle)
	case t.User != r.a.id:
		return p.mismatch("user %q (A's id)", r.a.id)
	case !isJSTime(t.CreatedAt) || !isJSTime(t.UpdatedAt):
		return p.mismatch("createdAt and updatedAt ISO-8601 UTC with milliseconds (2006-01-02T15:04:05.000Z)")
	}
	r.task = *t
	return nil
}

// list gets a task list as A and checks its shape.
func (r *runner) list(ctx context.Context, query string) (*reply, listJSON, error) {
	p, err := r.do(ctx, request{method: http.MethodGet, path: "/api/tasks" + query, token: r.a.token})
	if err != nil {
		return nil, listJSON{}, err
	}
	var v listJSON
	if err := p.decode(http.StatusOK, "", &v); err != nil {
		return nil, v, err
	}
	if v.Count == nil || v.Tasks == nil || *v.Count != len(*v.Tasks) {
		return nil, v, p.mismatch("{count, tasks} with count == len(tasks)")
	}
	return p, v, nil
}

func (r *runner) contains(tasks []taskJSON) bool {
	return slices.ContainsFunc(tasks, func(t taskJSON) bool { return t.ID == r.task.ID })
}

// 9. Listing, search and pagination.
func (r *runner) listTasks(ctx context.Context) error {
	p, v, err := r.list(ctx, "")
	if err != nil {
		return err
	}
	if !r.contains(*v.Tasks) {
		return p.mismatch("the task %s in tasks", r.task.ID)
	}
	for i := 1; i < len(*v.Tasks); i++ {
		prev, next := parseJSTime((*v.Tasks)[i-1].CreatedAt), parseJSTime((*v.Tasks)[i].CreatedAt)
		if prev.Before(next) {
			return p.mismatch("tasks newest first (by createdAt)")
		}
	}
	if p, v, err = r.list(ctx, "?search=smoke%20TASK"); err != nil {
		return err
	}
	if !r.contains(*v.Tasks) {
		return p.mismatch("the task %s: search is case-insensitive plain text", r.task.ID)
	}
	if p, v, err = r.list(ctx, "?search=.*"); err != nil {
		return err
	}
	if r.contains(*v.Tasks) {
		return p.mismatch("no task: search is plain text, never a regular expression")
	}
	if p, v, err = r.list(ctx, "?page=1&limit=1"); err != nil {
		return err
	}
	if pg := v.Pagination; pg == nil || pg.Page != 1 || pg.Limit != 1 || pg.Total < 1 || pg.Pages < 1 || len(*v.Tasks) > 1 {
		return p.mismatch("pagination {page:1, limit:1, total>=1, pages>=1} and at most 1 task")
	}
	return nil
}

// getTaskAs reads A's task with token.
func (r *runner) getTaskAs(ctx context.Context, token, as string) (*reply, error) {
	return r.do(ctx, request{method: http.MethodGet, path: r.taskPath(), route: taskRoute, as: as, token: token})
}

// 10. Reading one task, and an id that is not one.
func (r *runner) getTask(ctx context.Context) error {
	p, err := r.getTaskAs(ctx, r.a.token, "")
	if err != nil {
		return err
	}
	var v taskAnswer
	if err := p.decode(http.StatusOK, "", &v); err != nil {
		return err
	}
	if v.Task == nil || v.Task.ID != r.task.ID || v.Task.Title != r.task.Title {
		return p.mismatch("task {_id %q, title %q}", r.task.ID, r.task.Title)
	}
	p, err = r.do(ctx, request{method: http.MethodGet, path: "/api/tasks/not-an-id", token: r.a.token})
	if err != nil {
		return err
	}
	return p.expect(http.StatusNotFound, msgTaskNotFound)
}

// 11. The security headers of an authenticated answer.
func (r *runner) securityHeaders(ctx context.Context) error {
	p, err := r.getTaskAs(ctx, r.a.token, "")
	if err != nil {
		return err
	}
	if err := p.expect(http.StatusOK, ""); err != nil {
		return err
	}
	h := p.header
	var bad []string
	if v := h.Get("X-Content-Type-Options"); !strings.EqualFold(v, "nosniff") {
		bad = append(bad, fmt.Sprintf("X-Content-Type-Options %q; want nosniff", v))
	}
	if h.Get("X-Frame-Options") == "" {
		bad = append(bad, "no X-Frame-Options; want one")
	}
	if v := h.Get("X-Powered-By"); v != "" {
		bad = append(bad, fmt.Sprintf("X-Powered-By %q; want none", v))
	}
	if v := h.Get("Cache-Control"); !strings.Contains(strings.ToLower(v), "no-store") {
		bad = append(bad, fmt.Sprintf("Cache-Control %q; want no-store", v))
	}
	if h.Get("X-Request-ID") == "" {
		bad = append(bad, "no X-Request-ID; want one")
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: got %s", p.call, strings.Join(bad, "; got "))
	}
	return nil
}

// 12. Another user can neither read, change nor delete A's task.
func (r *runner) isolation(ctx context.Context) error {
	if err := r.registerAs(ctx, &r.b); err != nil {
		return err
	}
	for _, q := range []request{
		{method: http.MethodGet},
		{method: http.MethodPut, body: map[string]string{"title": "changed by B", "status": "completed"}},
		{method: http.MethodDelete},
	} {
		q.path, q.route, q.as, q.token = r.taskPath(), taskRoute, "as B", r.b.token
		p, err := r.do(ctx, q)
		if err != nil {
			return err
		}
		if err := p.expect(http.StatusNotFound, msgTaskNotFound); err != nil {
			return err
		}
	}
	p, err := r.getTaskAs(ctx, r.a.token, "as A after B")
	if err != nil {
		return err
	}
	var v taskAnswer
	if err := p.decode(http.StatusOK, "", &v); err != nil {
		return err
	}
	if t := v.Task; t == nil || t.Title != r.task.Title || t.Status != r.task.Status || t.UpdatedAt != r.task.UpdatedAt {
		return p.mismatch("the task unchanged: title %q, status %q, updatedAt %s", r.task.Title, r.task.Status, r.task.UpdatedAt)
	}
	return nil
}

// 13. An update cannot hand the task to another user.
func (r *runner) updateTask(ctx context.Context) error {
	other := r.b.id
	if other == "" {
		other = "000000000000000000000000" // B was not registered; any other id will do
	}
	p, err := r.do(ctx, request{method: http.MethodPut, path: r.taskPath(), route: taskRoute, token: r.a.token,
		body: map[string]string{"status": "completed", "user": other}})
	if err != nil {
		return err
	}
	var v taskAnswer
	if err := p.decode(http.StatusOK, msgUpdated, &v); err != nil {
		return err
	}
	if t := v.Task; t == nil || t.Status != "completed" || t.User != r.a.id || t.Title != r.task.Title {
		return p.mismatch(`status "completed", user still %q (A's), title %q`, r.a.id, r.task.Title)
	}
	return nil
}

// 14. Delete, then the task is gone.
func (r *runner) deleteTask(ctx context.Context) error {
	p, err := r.do(ctx, request{method: http.MethodDelete, path: r.taskPath(), route: taskRoute, token: r.a.token})
	if err != nil {
		return err
	}
	if err := p.expect(http.StatusOK, msgDeleted); err != nil {
		return err
	}
	r.deleted[r.task.ID] = true
	if p, err = r.getTaskAs(ctx, r.a.token, "after delete"); err != nil {
		return err
	}
	return p.expect(http.StatusNotFound, msgTaskNotFound)
}

// 15. Logout answers and clears the token cookie.
func (r *runner) logout(ctx context.Context) error {
	p, err := r.do(ctx, request{method: http.MethodPost, path: "/api/auth/logout"})
	if err != nil {
		return err
	}
	if err := p.expect(http.StatusOK, msgLoggedOut); err != nil {
		return err
	}
	for _, c := range p.cookie {
		if c.Name == "token" && (c.Value == "" || c.MaxAge < 0 || !c.Expires.IsZero() && c.Expires.Before(time.Now())) {
			return nil
		}
	}
	return fmt.Errorf("%s: got no Set-Cookie that clears token; want the token cookie cleared", p.call)
}

var jsTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// isJSTime reports whether s is a timestamp as JavaScript's toJSON writes it.
func isJSTime(s string) bool { return jsTime.MatchString(s) && !parseJSTime(s).IsZero() }

func parseJSTime(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04:05.000Z", s)
	if err != nil {
		return time.Time{}
	}
	return t
}
