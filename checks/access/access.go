// Package access checks that the task API keeps each user's data to that
// user (OWASP API1 and API3:2023, WSTG-APIT-02): another user can neither read, change nor
// delete a task (BOLA/IDOR), lists never carry another user's tasks (also
// right after a write, which is when a cache shared across users shows),
// fields a client must not set (owner, _id, timestamps, role, isAdmin) are
// ignored on register, create and update, and no answer carries a password
// or its hash.
//
// # Data and cleanup
//
// What the checks create carries the target's prefix, whether made
// through checks/fixture or by their own requests (fixture emails, titles
// that start with the prefix). Each check deletes the tasks it created
// through the API before it returns (as their owner, and as the other
// user should a flawed target have handed a task over); the users stay
// (the API cannot delete them) and are the caller's to remove, with one
// fixture.Cleanup after all checks.
//
// # Load on the target
//
// The checks of a run (one Target.Shared) share two fixture users,
// A and B, registered by the first check that needs them.
// authz.mass-assignment registers one more (with the extra fields) and
// authz.no-password one more and logs it in (it must see those answers):
// five auth requests in all. A 429 is reported as an error (no verdict).
//
// # Severity
//
// Critical: reading, changing or deleting another user's task, or seeing
// it in a list (OWASP API1). High: mass assignment and password exposure
// (OWASP API3), which need a further step to become a breach.
package access

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/taskready/taskready/checks/check"
	"github.com/taskready/taskready/checks/fixture"
	"github.com/taskready/taskready/checks/probe"
)

// The check ids, stable across versions: policies and baselines use them.
const (
	IDIDORRead       = "authz.idor-read"       // another user cannot read a task
	IDIDORUpdate     = "authz.idor-update"     // another user cannot change a task
	IDIDORDelete     = "authz.idor-delete"     // another user cannot delete a task
	IDListIsolation  = "authz.list-isolation"  // lists never carry another user's tasks
	IDMassAssignment = "authz.mass-assignment" // owner, ids, timestamps, roles are not assignable
	IDNoPassword     = "authz.no-password"     // no answer carries a password or its hash
)

// Checks returns the access checks, in report order.
func Checks() []check.Check {
	return []check.Check{
		check.Func{M: metaIDOR(IDIDORRead, "read"), F: idor(http.MethodGet)},
		check.Func{M: metaIDOR(IDIDORUpdate, "change"), F: idor(http.MethodPut)},
		check.Func{M: metaIDOR(IDIDORDelete, "delete"), F: idor(http.MethodDelete)},
		check.Func{M: metaList, F: listIsolation},
		check.Func{M: metaMass, F: massAssignment},
		check.Func{M: metaNoPassword, F: noPassword},
	}
}

func metaIDOR(id, verb string) check.Meta {
	return check.Meta{
		ID: id, Title: fmt.Sprintf("Another user cannot %s a user's task", verb),
		Category: check.Authz, Severity: check.Critical,
		Remediation: "Scope every task query by the authenticated user as well as the id (findOne({_id, user})), and answer 404 when it matches nothing, so that another user's task is indistinguishable from a missing one.",
		References:  []string{"OWASP API1:2023", "ASVS 5.0 V8.2.2", "CWE-639", "WSTG-APIT-02"},
	}
}

var (
	metaList = check.Meta{
		ID: IDListIsolation, Title: "Task lists never carry another user's tasks, even right after a write",
		Category: check.Authz, Severity: check.Critical,
		Remediation: "Filter every list by the authenticated user (ignoring owner filters in the query), and key any cached list by user as well as query, invalidating it on that user's writes.",
		References:  []string{"OWASP API1:2023", "ASVS 5.0 V8.2.2", "CWE-639", "CWE-524", "WSTG-APIT-02"},
	}
	metaMass = check.Meta{
		ID: IDMassAssignment, Title: "Fields a client must not set are ignored on register, create and update",
		Category: check.Authz, Severity: check.High,
		Remediation: "Copy only allowed fields from request bodies (name, email, password; title, description, status), never the body itself; set owner, ids and timestamps on the server.",
		References:  []string{"OWASP API3:2023", "ASVS 5.0 V8.2.3", "CWE-915", "WSTG-INPV-20"},
	}
	metaNoPassword = check.Meta{
		ID: IDNoPassword, Title: "No answer carries a password or a password hash",
		Category: check.Authz, Severity: check.High,
		Remediation: "Answer with an allowlist of fields per resource (id, name, email, createdAt for a user); exclude the password hash from every query projection and every populated owner.",
		References:  []string{"OWASP API3:2023", "ASVS 5.0 V8.2.3", "CWE-200", "CWE-213"},
	}
)

// task is a task as the API answers it.
type task struct {
	ID, Title, Description, Status, User, CreatedAt string
	fields                                          map[string]any
}

// taskFrom reads a task object leniently: a flawed target may populate
// the owner as an object, and that must not hide what else it shows.
func taskFrom(m map[string]any) task {
	str := func(k string) string { s, _ := m[k].(string); return s }
	tk := task{ID: str("_id"), Title: str("title"), Description: str("description"), Status: str("status"),
		User: str("user"), CreatedAt: str("createdAt"), fields: m}
	if owner, ok := m["user"].(map[string]any); ok {
		for _, k := range []string{"_id", "id"} {
			if id, ok := owner[k].(string); ok {
				tk.User = id
				break
			}
		}
	}
	return tk
}

// parseTask reads {"task": {...}} from x.
func parseTask(x *probe.Exchange) (*task, bool) {
	var v struct {
		Task map[string]any `json:"task"`
	}
	if !x.Decode(&v) || v.Task == nil {
		return nil, false
	}
	tk := taskFrom(v.Task)
	return &tk, true
}

// parseList reads {"tasks": [...]} from x.
func parseList(x *probe.Exchange) ([]task, bool) {
	var v struct {
		Tasks []map[string]any `json:"tasks"`
	}
	if !x.Decode(&v) || v.Tasks == nil {
		return nil, false
	}
	out := make([]task, len(v.Tasks))
	for i, m := range v.Tasks {
		out[i] = taskFrom(m)
	}
	return out, true
}

func (tk *task) String() string {
	return fmt.Sprintf("title %q, description %q, status %q, user %q", tk.Title, tk.Description, tk.Status, tk.User)
}

// changes lists how after differs from before in what a user owns.
func changes(before, after *task) []string {
	var out []string
	diff := func(name, b, a string) {
		if b != a {
			out = append(out, fmt.Sprintf("%s %q → %q", name, b, a))
		}
	}
	diff("title", before.Title, after.Title)
	diff("description", before.Description, after.Description)
	diff("status", before.Status, after.Status)
	diff("user", before.User, after.User)
	return out
}

// readTask reads task id as u.
func readTask(ctx context.Context, t *check.Target, u *fixture.User, as, id string) (*task, *probe.Exchange) {
	x := do(ctx, t, http.MethodGet, "/api/tasks/"+id, u, as, nil)
	if x.Problem() != nil || x.Status != http.StatusOK {
		return nil, x
	}
	tk, _ := parseTask(x)
	return tk, x
}

// idor is the check that B cannot apply method to A's task.
func idor(method string) func(ctx context.Context, t *check.Target) check.Result {
	return func(ctx context.Context, t *check.Target) check.Result {
		us, res := probe.NeedPair(ctx, t)
		if res != nil {
			return *res
		}
		a, b := us.A, us.B
		created, err := fixture.NewTask(ctx, t, a, probe.Title(t, "idor "+strings.ToLower(method)))
		if err != nil {
			return probe.ErrorResult("could not create A's task", err, nil)
		}
		defer probe.DeleteTask(ctx, t, created.ID, a, b)
		before, x := readTask(ctx, t, a, "as A (the owner)", created.ID)
		if before == nil {
			return unexpected("A cannot read the task A just created", x, http.StatusOK)
		}

		var body any
		if method == http.MethodPut {
			body = map[string]string{"title": "changed by another user", "description": "changed by another user", "status": "completed"}
		}
		att := do(ctx, t, method, "/api/tasks/"+created.ID, b, "as B (not the owner)", body)
		const expected = "404 (403 accepted), nothing of the task in the answer, the task unchanged for its owner"
		var f probe.Tally
		switch {
		case att.Problem() != nil:
			return probe.ErrorResult("B's attempt reached no verdict", att.Problem(), att)
		case att.Status >= 200 && att.Status < 300:
			f.Note(probe.Fail, att.Evidence(expected, fmt.Sprintf("%d: another user's %s succeeded", att.Status, method)))
		case att.Status == http.StatusUnauthorized:
			return probe.ErrorResult(fmt.Sprintf("B's own token was refused (%d), so the refusal says nothing about ownership", att.Status), nil, att)
		case att.Status == http.StatusNotFound || att.Status == http.StatusForbidden:
		default:
			f.Note(probe.Warn, att.Evidence(expected, fmt.Sprintf("%d: refused, but not with 404 or 403", att.Status)))
		}
		if att.Status/100 != 2 && strings.Contains(string(att.Body), created.Title) {
			f.Note(probe.Fail, att.Evidence(expected, fmt.Sprintf("%d, but the answer carries A's task", att.Status)))
		}

		// The status alone is not enough: a target may answer 404 and
		// still have done it. The owner's view decides.
		after, x := readTask(ctx, t, a, "as A (the owner), after B's attempt", created.ID)
		switch {
		case x.Problem() != nil:
			return probe.ErrorResult("A's re-read reached no verdict", x.Problem(), x)
		case x.Status == http.StatusNotFound:
			f.Note(probe.Fail, x.Evidence("200 with the task unchanged: "+before.String(), fmt.Sprintf("404: the task is gone after B's %s answered %d", method, att.Status)))
		case after == nil:
			return unexpected("A cannot re-read the task", x, http.StatusOK)
		default:
			if d := changes(before, after); len(d) > 0 {
				f.Note(probe.Fail, x.Evidence("the task unchanged: "+before.String(), fmt.Sprintf("changed after B's %s answered %d: %s", method, att.Status, strings.Join(d, ", "))))
			}
		}
		return f.Result(fmt.Sprintf("another user's %s reached A's task", method),
			fmt.Sprintf("B's %s of A's task got %d and the task is unchanged for A", method, att.Status))
	}
}

// leaks are the tasks of a list answer that are not the lister's: those
// the check created for A, or any that names A as its owner.
func leaks(x *probe.Exchange, aID string, aTasks []string) ([]string, bool) {
	list, ok := parseList(x)
	if !ok {
		return nil, false
	}
	var out []string
	for _, tk := range list {
		if slices.Contains(aTasks, tk.ID) || (aID != "" && tk.User == aID) {
			out = append(out, fmt.Sprintf("%s (%q, user %s)", tk.ID, tk.Title, tk.User))
		}
	}
	return out, true
}

// listed reports whether the list answer holds the task id.
func listed(x *probe.Exchange, id string) bool {
	list, _ := parseList(x)
	return slices.ContainsFunc(list, func(tk task) bool { return tk.ID == id })
}

// authz.list-isolation
func listIsolation(ctx context.Context, t *check.Target) check.Result {
	us, res := probe.NeedPair(ctx, t)
	if res != nil {
		return *res
	}
	a, b := us.A, us.B
	first, err := fixture.NewTask(ctx, t, a, probe.Title(t, "list isolation"))
	if err != nil {
		return probe.ErrorResult("could not create A's task", err, nil)
	}
	defer probe.DeleteTask(ctx, t, first.ID, a, b)
	aTasks := []string{first.ID}

	var f probe.Tally
	const expected = "200 with none of A's tasks"
	lists := 0
	// bList lists as B and judges the answer; strict lists must answer
	// 200 (B's own list), filters may also be refused.
	bList := func(query, when string, strict bool) (*probe.Exchange, *check.Result) {
		x := do(ctx, t, http.MethodGet, "/api/tasks"+query, b, "as B "+when, nil)
		lists++
		switch {
		case x.Problem() != nil:
			r := probe.ErrorResult("B's list reached no verdict", x.Problem(), x)
			return nil, &r
		case x.Status == http.StatusOK:
			leaked, ok := leaks(x, a.ID, aTasks)
			if !ok {
				r := check.Errorf("B's list is not {tasks: [...]}", x.Evidence(expected, "not a task list"))
				return nil, &r
			}
			if len(leaked) > 0 {
				f.Note(probe.Fail, x.Evidence(expected, fmt.Sprintf("B's list %s carries %d of A's tasks: %s", when, len(leaked), strings.Join(leaked, ", "))))
			}
		case strict:
			r := unexpected("B cannot list B's own tasks", x, http.StatusOK)
			return nil, &r
		case x.Status >= 500:
			f.Note(probe.Warn, x.Evidence("200 without A's tasks, or a 4xx", fmt.Sprintf("%d: a server error", x.Status)))
		}
		return x, nil
	}

	// A warms whatever cache there is, then B asks the same thing at once.
	for _, q := range []string{"", "?page=1&limit=10"} {
		do(ctx, t, http.MethodGet, "/api/tasks"+q, a, "as A", nil)
		if _, r := bList(q, "right after A listed the same", true); r != nil {
			return *r
		}
	}
	// A writes, then B lists at once: a list cached across users, or one
	// invalidated for everyone and refilled with A's, shows here.
	second, err := fixture.NewTask(ctx, t, a, probe.Title(t, "list isolation after write"))
	if err != nil {
		return probe.ErrorResult("could not create A's second task", err, nil)
	}
	defer probe.DeleteTask(ctx, t, second.ID, a, b)
	aTasks = append(aTasks, second.ID)
	if _, r := bList("", "right after A created a task", true); r != nil {
		return *r
	}
	// B writes, then lists at once: B's own new task must be there, and
	// still none of A's.
	own, err := fixture.NewTask(ctx, t, b, probe.Title(t, "list isolation B"))
	if err != nil {
		return probe.ErrorResult("could not create B's task", err, nil)
	}
	defer probe.DeleteTask(ctx, t, own.ID, b, a)
	x, r := bList("", "right after B created a task", true)
	if r != nil {
		return *r
	}
	if !listed(x, own.ID) {
		f.Note(probe.Warn, x.Evidence("B's new task "+own.ID+" in B's list", "B's list right after B's write lacks it: a stale cached list"))
	}
	// Owner filters in the query must not widen the list to A's tasks.
	for _, key := range []string{"user", "userId", "owner"} {
		if _, r := bList("?"+key+"="+a.ID, "filtered by A's id", false); r != nil {
			return *r
		}
	}
	return f.Result("B's task list carries A's tasks",
		fmt.Sprintf("none of B's %d lists (after A's reads and writes, after B's write, filtered by A's id) carried A's tasks", lists))
}

// injected are the values of the fields a client must not set; they are
// unmistakable, so finding one in an answer proves it was assigned.
type injected struct {
	id, createdAt string
}

func newInjected() injected {
	return injected{id: probe.RandomHex(12), createdAt: "2000-01-01T00:00:00.000Z"}
}

// privileged are the names of privilege fields; present in an answer
// with the injected value, they were stored.
var privileged = map[string]any{"role": "admin", "isAdmin": true, "admin": true, "emailVerified": true}

// assigned lists the injected fields an object (a user or a task) shows.
func assigned(obj map[string]any, inj injected, idField string) []string {
	var out []string
	for k, v := range privileged {
		if got, ok := obj[k]; ok && got == v {
			out = append(out, fmt.Sprintf("%s = %v", k, got))
		}
	}
	if id, _ := obj[idField].(string); id == inj.id {
		out = append(out, fmt.Sprintf("%s = %s (the injected id)", idField, id))
	}
	if c, _ := obj["createdAt"].(string); strings.HasPrefix(c, "2000-01-01") {
		out = append(out, "createdAt = "+c+" (the injected timestamp)")
	}
	if v, ok := obj["__v"]; ok && v == float64(99) {
		out = append(out, "__v = 99")
	}
	return out
}

// authz.mass-assignment
func massAssignment(ctx context.Context, t *check.Target) check.Result {
	us, res := probe.NeedPair(ctx, t)
	if res != nil {
		return *res
	}
	b := us.B
	var f probe.Tally
	const expectedIgnored = "the extra fields ignored (or the request refused with 400)"

	// Register with privilege fields, an id and a creation date.
	inj := newInjected()
	regBody := map[string]any{
		"name": "Readiness Check", "email": fixture.Email(t), "password": fixture.Password,
		"_id": inj.id, "id": inj.id, "createdAt": inj.createdAt, "user": b.ID,
	}
	for k, v := range privileged {
		regBody[k] = v
	}
	reg := do(ctx, t, http.MethodPost, "/api/auth/register", nil, "", regBody)
	var a *fixture.User
	switch {
	case reg.Problem() != nil:
		return probe.ErrorResult("registering with extra fields reached no verdict", reg.Problem(), reg)
	case reg.Status/100 == 2:
		var v struct {
			Token string         `json:"token"`
			User  map[string]any `json:"user"`
		}
		if !reg.Decode(&v) || v.Token == "" || v.User == nil {
			return check.Errorf("register answered without {token, user}", reg.Evidence("201 {token, user}", "no token or user"))
		}
		id, _ := v.User["id"].(string)
		a = &fixture.User{ID: id, Email: regBody["email"].(string), Password: fixture.Password, Token: v.Token}
		if got := assigned(v.User, inj, "id"); len(got) > 0 {
			f.Note(probe.Fail, reg.Evidence(expectedIgnored, "the registered user shows "+strings.Join(got, ", ")))
		}
		prof := do(ctx, t, http.MethodGet, "/api/auth/profile", a, "as the new user", nil)
		var p struct {
			User map[string]any `json:"user"`
		}
		switch {
		case prof.Problem() != nil:
			return probe.ErrorResult("reading the new user's profile reached no verdict", prof.Problem(), prof)
		case prof.Status != http.StatusOK || !prof.Decode(&p) || p.User == nil:
			return unexpected("the new user cannot read its profile", prof, http.StatusOK)
		}
		if got := assigned(p.User, inj, "id"); len(got) > 0 {
			f.Note(probe.Fail, prof.Evidence(expectedIgnored+" in the stored user", "the stored profile shows "+strings.Join(got, ", ")))
		}
	case reg.Status == http.StatusBadRequest:
		// Refusing unknown fields is as good as ignoring them.
	case reg.Status >= 500:
		f.Note(probe.Warn, reg.Evidence(expectedIgnored, fmt.Sprintf("%d: a server error", reg.Status)))
	default:
		return unexpected("registering with extra fields", reg, http.StatusCreated)
	}
	if a == nil {
		p, err := probe.Pair(ctx, t)
		if err != nil {
			return probe.ErrorResult("could not register a fixture user", err, nil)
		}
		a = p.A
	}

	// Create a task naming B as its owner, with an id and timestamps.
	inj = newInjected()
	createBody := map[string]any{
		"title": probe.Title(t, "mass assignment"), "description": "d",
		"user": b.ID, "_id": inj.id, "createdAt": inj.createdAt, "updatedAt": inj.createdAt, "__v": 99,
	}
	for k, v := range privileged {
		createBody[k] = v
	}
	cr := do(ctx, t, http.MethodPost, "/api/tasks", a, "as A", createBody)
	var taskID string
	switch {
	case cr.Problem() != nil:
		return probe.ErrorResult("creating a task with extra fields reached no verdict", cr.Problem(), cr)
	case cr.Status/100 == 2:
		tk, ok := parseTask(cr)
		if !ok || tk.ID == "" {
			return check.Errorf("create answered without a task", cr.Evidence("201 {task}", "no task"))
		}
		taskID = tk.ID
		defer probe.DeleteTask(ctx, t, taskID, a, b)
		judgeTask(ctx, t, &f, cr, tk, a, b, inj, "")
	case cr.Status == http.StatusBadRequest:
	case cr.Status >= 500:
		f.Note(probe.Warn, cr.Evidence(expectedIgnored, fmt.Sprintf("%d: a server error", cr.Status)))
	default:
		return unexpected("creating a task with extra fields", cr, http.StatusCreated)
	}

	// Update it, handing it to B with a new id and creation date. When the
	// create was refused, or handed the task over, a plain task stands in.
	var before *task
	if taskID != "" {
		before, _ = readTask(ctx, t, a, "as A", taskID)
	}
	if before == nil {
		plain, err := fixture.NewTask(ctx, t, a, probe.Title(t, "mass assignment"))
		if err != nil {
			return probe.ErrorResult("could not create a fixture task", err, nil)
		}
		taskID = plain.ID
		defer probe.DeleteTask(ctx, t, taskID, a, b)
		var x *probe.Exchange
		if before, x = readTask(ctx, t, a, "as A", taskID); before == nil {
			return unexpected("A cannot read A's task", x, http.StatusOK)
		}
	}
	inj = newInjected()
	updBody := map[string]any{"status": "in-progress", "user": b.ID, "_id": inj.id, "createdAt": inj.createdAt, "__v": 99}
	for k, v := range privileged {
		updBody[k] = v
	}
	up := do(ctx, t, http.MethodPut, "/api/tasks/"+taskID, a, "as A", updBody)
	switch {
	case up.Problem() != nil:
		return probe.ErrorResult("updating with extra fields reached no verdict", up.Problem(), up)
	case up.Status/100 == 2:
		if tk, ok := parseTask(up); ok {
			judgeTask(ctx, t, &f, up, tk, a, b, inj, before.CreatedAt)
		}
	case up.Status == http.StatusBadRequest:
	case up.Status >= 500:
		f.Note(probe.Warn, up.Evidence(expectedIgnored, fmt.Sprintf("%d: a server error", up.Status)))
	default:
		return unexpected("updating a task with extra fields", up, http.StatusOK)
	}
	return f.Result("fields a client must not set were assigned",
		"user, _id, id, createdAt, updatedAt, __v, role, isAdmin, admin and emailVerified were ignored on register, create and update (checked in the stored user and task)")
}

// judgeTask checks a created or updated task, as answered (x, tk) and as
// stored: still A's, not under the injected id, not readable by B, no
// injected field; createdAt (when given) is the original one.
func judgeTask(ctx context.Context, t *check.Target, f *probe.Tally, x *probe.Exchange, tk *task, a, b *fixture.User, inj injected, createdAt string) {
	const expected = "the extra fields ignored: the task still A's, its own id and timestamps, no privilege fields"
	if got := assigned(tk.fields, inj, "_id"); len(got) > 0 {
		f.Note(probe.Fail, x.Evidence(expected, "the answer shows "+strings.Join(got, ", ")))
	}
	if a.ID != "" && tk.User != a.ID {
		f.Note(probe.Fail, x.Evidence(expected, fmt.Sprintf("the answer's user is %q, not A's %q", tk.User, a.ID)))
	}
	// The stored task, as its owner sees it.
	stored, rx := readTask(ctx, t, a, "as A, after", tk.ID)
	switch {
	case rx.Problem() != nil:
	case rx.Status == http.StatusNotFound:
		f.Note(probe.Fail, rx.Evidence(expected, "A can no longer read the task: it was handed to another user"))
	case stored != nil:
		if got := assigned(stored.fields, inj, "_id"); len(got) > 0 {
			f.Note(probe.Fail, rx.Evidence(expected, "the stored task shows "+strings.Join(got, ", ")))
		}
		if a.ID != "" && stored.User != a.ID {
			f.Note(probe.Fail, rx.Evidence(expected, fmt.Sprintf("the stored task's user is %q, not A's %q", stored.User, a.ID)))
		}
		if createdAt != "" && stored.CreatedAt != createdAt {
			f.Note(probe.Fail, rx.Evidence("createdAt unchanged: "+createdAt, "the stored createdAt is "+stored.CreatedAt))
		}
	}
	// Nothing under the injected id, and nothing for B.
	if ix := do(ctx, t, http.MethodGet, "/api/tasks/"+inj.id, a, "as A (the injected _id)", nil); ix.Problem() == nil && ix.Status == http.StatusOK {
		f.Note(probe.Fail, ix.Evidence("404: no task under the injected id", "200: a task is stored under the id the client chose"))
	}
	if bx := do(ctx, t, http.MethodGet, "/api/tasks/"+tk.ID, b, "as B (named as owner in the body)", nil); bx.Problem() == nil && bx.Status == http.StatusOK {
		f.Note(probe.Fail, bx.Evidence("404: B was only named in the body", "200: B can read the task"))
	}
}

// authz.no-password
func noPassword(ctx context.Context, t *check.Target) check.Result {
	var f probe.Tally
	seen := 0
	scan := func(x *probe.Exchange) {
		seen++
		if found := exposures(x.Body); len(found) > 0 {
			f.Note(probe.Fail, x.Evidence("no password, hash or password field in the answer", strings.Join(found, "; ")))
		}
	}
	email := fixture.Email(t)
	reg := do(ctx, t, http.MethodPost, "/api/auth/register", nil, "", map[string]string{"name": "Readiness Check", "email": email, "password": fixture.Password})
	if reg.Problem() != nil || reg.Status != http.StatusCreated {
		return unexpected("registering a fixture user", reg, http.StatusCreated)
	}
	scan(reg)
	var v struct {
		Token string `json:"token"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if !reg.Decode(&v) || v.Token == "" {
		return check.Errorf("register answered without a token", reg.Evidence("201 {token, user}", "no token"))
	}
	u := &fixture.User{ID: v.User.ID, Email: email, Password: fixture.Password, Token: v.Token}
	// The token's payload is readable by anyone who holds it.
	if parts := strings.Split(v.Token, "."); len(parts) == 3 {
		if payload, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			seen++
			if found := exposures(payload); len(found) > 0 {
				f.Note(probe.Fail, check.Evidence{Request: reg.Call(), Response: "the token's payload: " + probe.Excerpt(payload),
					Expected: "no password or hash in the token's payload", Observed: "the token's payload: " + strings.Join(found, "; ")})
			}
		}
	}
	login := do(ctx, t, http.MethodPost, "/api/auth/login", nil, "", map[string]string{"email": email, "password": fixture.Password})
	if login.Problem() != nil || login.Status != http.StatusOK {
		return unexpected("logging the fixture user in", login, http.StatusOK)
	}
	scan(login)
	scan(do(ctx, t, http.MethodGet, "/api/auth/profile", u, "as the user", nil))
	cr := do(ctx, t, http.MethodPost, "/api/tasks", u, "as the user", map[string]string{"title": probe.Title(t, "no password")})
	tk, ok := parseTask(cr)
	if cr.Problem() != nil || !ok || tk.ID == "" {
		return unexpected("creating a task", cr, http.StatusCreated)
	}
	defer probe.DeleteTask(ctx, t, tk.ID, u)
	scan(cr)
	scan(do(ctx, t, http.MethodGet, "/api/tasks/"+tk.ID, u, "as the user", nil))
	scan(do(ctx, t, http.MethodGet, "/api/tasks", u, "as the user", nil))
	scan(do(ctx, t, http.MethodPut, "/api/tasks/"+tk.ID, u, "as the user", map[string]string{"status": "completed"}))
	return f.Result("an answer carries a password or its hash",
		fmt.Sprintf("none of %d answers (register, its token, login, profile, task create/read/list/update) carries a password, a hash or a password field", seen))
}

var (
	// passwordKey names a field that holds a password or its hash.
	passwordKey = regexp.MustCompile(`(?i)^(?:passwd|pwd|pass|hash|salt|[a-z_]*password[a-z_]*)$`)
	// hashValue is a modular-crypt hash: bcrypt ($2a$, $2b$, $2y$),
	// argon2, scrypt, pbkdf2.
	hashValue = regexp.MustCompile(`\$(?:2[abxy]?|argon2(?:id|i|d)|scrypt|pbkdf2[-\w]*)\$\d*\$?[./A-Za-z0-9+=,$-]{10,}`)
)

// exposures lists what in body exposes a password: a password-ish field
// (at any depth), a password hash anywhere, or the fixture password.
func exposures(body []byte) []string {
	var out []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				p := k
				if path != "" {
					p = path + "." + k
				}
				if passwordKey.MatchString(k) {
					out = append(out, fmt.Sprintf("field %s is present", p))
				}
				walk(p, c)
			}
		case []any:
			for i, c := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), c)
			}
		}
	}
	var doc any
	if json.Unmarshal(body, &doc) == nil {
		walk("", doc)
	}
	if m := hashValue.Find(body); m != nil {
		out = append(out, fmt.Sprintf("a password hash (%s…, %d bytes)", m[:min(len(m), 7)], len(m)))
	}
	if strings.Contains(string(body), fixture.Password) {
		out = append(out, "the user's plaintext password")
	}
	return out
}
